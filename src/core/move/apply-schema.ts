/**
 * Applying pg_dump's entries to the target. Pre-data runs in one transaction with a savepoint per
 * entry: an entry that needs something the target will only get from a later stage (auth.uid(),
 * auth.users, a platform extension) is deferred with the reason instead of breaking the load.
 * Post-data runs in three phases: indexes (primary keys and unique constraints as CREATE UNIQUE
 * INDEX) in parallel, then everything else in dump order (constraints attached USING INDEX,
 * triggers, policies, partition index attaches), then foreign keys in parallel.
 */
import type pg from 'pg';
import type { DumpEntry } from './dump-sql.js';
import { isIndexOnOnly, splitKeyConstraint, statementTable } from './sql-rewrite.js';
import { faultPoint } from './fault-points.js';

export interface DeferredObject {
  type: string;
  name: string;
  schema: string | null;
  reason: string;
  /** The SQL to run once the reason is gone (auth and RLS stages). */
  sql: string;
}

/**
 * SQLSTATEs meaning "something this object needs is not on the target yet" (undefined function, table,
 * object or schema, ...): the object is deferred with the reason instead of failing the load.
 */
export const DEFERRABLE_SQLSTATES: ReadonlySet<string> = new Set(['42883', '42P01', '42704', '3F000', '42P17', '0A000']);

export interface EntryFailure {
  entry: DumpEntry;
  message: string;
  sqlstate?: string;
}

/** Run pre-data entries inside the caller's transaction; returns what had to be deferred. */
export async function applyPreData(
  client: pg.ClientBase,
  entries: DumpEntry[],
  rewriteTable: (entry: DumpEntry) => { sql: string; deferred: DeferredObject[] } | undefined,
): Promise<{ applied: number; deferred: DeferredObject[]; fatal: EntryFailure[] }> {
  const deferred: DeferredObject[] = [];
  const fatal: EntryFailure[] = [];
  let applied = 0;
  for (const entry of entries) {
    const attempt = async (sql: string): Promise<{ ok: true } | { ok: false; message: string; sqlstate?: string }> => {
      await client.query('SAVEPOINT offramp_entry');
      try {
        await client.query(sql);
        await client.query('RELEASE SAVEPOINT offramp_entry');
        return { ok: true };
      } catch (error) {
        await client.query('ROLLBACK TO SAVEPOINT offramp_entry');
        const e = error as { message: string; code?: string };
        return { ok: false, message: e.message, sqlstate: e.code };
      }
    };
    let result = await attempt(entry.sql);
    if (!result.ok && entry.type === 'TABLE') {
      const rewritten = rewriteTable(entry);
      if (rewritten) {
        result = await attempt(rewritten.sql);
        if (result.ok) deferred.push(...rewritten.deferred);
      }
    }
    if (result.ok) {
      applied++;
    } else if (entry.type !== 'TABLE' && DEFERRABLE_SQLSTATES.has(result.sqlstate ?? '')) {
      deferred.push({ type: entry.type, name: entry.name, schema: entry.schema, reason: result.message, sql: entry.sql });
    } else {
      fatal.push({ entry, message: result.message, sqlstate: result.sqlstate });
    }
    await faultPoint('pre-data');
  }
  return { applied, deferred, fatal };
}

/** One post-data statement to run, with the entry it came from and the table it belongs to. */
export interface PostDataStep {
  entry: DumpEntry;
  sql: string;
  /** "schema"."table" as read from the parse tree (index builds wait for that table's data). */
  table?: string;
}

export interface PostDataPlan {
  /** Built in parallel (index builds; SHARE locks do not block each other). */
  indexes: Array<PostDataStep & { weight: number }>;
  /** Run in dump order after the indexes. */
  sequential: PostDataStep[];
  /** Foreign keys, in parallel, last. */
  foreignKeys: Array<PostDataStep & { weight: number }>;
}

export function planPostData(entries: DumpEntry[], partitioned: Set<string>, tableBytes: Map<string, number>): PostDataPlan {
  const plan: PostDataPlan = { indexes: [], sequential: [], foreignKeys: [] };
  for (const entry of entries) {
    // Only what is built in parallel needs its table (to wait for its data, and for its weight).
    const first = ['INDEX', 'CONSTRAINT', 'FK CONSTRAINT'].includes(entry.type) ? entry.statements[0] : undefined;
    const table = statementTable(first);
    const weight = (table && tableBytes.get(table)) || 0;
    const onPartitioned = table ? partitioned.has(table) : false;
    if (entry.type === 'INDEX' && !onPartitioned && !isIndexOnOnly(first)) {
      plan.indexes.push({ entry, sql: entry.sql, weight, table });
    } else if (entry.type === 'CONSTRAINT' && !onPartitioned) {
      const split = entry.statements.length === 1 ? splitKeyConstraint(first!) : undefined;
      if (split) {
        plan.indexes.push({ entry, sql: split.index, weight, table });
        plan.sequential.push({ entry, sql: split.attach, table });
      } else {
        plan.sequential.push({ entry, sql: entry.sql, table });
      }
    } else if (entry.type === 'FK CONSTRAINT') {
      plan.foreignKeys.push({ entry, sql: entry.sql, weight, table });
    } else {
      plan.sequential.push({ entry, sql: entry.sql, table });
    }
  }
  plan.indexes.sort((a, b) => b.weight - a.weight);
  plan.foreignKeys.sort((a, b) => b.weight - a.weight);
  return plan;
}
