/**
 * Content hashes computed by the servers. Each row's canonical text (see rowsql.ts) is hashed into
 * two 64-bit values; a chunk's digest is (row count, sum of the first, sum of the second), which is
 * independent of row order and counts duplicates, so tables without a key compare as multisets.
 *
 * Chunks: for a keyed table, ranges of the first key column with about `chunkRows` rows each (the
 * bounds come from the source's statistics histogram, or a sample); for a table without a key,
 * buckets of the row hash. A whole table is read by one sequential scan per side that groups rows
 * into chunks; a big table is split into block (ctid) ranges read by parallel sessions, and the
 * per-chunk sums are added up here.
 */
import type { Side } from './side.js';
import { cmp, ident, relation, rowDigest, type TableSpec } from './rowsql.js';
import type { HashAlgorithm } from './types.js';

export interface Agg {
  n: number;
  s0: bigint;
  s1: bigint;
}

export type ChunkPlan =
  /** bounds: ascending values of the first key column (canonical text); chunk i is [bounds[i-1], bounds[i]). */
  | { kind: 'key'; bounds: string[] }
  /** buckets: a power of two; a row's bucket is (its first hash) & (buckets - 1). */
  | { kind: 'multiset'; buckets: number };

const MAX_CHUNKS = 4096;
/** A table is split across sessions only in pieces of at least this many 8 kB blocks (64 MB). */
const MIN_SEGMENT_PAGES = 8192;

/**
 * Which hash the servers compute. hashtextextended is several times cheaper than md5 but
 * PostgreSQL does not promise it is stable across major versions or platforms, so it is used only
 * when both servers have the same major version and return the same value for a probe.
 */
