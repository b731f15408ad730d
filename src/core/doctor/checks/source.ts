/**
 * Source readiness for a long, consistent read: a snapshot can be exported, timeouts will not
 * cut a COPY short, every table can be read, and wal_level for a later `sync`.
 */
import type { Check, CheckOutcome } from '../../../checks/types.js';
import { loadSql, query } from '../../../db/sql.js';
import { HANDLED_MANAGED_SCHEMAS, MANAGED_SCHEMAS } from '../../supabase/platform.js';
import { unavailable, type DoctorContext, type ReadySide } from '../context.js';

/** `source.wal-level`: logical decoding is needed later by `sync`. */
export const walLevelCheck: Check<DoctorContext> = {
  id: 'source.wal-level',
  title: 'Source wal_level',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.source);
    if (skip) return skip;
    const f = (ctx.source as ReadySide).facts;
    const evidence = { walLevel: f.wal_level, replicationPrivilege: f.can_replicate || f.is_superuser };
    if (f.wal_level === 'logical') {
      const note = evidence.replicationPrivilege ? '' : ` (${f.current_user} lacks REPLICATION, which sync will need)`;
      return { status: 'pass', detail: `wal_level = logical: ready for a later \`sync\`${note}`, evidence };
    }
    return {
      status: 'warn',
      detail: `wal_level = ${f.wal_level}: dump and copy work, but \`sync\` (logical replication for a near-zero-downtime cutover) will not`,
      hint: 'ALTER SYSTEM SET wal_level = logical and restart the source (hosted Supabase already runs with logical)',
      evidence,
    };
  },
};

/** `source.snapshot`: a REPEATABLE READ READ ONLY transaction can export its snapshot. */
export const snapshotCheck: Check<DoctorContext> = {
  id: 'source.snapshot',
  title: 'Source snapshot export',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.source);
    if (skip) return skip;
    const client = (ctx.source as ReadySide).client;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows } = await client.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot');
      return {
        status: 'pass',
        detail: 'pg_export_snapshot() works: every reader can share one consistent snapshot',
        evidence: { snapshot: rows[0]?.snapshot },
      };
    } catch (error) {
      const e = error as { message?: string; code?: string };
      return {
        status: 'fail',
        detail: `cannot export a snapshot: ${e.message ?? String(error)}`,
        hint: 'connect directly or through the session pooler (port 5432), not a transaction pooler; a standby cannot export snapshots while it replays',
        evidence: { sqlstate: e.code },
      };
    } finally {
      await client.query('ROLLBACK').catch(() => {});
    }
  },
};

const TIMEOUTS = ['statement_timeout', 'idle_in_transaction_session_timeout', 'idle_session_timeout', 'lock_timeout', 'transaction_timeout'] as const;
type TimeoutName = (typeof TIMEOUTS)[number];

/** `source.timeouts`: timeouts that could kill a long COPY or an idle snapshot holder. */
export const timeoutsCheck: Check<DoctorContext> = {
  id: 'source.timeouts',
  title: 'Source timeouts',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.source);
    if (skip) return skip;
    const source = ctx.source as ReadySide;
    const f = source.facts;
    const values: Record<TimeoutName, string | null> = {
      statement_timeout: f.statement_timeout,
      idle_in_transaction_session_timeout: f.idle_in_transaction_session_timeout,
      idle_session_timeout: f.idle_session_timeout,
      lock_timeout: f.lock_timeout,
      transaction_timeout: f.transaction_timeout,
    };
    const set = TIMEOUTS.filter((k) => values[k] !== null && values[k] !== '0');
    if (set.length === 0) return { status: 'pass', detail: 'no statement, lock or idle timeouts on the source role', evidence: values };
    // Where does each come from: ALTER ROLE, ALTER DATABASE, or the server's configuration?
    const settings = await query<{ role: string; database: string; settings: string[] }>(source.client, loadSql('doctor/role-settings.sql'), [], 'read role settings');
    const origin = (name: string): string => {
      for (const s of settings) {
        if (s.settings.some((kv) => kv.startsWith(`${name}=`))) {
          if (s.role && s.database) return `ALTER ROLE ${s.role} IN DATABASE ${s.database}`;
          if (s.role) return `ALTER ROLE ${s.role}`;
          if (s.database) return `ALTER DATABASE ${s.database}`;
        }
      }
      return 'server configuration';
    };
    // offramp turns them off in its own sessions; prove that it may.
    let overridable = false;
    try {
      await source.client.query('BEGIN READ ONLY');
      for (const k of set) await source.client.query(`SET LOCAL ${k} = 0`);
      overridable = true;
    } catch {
      overridable = false;
    } finally {
      await source.client.query('ROLLBACK').catch(() => {});
    }
    const list = set.map((k) => `${k} = ${values[k]} (${origin(k)})`);
    return {
      status: 'warn',
      detail: `${list.join(', ')}; offramp ${overridable ? 'sets them to 0 in its own sessions (checked)' : 'could NOT override them per session'}`,
      hint: `a pooler, proxy or a tool run by hand may still be cut off; to lift them for good: ${set.map((k) => `ALTER ROLE "${f.current_user}" SET ${k} = 0`).join('; ')}`,
      evidence: { ...values, origins: Object.fromEntries(set.map((k) => [k, origin(k)])), overridablePerSession: overridable },
    };
  },
};

/** Platform bookkeeping tables offramp never reads (the Supabase CLI leaves them out too). */
const NEVER_READ = ['auth.schema_migrations', 'storage.migrations', 'supabase_functions.migrations'];

/** `source.read-access`: every table and sequence the copy will read is readable. */
export const readAccessCheck: Check<DoctorContext> = {
  id: 'source.read-access',
  title: 'Source tables readable',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.source);
    if (skip) return skip;
    const source = ctx.source as ReadySide;
    const handled = Object.keys(HANDLED_MANAGED_SCHEMAS);
    const rows = await query<{ schema: string; name: string; kind: string; managed: boolean }>(
      source.client,
      loadSql('doctor/unreadable-relations.sql'),
      [handled, [...MANAGED_SCHEMAS], NEVER_READ],
      'check read access',
    );
    const who = source.facts.current_user;
    const user = rows.filter((r) => !r.managed).map((r) => `${r.schema}.${r.name}`);
    const managed = rows.filter((r) => r.managed).map((r) => `${r.schema}.${r.name}`);
    const evidence = { unreadable: user, unreadableManaged: managed };
    const sample = (names: string[]): string => `${names.slice(0, 5).join(', ')}${names.length > 5 ? `, … (${names.length})` : ''}`;
    if (user.length > 0) {
      return {
        status: 'fail',
        detail: `${who} cannot read ${sample(user)}`,
        hint: `GRANT SELECT ON ALL TABLES IN SCHEMA … TO "${who}" (and on sequences), or connect as the owner (on Supabase: postgres)`,
        evidence,
      };
    }
    if (managed.length > 0) {
      return {
        status: 'warn',
        detail: `${who} cannot read ${sample(managed)} (auth/storage data that later stages move)`,
        hint: `connect as postgres, or GRANT SELECT on them to "${who}"`,
        evidence,
      };
    }
    return { status: 'pass', detail: `${who} can read every user table and sequence (and those in ${handled.join(', ')})`, evidence };
  },
};
