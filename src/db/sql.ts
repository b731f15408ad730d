import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { QueryError } from '../errors.js';
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
    throw toQueryError(error, what);
  }
}

export function toQueryError(error: unknown, what: string): QueryError {
  const e = error as PgDatabaseError;
  return new QueryError(`${what} failed: ${e.message}`, e.code, {
    hint: e.hint ?? (e.code === '42501' ? 'the connecting role lacks a privilege; connect as the database owner or grant it' : undefined),
    detail: e.detail,
    cause: error,
  });
}
