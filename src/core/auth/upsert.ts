/**
 * Moving the users: each source auth table is streamed (COPY, inside the one source snapshot)
 * into a temporary table of the target's transaction, then upserted into the local table with
 * `ON CONFLICT (id) DO UPDATE ... WHERE (row) IS DISTINCT FROM`, so an unchanged user is not even
 * rewritten (a second run changes nothing). Rows never pass through JavaScript: password hashes,
 * refresh tokens and TOTP secrets cannot reach a log line.
 */
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { quoteIdent } from '../../db/sql-parse.js';
import { query, toQueryError } from '../../db/sql.js';
import { OfframpError, QueryError } from '../../errors.js';
import { displayName, type QualifiedName } from './layout.js';
import type { PlannedTable } from './tables.js';

export interface TableCounts {
  /** Rows on the source. */
  source: number;
  inserted: number;
  updated: number;
  unchanged: number;
  /** Rows on the target the source no longer has, removed (sessions, tokens, factors, identities of carried users). */
  removed: number;
}

const qualified = (q: QualifiedName): string => `${quoteIdent(q.schema)}.${quoteIdent(q.name)}`;

/**
 * A failed write, without the server's DETAIL: "Failing row contains (...)" would print a
 * password hash or a token. The message and SQLSTATE stay; a duplicate key gets a hint.
 */
function writeError(error: unknown, what: string): OfframpError {
  const e = toQueryError(error, what, 'target');
  if (!(e instanceof QueryError)) return e;
  const hint = e.sqlstate === '23505'
    ? 'a user only on the target holds the same email, phone or identity as a source user: `auth migrate --yes` removes users the source no longer has'
    : e.hint;
  return new QueryError(e.message, e.sqlstate, hint ? { hint } : {});
}

/** The source columns of one auth table, as the SELECT of its COPY (a column GoTrue added later falls back). */
function sourceSelect(sourceTable: string, planned: PlannedTable, sourceColumns: string[]): string {
  const list = planned.columns.filter((c) => !c.generated).map((c) => {
    if (!sourceColumns.includes(c.name)) return `${c.fallback ?? 'NULL'}::${c.type} AS ${quoteIdent(c.name)}`;
    // enums (aal, factor_type, status) are text locally; text output is the same either way
    return `${quoteIdent(c.name)}${c.type === 'text' ? '::text' : ''}`;
  });
  return `SELECT ${list.join(', ')} FROM auth.${quoteIdent(sourceTable)}`;
}

/** The temporary table a source table is staged in. */
export const tempName = (sourceTable: string): string => `offramp_auth_${sourceTable}`;

/**
 * Stream one source table into a temporary table (dropped at commit) on the target transaction.
 * The source session must be inside its snapshot; the target inside its transaction.
 */
export async function stageTable(src: pg.Client, tgt: pg.Client, sourceTable: string, planned: PlannedTable, sourceColumns: string[]): Promise<number> {
  const written = planned.columns.filter((c) => !c.generated);
  const temp = quoteIdent(tempName(sourceTable));
  try {
    await tgt.query(`CREATE TEMP TABLE ${temp} (${written.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')}) ON COMMIT DROP`);
    const sink = tgt.query(copyFrom(`COPY ${temp} (${written.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN`));
    const out = src.query(copyTo(`COPY (${sourceSelect(sourceTable, planned, sourceColumns)}) TO STDOUT`));
    await pipeline(out, sink);
    return Number(sink.rowCount ?? 0);
  } catch (error) {
    throw writeError(error, `reading auth.${sourceTable} into the target`);
  }
}

/** Upsert the staged rows into the local table; counts of inserted and updated rows. */
export async function upsertStaged(tgt: pg.Client, sourceTable: string, planned: PlannedTable): Promise<{ inserted: number; updated: number }> {
  const written = planned.columns.filter((c) => !c.generated);
  const id = written.find((c) => c.name === 'id')!;
  const rest = written.filter((c) => c !== id);
  const locals = written.map((c) => quoteIdent(c.local)).join(', ');
  const sql = `
    WITH up AS (
      INSERT INTO ${qualified(planned.table)} AS cur (${locals})
      SELECT ${written.map((c) => quoteIdent(c.name)).join(', ')} FROM ${quoteIdent(tempName(sourceTable))}
      ON CONFLICT (${quoteIdent(id.local)}) DO UPDATE
        SET ${rest.map((c) => `${quoteIdent(c.local)} = EXCLUDED.${quoteIdent(c.local)}`).join(', ')}
        WHERE (${rest.map((c) => `cur.${quoteIdent(c.local)}`).join(', ')}) IS DISTINCT FROM (${rest.map((c) => `EXCLUDED.${quoteIdent(c.local)}`).join(', ')})
      RETURNING (xmax = 0) AS inserted)
    SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*) FILTER (WHERE NOT inserted)::int AS updated FROM up`;
  try {
    const rows = await query<{ inserted: number; updated: number }>(tgt, sql, [], `upserting into ${displayName(planned.table)}`);
    return rows[0]!;
  } catch (error) {
    throw writeError(error, `upserting into ${displayName(planned.table)}`);
  }
}

/**
 * Remove target rows the source no longer has. `scope` narrows it (identities: only those of
 * users the source still has, so a user kept only on the target keeps its identities).
 */
export async function removeStale(tgt: pg.Client, sourceTable: string, planned: PlannedTable, scope?: string): Promise<number> {
  const id = planned.columns.find((c) => c.name === 'id')!;
  const sql = `DELETE FROM ${qualified(planned.table)} AS cur
     WHERE NOT EXISTS (SELECT 1 FROM ${quoteIdent(tempName(sourceTable))} AS s WHERE s.id = cur.${quoteIdent(id.local)})${scope ? ` AND ${scope}` : ''}`;
  try {
    return (await tgt.query(sql)).rowCount ?? 0;
  } catch (error) {
    throw writeError(error, `removing from ${displayName(planned.table)} what the source no longer has`);
  }
}

/** Users on the target the source no longer has (deleted on Supabase after an earlier run). */
export async function usersOnlyOnTarget(tgt: pg.Client, users: PlannedTable): Promise<string[]> {
  const id = quoteIdent(users.columns.find((c) => c.name === 'id')!.local);
  const rows = await query<{ id: string }>(tgt, `SELECT cur.${id}::text AS id FROM ${qualified(users.table)} AS cur
     WHERE NOT EXISTS (SELECT 1 FROM ${quoteIdent(tempName('users'))} AS s WHERE s.id = cur.${id}) ORDER BY 1`, [], 'finding users the source no longer has');
  return rows.map((r) => r.id);
}

/** After carrying refresh tokens: the local sequence continues above the highest id. */
export async function advanceSequence(tgt: pg.Client, table: QualifiedName): Promise<void> {
  await query(tgt, `SELECT setval(pg_get_serial_sequence($1, 'id'), greatest((SELECT max(id) FROM ${qualified(table)}), 1))`, [qualified(table)], 'advancing the refresh-token sequence');
}
