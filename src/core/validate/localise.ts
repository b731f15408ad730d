/**
 * Localisation: from chunks whose digests differ down to the rows that differ. A key range with
 * many rows is split into up to FANOUT sub-ranges (split points taken from the side that has more
 * rows), both servers hash each sub-range, and only differing sub-ranges are searched further;
 * below a small threshold the two sides' (key, row hash) lists are compared here. Only keys and
 * hashes reach the client; values are fetched only for the differences reported, and only with
 * showValues. Tables without a key compare per row hash, with a count for duplicates.
 */
import type { Side } from './side.js';
import { aggEqual, type Agg, type ChunkPlan } from './hash.js';
import { cmp, ident, keyOrder, keysIn, rangeWhere, relation, rowDigest, type ColumnInfo, type KeyRange, type TableSpec } from './rowsql.js';
import type { HashAlgorithm, RowDifference } from './types.js';

const FANOUT = 16;

export interface LocaliseContext {
  source: Side;
  target: Side;
  alg: HashAlgorithm;
  /** The table as read on each side. */
  s: TableSpec;
  t: TableSpec;
  max: number;
  threshold: number;
  showValues: boolean;
}

export interface Localised {
  differences: RowDifference[];
  truncated: boolean;
}

interface Search {
  ctx: LocaliseContext;
  found: RowDifference[];
  truncated: boolean;
}

const room = (s: Search): number => s.ctx.max - s.found.length;

/** The key range of first-pass chunk `i` (see ChunkPlan). */
export function chunkRange(bounds: string[], i: number): KeyRange {
  return { ...(i >= 1 ? { lo: [bounds[i - 1]!] } : {}), ...(i < bounds.length ? { hi: [bounds[i]!] } : {}) };
}

function keyObject(t: TableSpec, key: string[]): Record<string, string> {
  return Object.fromEntries(t.key.map((c, i) => [c.name, key[i]!]));
}

function keyCols(t: TableSpec): string {
  return t.key.map((c, i) => `${ident(c.name)} AS k${i}`).join(', ');
}

/** Keys (as canonical text) of one side in a range, in key order. */
async function keysOf(side: Side, t: TableSpec, range: KeyRange, limit: number): Promise<string[][]> {
  const values: unknown[] = [];
  const where = rangeWhere(t, range, values);
  const rows = await side.query<Record<string, string>>(
    `SELECT ${t.key.map((c, i) => `${ident(c.name)}::text AS k${i}`).join(', ')} FROM ${relation(t)} WHERE ${where} ORDER BY ${keyOrder(t)} LIMIT ${limit}`,
    values, `list keys of ${t.schema}.${t.name}`);
  return rows.map((r) => t.key.map((_, i) => r[`k${i}`]!));
}

/** (key, row hash) of every row of one side in a range, in key order. */
async function rowHashesOf(ctx: LocaliseContext, side: Side, t: TableSpec, range: KeyRange): Promise<Map<string, { key: string[]; h: string }>> {
  const values: unknown[] = [];
  const where = rangeWhere(t, range, values);
  const { inner, h: [h0, h1] } = rowDigest(ctx.alg, t);
  const rows = await side.query<Record<string, string>>(
    `SELECT ${t.key.map((_, i) => `r.k${i}::text AS k${i}`).join(', ')}, (${h0})::text || ':' || (${h1})::text AS h
       FROM (SELECT ${keyCols(t)}, ${inner.join(', ')} FROM ${relation(t)} WHERE ${where}
              ORDER BY ${keyOrder(t)} OFFSET 0) r`,
    values, `row hashes of ${t.schema}.${t.name}`);
  const out = new Map<string, { key: string[]; h: string }>();
  for (const r of rows) {
    const key = t.key.map((_, i) => r[`k${i}`]!);
    out.set(JSON.stringify(key), { key, h: r.h! });
  }
  return out;
}

/** Split points of a range: every step-th key of one side. */
async function splitPoints(side: Side, t: TableSpec, range: KeyRange, rows: number): Promise<string[][]> {
  const values: unknown[] = [];
  const where = rangeWhere(t, range, values);
  const step = Math.max(1, Math.ceil(rows / FANOUT));
  const res = await side.query<Record<string, string>>(
    `SELECT ${t.key.map((_, i) => `s.k${i}`).join(', ')} FROM (
       SELECT ${t.key.map((c, i) => `${ident(c.name)}::text AS k${i}`).join(', ')}, row_number() OVER (ORDER BY ${keyOrder(t)}) AS rn
         FROM ${relation(t)} WHERE ${where}) s
      WHERE s.rn % ${step} = 0 ORDER BY s.rn`,
    values, `split ${t.schema}.${t.name}`);
  return res.map((r) => t.key.map((_, i) => r[`k${i}`]!));
}

