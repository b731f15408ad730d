/**
 * The context doctor's checks run against: one handle per side (source, target) that connects
 * once, remembers why it could not, and caches what the checks ask the server. Checks written
 * against this context (connectivity, versions, extensions) are reused by validate, cutover gates
 * and rollback triggers, which build the same context for their own runs.
 */
import type pg from 'pg';
import { connect } from '../../db/connect.js';
import { loadSql, query } from '../../db/sql.js';
import { parseConnectionUrl, type ConnectionInfo } from '../../db/url.js';
import { ConnectionError, OfframpError, type ConnectionDiagnosis } from '../../errors.js';
import type { CheckOutcome } from '../../checks/types.js';
import { findClientTools, type ClientTools } from '../../db/pg-tools.js';

export type SideName = 'source' | 'target';

/** What `sql/doctor/server-facts.sql` returns. */
export interface ServerFacts {
  version_num: number;
  version: string;
  version_full: string;
  current_user: string;
  database: string;
  database_oid: string;
  system_identifier: string | null;
  started_at: string;
  is_superuser: boolean;
  can_create_role: boolean;
  can_create_db: boolean;
  can_replicate: boolean;
  role_conn_limit: number;
  database_conn_limit: number;
  can_create_schema: boolean;
  owns_database: boolean;
  database_owner: string;
  in_recovery: boolean;
  default_read_only: string;
  wal_level: string;
  max_connections: number;
  reserved_connections: number;
  connections_in_use: number;
  role_connections_in_use: number;
  database_connections_in_use: number;
  statement_timeout: string;
  lock_timeout: string;
  idle_in_transaction_session_timeout: string;
  idle_session_timeout: string | null;
  transaction_timeout: string | null;
  encoding: string;
  collate: string;
  ctype: string;
  database_size: string;
  data_directory: string | null;
  port: number;
}

/** Why a side could not be used, when it could not. */
export interface SideFailure {
  diagnosis: ConnectionDiagnosis;
  message: string;
  hint?: string;
}

export interface Side {
  name: SideName;
  /** The URL as given (may hold a password: never show it; use `info.masked`). */
  url?: string;
  info?: ConnectionInfo;
  client?: pg.Client;
  facts?: ServerFacts;
  failure?: SideFailure;
}

export interface DoctorSettings {
  connectTimeoutSeconds: number;
  skipDisk: boolean;
  /** Parallel workers the copy will use; sizes the connection check. */
  jobs: number;
  /** Where the copy puts the source's `extensions` schema's extensions (--extensions-schema). */
  extensionsSchema: string;
  /** --owner-map of the copy: source role → target role. */
  ownerMap: Record<string, string>;
}

export interface DoctorContext {
  source: Side;
  target: Side;
  settings: DoctorSettings;
  /** pg_dump / pg_restore found on this machine (looked up once). */
  clientTools(): Promise<ClientTools>;
  /** Per-check query cache so that two checks asking the same thing ask the server once. */
  cache: Map<string, Promise<unknown>>;
}

export function newSide(name: SideName, url: string | undefined): Side {
  return { name, url };
}

export function newDoctorContext(source: string | undefined, target: string | undefined, settings: DoctorSettings): DoctorContext {
  let tools: Promise<ClientTools> | undefined;
  return {
    source: newSide('source', source),
    target: newSide('target', target),
    settings,
    clientTools: () => (tools ??= findClientTools()),
    cache: new Map(),
  };
}

const connecting = new WeakMap<Side, Promise<Side>>();

/**
 * Connect a side (once) and read its server facts. Never throws: a failure is kept on the side
 * with its diagnosis, so every later check can say "not reachable" instead of failing again.
 */
export function openSide(side: Side, timeoutSeconds: number): Promise<Side> {
  let pending = connecting.get(side);
  if (!pending) {
    pending = (async () => {
      if (!side.url) return side;
      try {
        side.info = parseConnectionUrl(side.url, `${side.name} URL`);
      } catch (error) {
        const e = error as OfframpError;
        side.failure = { diagnosis: 'invalid-url', message: e.message, hint: e.hint };
        return side;
      }
      try {
        side.client = await connect(side.info, { role: side.name, timeoutSeconds, applicationName: `offramp-doctor-${side.name}` });
        side.facts = (await query<ServerFacts>(side.client, loadSql('doctor/server-facts.sql'), [], `${side.name} server facts`))[0];
      } catch (error) {
        if (error instanceof ConnectionError) {
          side.failure = { diagnosis: error.diagnosis, message: error.message, hint: error.hint };
        } else {
          const e = error as OfframpError;
          side.failure = { diagnosis: 'other', message: e.message ?? String(error), hint: e.hint };
        }
        await closeSide(side);
      }
      return side;
    })();
    connecting.set(side, pending);
  }
  return pending;
}

export async function closeSide(side: Side): Promise<void> {
  const client = side.client;
  side.client = undefined;
  if (client) await client.end().catch(() => {});
}

/** A side that is connected, with its facts. */
export interface ReadySide extends Side {
  info: ConnectionInfo;
  client: pg.Client;
  facts: ServerFacts;
}

export function isReady(side: Side): side is ReadySide {
  return Boolean(side.client && side.facts && side.info);
}

/** Why a check cannot run for want of this side, or undefined when the side is usable. */
export function unavailable(side: Side): CheckOutcome | undefined {
  if (!side.url) return { status: 'skip', detail: `no ${side.name} given` };
  if (!isReady(side)) return { status: 'skip', detail: `${side.name} not reachable` };
  return undefined;
}

/** Run a query at most once per context (several checks read the same catalog rows). */
export function cached<T>(ctx: DoctorContext, key: string, load: () => Promise<T>): Promise<T> {
  let hit = ctx.cache.get(key) as Promise<T> | undefined;
  if (!hit) {
    hit = load();
    ctx.cache.set(key, hit);
  }
  return hit;
}

/** Major version from server_version_num (150008 → 15). */
export function majorOf(versionNum: number): number {
  return Math.floor(versionNum / 10000);
}

/** A server version for people: "15.8" from "15.8 (Debian …)". */
export function shortVersion(facts: ServerFacts): string {
  return facts.version.split(' ')[0] ?? facts.version;
}
