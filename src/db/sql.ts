import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { CONNECTION_LOST_HINT, ConnectionLostError, isConnectionLoss, OfframpError, QueryError, type ServerSide } from '../errors.js';
import { sideOf } from './sessions.js';
import { PACKAGE_ROOT } from '../version.js';

const cache = new Map<string, string>();

/** Read a file from the package's sql/ folder (cached). */
export function loadSql(relativePath: string): string {
  let text = cache.get(relativePath);
  if (text === undefined) {
    text = readFileSync(join(PACKAGE_ROOT, 'sql', relativePath), 'utf8');
    cache.set(relativePath, text);
  }
  return text;
}

interface PgDatabaseError extends Error {
  code?: string;
  detail?: string;
  hint?: string;
  position?: string;
}

/** Run a query; a server error becomes a QueryError naming what was being done. */
export async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(
  client: pg.ClientBase,
  text: string,
  values: unknown[] = [],
  what = 'query',
): Promise<R[]> {
  try {
    return (await client.query<R>(text, values)).rows;
  } catch (error) {
    throw toQueryError(error, what, sideOf(client as pg.Client), (client as pg.Client).user);
  }
}

const quoted = (name: string): string => `"${name.replace(/^"|"$/g, '').replace(/"/g, '""')}"`;

/** What to GRANT for a "permission denied" (42501), read from the server's message. */
export function privilegeHint(message: string, role?: string): string {
  const who = role ? quoted(role) : 'the connecting role';
  const database = /permission denied for database (\S+)/.exec(message)?.[1];
  if (database) return `${who} may not create schemas in database ${quoted(database)}: as its owner or a superuser, GRANT CREATE ON DATABASE ${quoted(database)} TO ${who}; or connect as the database owner`;
  const schema = /permission denied for schema (\S+)/.exec(message)?.[1];
  if (schema) return `${who} lacks rights on schema ${quoted(schema)}: GRANT USAGE, CREATE ON SCHEMA ${quoted(schema)} TO ${who}; or connect as the database owner`;
  if (/permission denied to create role|must have CREATEROLE/i.test(message)) return `${who} may not create roles: ALTER ROLE ${who} CREATEROLE, or create the listed roles on the target first`;
  if (/must be owner of/i.test(message)) return `${who} does not own the object: connect as its owner (the database owner), or ALTER ... OWNER TO ${who}`;
  return `${who} lacks a privilege: connect as the database owner, or GRANT what the message names`;
}

/**
 * A failed statement as offramp reports it: a lost connection (server restart, network) is a
 * ConnectionLostError naming the side, a missing privilege a PERMISSION_DENIED QueryError, anything
 * else a QueryError with the server's hint. Errors already classified pass through unchanged.
 */
export function toQueryError(error: unknown, what: string, side?: ServerSide, role?: string): OfframpError {
  if (error instanceof OfframpError) return error;
  const e = error as PgDatabaseError;
  if (isConnectionLoss(error)) {
    return new ConnectionLostError(side, `the connection to the ${side ?? 'server'} was lost during ${what} (${e.message})`, {
      hint: CONNECTION_LOST_HINT,
      cause: error,
    });
  }
  return new QueryError(`${what} failed: ${e.message}`, e.code, {
    hint: e.hint ?? (e.code === '42501' ? privilegeHint(e.message, role) : undefined),
    detail: e.detail,
    cause: error,
  });
}