/** Aggregates of each sub-range [points[j-1], points[j]) of a range on one side, in one scan. */
async function subRangeAggs(ctx: LocaliseContext, side: Side, t: TableSpec, range: KeyRange, points: string[][]): Promise<Map<number, Agg>> {
  const values: unknown[] = [];
  const where = rangeWhere(t, range, values);
  const { inner, h: [h0, h1] } = rowDigest(ctx.alg, t);
  const aliased: ColumnInfo[] = t.key.map((c, i) => ({ ...c, name: `k${i}` }));
  const whens = points.map((p, j) => {
    const left = aliased.map((c) => cmp(c, 'r'));
    const right = aliased.map((c, i) => {
      values.push(p[i]!);
      return `$${values.length}::${c.type}`;
    });
    const cond = left.length === 1 ? `${left[0]} < ${right[0]}` : `(${left.join(', ')}) < (${right.join(', ')})`;
    return `WHEN ${cond} THEN ${j}`;
  });
  const rows = await side.query<{ b: number; n: string; s0: string; s1: string }>(
    `SELECT CASE ${whens.join(' ')} ELSE ${points.length} END AS b, count(*) AS n, sum(${h0})::text AS s0, sum(${h1})::text AS s1
       FROM (SELECT ${keyCols(t)}, ${inner.join(', ')} FROM ${relation(t)} WHERE ${where} OFFSET 0) r
      GROUP BY 1`,
    values, `hash sub-ranges of ${t.schema}.${t.name}`);
  return new Map(rows.map((r) => [Number(r.b), { n: Number(r.n), s0: BigInt(r.s0), s1: BigInt(r.s1) }]));
}

async function searchRange(s: Search, range: KeyRange, nS: number, nT: number): Promise<void> {
  const { ctx } = s;
  if (room(s) <= 0) {
    s.truncated = true;
    return;
  }
  if (nS === 0 || nT === 0) {
    // Everything in the range is on one side only.
    const onSource = nT === 0;
    const keys = await keysOf(onSource ? ctx.source : ctx.target, onSource ? ctx.s : ctx.t, range, room(s) + 1);
    if (keys.length > room(s)) s.truncated = true;
    for (const key of keys.slice(0, room(s))) s.found.push({ kind: onSource ? 'missing' : 'extra', key: keyObject(ctx.s, key) });
    return;
  }
  if (Math.max(nS, nT) <= ctx.threshold) {
    const [a, b] = await Promise.all([rowHashesOf(ctx, ctx.source, ctx.s, range), rowHashesOf(ctx, ctx.target, ctx.t, range)]);
    const diffs: Array<{ key: string[]; kind: RowDifference['kind'] }> = [];
    for (const [k, row] of a) {
      const other = b.get(k);
      if (!other) diffs.push({ key: row.key, kind: 'missing' });
      else if (other.h !== row.h) diffs.push({ key: row.key, kind: 'changed' });
    }
    // Source rows in key order (missing, changed), then target-only rows in key order.
    for (const [k, row] of b) if (!a.has(k)) diffs.push({ key: row.key, kind: 'extra' });
    if (diffs.length > room(s)) s.truncated = true;
    for (const d of diffs.slice(0, room(s))) s.found.push({ kind: d.kind, key: keyObject(ctx.s, d.key) });
    return;
  }
  const bigger = nS >= nT ? { side: ctx.source, t: ctx.s, n: nS } : { side: ctx.target, t: ctx.t, n: nT };
  const points = await splitPoints(bigger.side, bigger.t, range, bigger.n);
  const [aggS, aggT] = await Promise.all([
    subRangeAggs(ctx, ctx.source, ctx.s, range, points),
    subRangeAggs(ctx, ctx.target, ctx.t, range, points),
  ]);
  for (let j = 0; j <= points.length; j++) {
    if (aggEqual(aggS.get(j), aggT.get(j))) continue;
    const sub: KeyRange = { ...(j === 0 ? (range.lo ? { lo: range.lo } : {}) : { lo: points[j - 1]! }), ...(j === points.length ? (range.hi ? { hi: range.hi } : {}) : { hi: points[j]! }) };
    await searchRange(s, sub, aggS.get(j)?.n ?? 0, aggT.get(j)?.n ?? 0);
    if (room(s) <= 0) {
      if (j < points.length) s.truncated = true;
      return;
    }
  }
}

