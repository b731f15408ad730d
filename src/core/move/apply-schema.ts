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

/** Statement-level split of an entry (dump entries put one statement per line end `;`). */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current = '';
  let inDollar: string | null = null;
  let inQuote = false;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    current += ch;
    if (inDollar) {
      if (ch === '$' && sql.startsWith(inDollar, i)) {
        current += sql.slice(i + 1, i + inDollar.length);
        i += inDollar.length - 1;
        inDollar = null;
      }
      continue;
    }
    if (inQuote) {
      if (ch === "'") inQuote = false;
      continue;
    }
    if (ch === "'") inQuote = true;
    else if (ch === '$') {
      const m = /^\$[A-Za-z_0-9]*\$/.exec(sql.slice(i));
      if (m) {
        inDollar = m[0];
        current += m[0].slice(1);
        i += m[0].length - 1;
      }
    } else if (ch === ';') {
      if (current.trim()) out.push(current.trim());
      current = '';
    }
  }
  if (current.trim()) out.push(current.trim());
  return out;
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

/** A PRIMARY KEY / UNIQUE constraint split into an index build and a quick attach. */
export function splitKeyConstraint(sql: string): { index: string; attach: string } | undefined {
  const m = /^ALTER TABLE ONLY ((?:"(?:[^"]|"")+"\.)?"(?:[^"]|"")+")\s+ADD CONSTRAINT ("(?:[^"]|"")+") (PRIMARY KEY|UNIQUE) \(([^()]+)\)(\s+DEFERRABLE(?: INITIALLY (?:DEFERRED|IMMEDIATE))?)?;?$/s.exec(sql.trim());
  if (!m) return undefined;
  const [, table, name, kind, cols, deferrable] = m;
  return {
    index: `CREATE UNIQUE INDEX ${name} ON ${table} USING btree (${cols})`,
    attach: `ALTER TABLE ONLY ${table} ADD CONSTRAINT ${name} ${kind} USING INDEX ${name}${deferrable ?? ''}`,
  };
}

export interface PostDataPlan {
  /** Built in parallel (index builds; SHARE locks do not block each other). */
  indexes: Array<{ entry: DumpEntry; sql: string; weight: number }>;
  /** Run in dump order after the indexes. */
  sequential: Array<{ entry: DumpEntry; sql: string }>;
  /** Foreign keys, in parallel, last. */
  foreignKeys: Array<{ entry: DumpEntry; sql: string; weight: number }>;
}

/** The table an index or constraint entry belongs to ("schema"."table" as written by pg_dump). */
export function entryTable(sql: string): string | undefined {
  return (
    /\bON (?:ONLY )?((?:"(?:[^"]|"")+"\.)?"(?:[^"]|"")+")/.exec(sql)?.[1] ??
    /^ALTER TABLE (?:ONLY )?((?:"(?:[^"]|"")+"\.)?"(?:[^"]|"")+")/.exec(sql.trim())?.[1]
  );
}

export function planPostData(entries: DumpEntry[], partitioned: Set<string>, tableBytes: Map<string, number>): PostDataPlan {
  const plan: PostDataPlan = { indexes: [], sequential: [], foreignKeys: [] };
  for (const entry of entries) {
    const table = entryTable(entry.sql);
    const weight = (table && tableBytes.get(table)) || 0;
    const onPartitioned = table ? partitioned.has(table) : false;
    if (entry.type === 'INDEX' && !onPartitioned && !/\bON ONLY\b/.test(entry.sql)) {
      plan.indexes.push({ entry, sql: entry.sql, weight });
    } else if (entry.type === 'CONSTRAINT' && !onPartitioned) {
      const split = splitKeyConstraint(entry.sql);
      if (split) {
        plan.indexes.push({ entry, sql: split.index, weight });
        plan.sequential.push({ entry, sql: split.attach });
      } else {
        plan.sequential.push({ entry, sql: entry.sql });
      }
    } else if (entry.type === 'FK CONSTRAINT') {
      plan.foreignKeys.push({ entry, sql: entry.sql, weight });
    } else {
      plan.sequential.push({ entry, sql: entry.sql });
    }
  }
  plan.indexes.sort((a, b) => b.weight - a.weight);
  plan.foreignKeys.sort((a, b) => b.weight - a.weight);
  return plan;
}