export function chooseAlgorithm(
  choice: 'auto' | 'md5',
  source: { versionNum: number; probe: string },
  target: { versionNum: number; probe: string },
): { alg: HashAlgorithm; reason: string } {
  if (choice === 'md5') return { alg: 'md5', reason: 'md5 requested (--hash md5)' };
  const sameMajor = Math.floor(source.versionNum / 10000) === Math.floor(target.versionNum / 10000);
  if (sameMajor && source.probe === target.probe) {
    return { alg: 'hashtextextended', reason: 'both servers run the same major version and agree on hashtextextended(\'offramp-probe\', 0)' };
  }
  return {
    alg: 'md5',
    reason: sameMajor ? 'the servers disagree on hashtextextended(): md5 used instead' : 'different major versions: md5 used (hashtextextended is not promised stable across versions)',
  };
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Plan the chunks of a table from the source's statistics (or a sample when there are none). */
export async function planChunks(side: Side, t: TableSpec, estRows: number, neverAnalysed: boolean, pages: number, chunkRows: number): Promise<ChunkPlan> {
  const rowsGuess = neverAnalysed ? pages * 60 : estRows;
  const wanted = Math.min(MAX_CHUNKS, Math.max(1, Math.ceil(rowsGuess / chunkRows)));
  if (t.key.length === 0) return { kind: 'multiset', buckets: nextPow2(wanted) };
  if (wanted <= 1 && !neverAnalysed) return { kind: 'key', bounds: [] };
  const k = t.key[0]!;
  const order = cmp({ ...k, name: 'v' }, 's');
  let values: string[] = [];
  if (!neverAnalysed) {
    const rows = await side.query<{ vals: string[] | null }>(
      `SELECT array_agg(s.v::text ORDER BY ${order}) AS vals
         FROM (SELECT DISTINCT unnest(histogram_bounds::text::${k.type}[]) AS v
                 FROM pg_catalog.pg_stats
                WHERE schemaname = $1 AND tablename = $2 AND attname = $3 AND inherited = $4) s`,
      [t.schema, t.name, k.name, t.kind === 'p'],
      `statistics of ${t.schema}.${t.name}`,
    );
    values = rows[0]?.vals ?? [];
  }
  if (values.length < Math.min(wanted, 100) - 1) {
    // No usable histogram: take the bounds from a sample of about 30,000 rows.
    const fraction = Math.min(1, 30_000 / Math.max(rowsGuess, 1));
    const sample = t.kind === 'r' ? `TABLESAMPLE SYSTEM (${(fraction * 100).toFixed(6)})` : '';
    const filter = t.kind === 'r' ? '' : `WHERE random() < ${fraction}`;
    const rows = await side.query<{ vals: string[] | null }>(
      `SELECT array_agg(s.v::text ORDER BY ${order}) AS vals
         FROM (SELECT DISTINCT ${ident(k.name)} AS v FROM ${relation(t)} ${sample} ${filter}) s`,
      [],
      `sample keys of ${t.schema}.${t.name}`,
    );
    values = rows[0]?.vals ?? [];
  }
  if (values.length <= wanted) return { kind: 'key', bounds: values.slice(1) };
  const bounds: string[] = [];
  for (let i = 1; i < wanted; i++) {
    const v = values[Math.floor((i * values.length) / wanted)]!;
    if (bounds[bounds.length - 1] !== v) bounds.push(v);
  }
  return { kind: 'key', bounds };
}

/** Block ranges that split a table for parallel sessions (one open-ended range when not split). */
export function segments(t: TableSpec, pages: number, sessions: number): Array<[number, number | null]> {
  const n = t.kind === 'r' ? Math.min(sessions, Math.floor(pages / MIN_SEGMENT_PAGES)) : 1;
  if (n <= 1) return [[0, null]];
  const size = Math.ceil(pages / n);
  return Array.from({ length: n }, (_, i) => [i * size, i === n - 1 ? null : (i + 1) * size]);
}

function segmentWhere(seg: [number, number | null]): string {
  const [from, to] = seg;
  if (from === 0 && to === null) return 'true';
  const lo = `ctid >= '(${from},0)'::tid`;
  return to === null ? lo : `${lo} AND ctid < '(${to},0)'::tid`;
}

/** The query that hashes one block range of a table into per-chunk aggregates. */
export function chunkQuery(alg: HashAlgorithm, t: TableSpec, plan: ChunkPlan, seg: [number, number | null]): { text: string; values: unknown[] } {
  const { inner, h: [h0, h1] } = rowDigest(alg, t);
  const where = segmentWhere(seg);
  if (plan.kind === 'multiset') {
    return {
      text: `SELECT (h.h0 & ${plan.buckets - 1}) AS chunk, count(*) AS n, sum(h.h0)::text AS s0, sum(h.h1)::text AS s1
               FROM (SELECT ${h0} AS h0, ${h1} AS h1
                       FROM (SELECT ${inner.join(', ')} FROM ${relation(t)} WHERE ${where} OFFSET 0) r OFFSET 0) h
              GROUP BY 1`,
      values: [],
    };
  }
  if (plan.bounds.length === 0) {
    return {
      text: `SELECT 0 AS chunk, count(*) AS n, coalesce(sum(${h0}), 0)::text AS s0, coalesce(sum(${h1}), 0)::text AS s1
               FROM (SELECT ${inner.join(', ')} FROM ${relation(t)} WHERE ${where} OFFSET 0) r`,
      values: [],
    };
  }
  const k = t.key[0]!;
  return {
    text: `SELECT width_bucket(r.b, $1::${k.type}[]) AS chunk, count(*) AS n, sum(${h0})::text AS s0, sum(${h1})::text AS s1
             FROM (SELECT ${cmp(k)} AS b, ${inner.join(', ')} FROM ${relation(t)} WHERE ${where} OFFSET 0) r
            GROUP BY 1`,
    values: [plan.bounds],
  };
}

/** Hash a whole table on one side: per-chunk aggregates, with big tables split across sessions. */
export async function hashTable(side: Side, alg: HashAlgorithm, t: TableSpec, plan: ChunkPlan, pages: number): Promise<Map<number, Agg>> {
  const parts = await Promise.all(
    segments(t, pages, side.sessions).map((seg) => {
      const q = chunkQuery(alg, t, plan, seg);
      return side.query<{ chunk: number | string; n: string; s0: string; s1: string }>(q.text, q.values, `hash ${t.schema}.${t.name}`);
    }),
  );
  const chunks = new Map<number, Agg>();
  for (const rows of parts) {
    for (const r of rows) {
      const id = Number(r.chunk);
      const a = chunks.get(id) ?? { n: 0, s0: 0n, s1: 0n };
      a.n += Number(r.n);
      a.s0 += BigInt(r.s0);
      a.s1 += BigInt(r.s1);
      chunks.set(id, a);
    }
  }
  // An empty chunk and a missing chunk are the same thing.
  for (const [id, a] of chunks) if (a.n === 0) chunks.delete(id);
  return chunks;
}

export async function countTable(side: Side, t: TableSpec): Promise<number> {
  const [r] = await side.query<{ n: string }>(`SELECT count(*) AS n FROM ${relation(t)}`, [], `count ${t.schema}.${t.name}`);
  return Number(r!.n);
}

export function aggEqual(a: Agg | undefined, b: Agg | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.n === b.n && a.s0 === b.s0 && a.s1 === b.s1;
}

const MASK64 = (1n << 64n) - 1n;

/** A table's digest: the two sums modulo 2^64, as 32 hex digits. */
export function digestHex(chunks: Map<number, Agg>): { rows: number; hex: string } {
  let n = 0;
  let s0 = 0n;
  let s1 = 0n;
  for (const a of chunks.values()) {
    n += a.n;
    s0 += a.s0;
    s1 += a.s1;
  }
  const hex = (v: bigint): string => (v & MASK64).toString(16).padStart(16, '0');
  return { rows: n, hex: `${hex(s0)}${hex(s1)}` };
}

/** Chunk ids whose aggregates differ, in key order. */
export function differingChunks(a: Map<number, Agg>, b: Map<number, Agg>): number[] {
  const ids = new Set([...a.keys(), ...b.keys()]);
  return [...ids].filter((id) => !aggEqual(a.get(id), b.get(id))).sort((x, y) => x - y);
}