/** Localise the differing chunks of a keyed table (chunk ids in key order). */
export async function localiseKeyed(ctx: LocaliseContext, plan: Extract<ChunkPlan, { kind: 'key' }>, chunks: number[], src: Map<number, Agg>, tgt: Map<number, Agg>): Promise<Localised> {
  const s: Search = { ctx, found: [], truncated: false };
  for (const [i, id] of chunks.entries()) {
    if (room(s) <= 0) {
      s.truncated = true;
      break;
    }
    await searchRange(s, chunkRange(plan.bounds, id), src.get(id)?.n ?? 0, tgt.get(id)?.n ?? 0);
    if (room(s) <= 0 && i < chunks.length - 1) s.truncated = true;
  }
  await describeChanges(ctx, s.found);
  return { differences: s.found, truncated: s.truncated };
}

/** Per-column md5 of the given keys' rows on one side (NULL and '' hash differently). */
async function columnHashes(side: Side, t: TableSpec, keys: string[][]): Promise<Map<string, string[]>> {
  const values: unknown[] = [];
  const where = keysIn(t, keys, values);
  const rows = await side.query<Record<string, string>>(
    `SELECT ${t.key.map((c, i) => `${ident(c.name)}::text AS k${i}`).join(', ')}, ${t.columns.map((c, i) => `md5(ROW(${ident(c.name)})::text) AS c${i}`).join(', ')}
       FROM ${relation(t)} WHERE ${where}`,
    values, `column hashes of ${t.schema}.${t.name}`);
  return new Map(rows.map((r) => [JSON.stringify(t.key.map((_, i) => r[`k${i}`])), t.columns.map((_, i) => r[`c${i}`]!)]));
}

/** Canonical text of the given keys' rows on one side (showValues only). */
async function rowValues(side: Side, t: TableSpec, keys: string[][]): Promise<Map<string, Array<string | null>>> {
  const values: unknown[] = [];
  const where = keysIn(t, keys, values);
  const rows = await side.query<Record<string, string | null>>(
    `SELECT ${t.key.map((c, i) => `${ident(c.name)}::text AS k${i}`).join(', ')}, ${t.columns.map((c, i) => `${ident(c.name)}::text AS v${i}`).join(', ')}
       FROM ${relation(t)} WHERE ${where}`,
    values, `values of ${t.schema}.${t.name}`);
  return new Map(rows.map((r) => [JSON.stringify(t.key.map((_, i) => r[`k${i}`])), t.columns.map((_, i) => r[`v${i}`] ?? null)]));
}

/** Name the differing columns of changed rows; with showValues, attach the values. */
async function describeChanges(ctx: LocaliseContext, found: RowDifference[]): Promise<void> {
  if (found.length === 0) return;
  const keyOf = (d: RowDifference): string[] => ctx.s.key.map((c) => d.key![c.name]!);
  const changed = found.filter((d) => d.kind === 'changed');
  if (changed.length > 0) {
    const keys = changed.map(keyOf);
    const [a, b] = await Promise.all([columnHashes(ctx.source, ctx.s, keys), columnHashes(ctx.target, ctx.t, keys)]);
    for (const d of changed) {
      const k = JSON.stringify(keyOf(d));
      const ha = a.get(k) ?? [];
      const hb = b.get(k) ?? [];
      d.columns = ctx.s.columns.filter((_, i) => ha[i] !== hb[i]).map((c) => c.name);
    }
  }
  if (!ctx.showValues) return;
  const need = (kind: RowDifference['kind']): string[][] => found.filter((d) => d.kind === kind || d.kind === 'changed').map(keyOf);
  const [va, vb] = await Promise.all([rowValues(ctx.source, ctx.s, need('missing')), rowValues(ctx.target, ctx.t, need('extra'))]);
  for (const d of found) {
    const k = JSON.stringify(keyOf(d));
    const pick = (t: TableSpec, row: Array<string | null> | undefined): Record<string, string | null> | undefined => {
      if (!row) return undefined;
      const cols = d.kind === 'changed' ? new Set(d.columns) : null;
      const out: Record<string, string | null> = {};
      t.columns.forEach((c, i) => {
        if (!cols || cols.has(ctx.s.columns[i]!.name)) out[c.name] = row[i] ?? null;
      });
      return out;
    };
    const source = d.kind !== 'extra' ? pick(ctx.s, va.get(k)) : undefined;
    const target = d.kind !== 'missing' ? pick(ctx.t, vb.get(k)) : undefined;
    d.values = { ...(source ? { source } : {}), ...(target ? { target } : {}) };
  }
}

/** Buckets read per scan of a table without a key (each about chunkRows rows): bounds client memory. */
const BUCKETS_PER_SCAN = 4;

/**
 * Localise the differing buckets of a table without a key: compare row hashes with their counts.
 * There is no index to reach a bucket, so each pass scans the table; buckets are taken a few at a
 * time and the passes stop once maxDifferences rows are found.
 */
export async function localiseMultiset(ctx: LocaliseContext, plan: Extract<ChunkPlan, { kind: 'multiset' }>, buckets: number[]): Promise<Localised> {
  const read = (side: Side, t: TableSpec, chosen: number[]) => {
    const { inner, h: [h0, h1] } = rowDigest(ctx.alg, t);
    return side.query<{ h0: string; h1: string; n: string; loc: string }>(
      `SELECT h.h0::text AS h0, h.h1::text AS h1, count(*) AS n,
              min(${t.kind === 'p' ? `h.rel || ' ' || ` : ''}h.ctid::text) AS loc
         FROM (SELECT ${h0} AS h0, ${h1} AS h1, r.ctid, r.rel
                 FROM (SELECT ctid, tableoid::regclass::text AS rel, ${inner.join(', ')} FROM ${relation(t)} OFFSET 0) r OFFSET 0) h
        WHERE (h.h0 & ${plan.buckets - 1}) = ANY($1::bigint[])
        GROUP BY h.h0, h.h1`,
      [chosen], `row hashes of ${t.schema}.${t.name}`);
  };
  const found: RowDifference[] = [];
  let truncated = false;
  for (let i = 0; i < buckets.length; i += BUCKETS_PER_SCAN) {
    if (found.length >= ctx.max) {
      truncated = true;
      break;
    }
    const chosen = buckets.slice(i, i + BUCKETS_PER_SCAN);
    const [a, b] = await Promise.all([read(ctx.source, ctx.s, chosen), read(ctx.target, ctx.t, chosen)]);
    const counts = new Map<string, { s: number; t: number; sLoc?: string; tLoc?: string; h0: string }>();
    for (const r of a) counts.set(`${r.h0}:${r.h1}`, { s: Number(r.n), t: 0, sLoc: r.loc, h0: r.h0 });
    for (const r of b) {
      const e = counts.get(`${r.h0}:${r.h1}`) ?? { s: 0, t: 0, h0: r.h0 };
      e.t = Number(r.n);
      e.tLoc = r.loc;
      counts.set(`${r.h0}:${r.h1}`, e);
    }
    for (const e of [...counts.values()].sort((x, y) => (x.h0 < y.h0 ? -1 : 1))) {
      if (e.s === e.t) continue;
      if (found.length >= ctx.max) {
        truncated = true;
        break;
      }
      const extra = e.t > e.s;
      const rowHash = (BigInt(e.h0) & ((1n << 64n) - 1n)).toString(16).padStart(16, '0');
      found.push({
        kind: extra ? 'extra' : 'missing',
        key: null,
        count: Math.abs(e.t - e.s),
        locator: { side: extra ? 'target' : 'source', ctid: (extra ? e.tLoc : e.sLoc)!, rowHash },
      });
    }
  }
  if (ctx.showValues) {
    for (const d of found) {
      const side = d.locator!.side === 'source' ? ctx.source : ctx.target;
      const t = d.locator!.side === 'source' ? ctx.s : ctx.t;
      const m = /^(?:(.*) )?(\(\d+,\d+\))$/.exec(d.locator!.ctid);
      const params: unknown[] = [m?.[2] ?? d.locator!.ctid];
      let cond = 'ctid = $1::tid';
      if (m?.[1]) {
        params.push(m[1]);
        cond += ` AND tableoid = $2::regclass`;
      }
      const [row] = await side.query<Record<string, string | null>>(
        `SELECT ${t.columns.map((c, i) => `${ident(c.name)}::text AS v${i}`).join(', ')} FROM ${relation(t)} WHERE ${cond}`,
        params, `values of ${t.schema}.${t.name}`);
      if (row) d.values = { [d.locator!.side]: Object.fromEntries(t.columns.map((c, i) => [c.name, row[`v${i}`] ?? null])) };
    }
  }
  return { differences: found, truncated };
}
