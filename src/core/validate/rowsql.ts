/**
 * SQL text for reading one table on one side: the canonical row text, the per-row hashes, key
 * ranges. Everything is built from catalog names (quoted), never from user input; values travel
 * as parameters and are cast to the column's type.
 */
import type { HashAlgorithm } from './types.js';

export interface ColumnInfo {
  name: string;
  /** format_type() under search_path=pg_catalog: schema-qualified when not a built-in type. */
  type: string;
  collatable: boolean;
  generated: boolean;
}

/** One table as read on one side: the compared columns (same order on both sides) and the key. */
export interface TableSpec {
  schema: string;
  name: string;
  /** r table, p partitioned table, m materialized view */
  kind: 'r' | 'p' | 'm';
  columns: ColumnInfo[];
  /** Key columns (a subset of `columns`, in key order); empty for a multiset comparison. */
  key: ColumnInfo[];
}

/** A key range: lo inclusive, hi exclusive; each a prefix of the key (canonical text values). */
export interface KeyRange {
  lo?: string[];
  hi?: string[];
}

export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

/** `FROM` target: ONLY for ordinary tables (inheritance children are tables of their own). */
export function relation(t: TableSpec): string {
  return `${t.kind === 'r' ? 'ONLY ' : ''}${qualified(t.schema, t.name)}`;
}

/** A column as compared and ordered: byte order for text, so both servers agree whatever their collations. */
export function cmp(c: ColumnInfo, alias?: string): string {
  const ref = alias ? `${alias}.${ident(c.name)}` : ident(c.name);
  return c.collatable ? `${ref} COLLATE "C"` : ref;
}

/**
 * The canonical text of a row: the record output of the compared columns, in order. With the
 * pinned settings each value prints the same on two servers; NULL prints as nothing and '' as "".
 */
export function rowText(t: TableSpec, alias?: string): string {
  const cols = t.columns.map((c) => (alias ? `${alias}.${ident(c.name)}` : ident(c.name)));
  return `ROW(${cols.join(', ')})::text`;
}

/**
 * How one row is hashed: `inner` are select-list items evaluated once per row in an inner query
 * (so that two seeds do not compute a value's text twice), `h` the two 64-bit row hashes over them.
 *
 * hashtextextended (the fast algorithm): each column is hashed on its own with a seed that depends
 * on its position, and the column hashes are XORed (NULL is a per-position constant). A column is
 * hashed from its canonical text (the type's output under the pinned settings: jsonb normalised,
 * floats shortest-exact with -0/NaN/Infinity, geography as full-precision hex EWKB, …), except the
 * types whose stored value is already canonical and has a PostgreSQL hash function that reads all
 * of it: integers, uuid, boolean, text/varchar (their bytes, in collation "C"), timestamps (their
 * 64-bit microseconds; timestamptz read at the pinned TimeZone=UTC). Record output and its quoting
 * cost more than the hashes themselves.
 *
 * md5 (the portable fallback): md5 of the record text; the two halves of the digest.
 */
export interface RowDigest {
  inner: string[];
  h: [string, string];
}

const NULL_A = 0x6a09e667f3bcc908n;
const NULL_B = 0xbb67ae8584caa73bn;
const nullConst = (base: bigint, i: number): string => BigInt.asIntN(64, base + BigInt(i)).toString();

/** Per type: the inner expression for a column and the hash function over it. */
function fastColumn(c: ColumnInfo): { value: (ref: string) => string; hash: (v: string, seed: number) => string } {
  const type = c.type.replace(/\(\d+(,\d+)?\)/, '');
  switch (type) {
    case 'bigint': return { value: (r) => r, hash: (v, s) => `hashint8extended(${v}, ${s})` };
    case 'integer':
    case 'smallint': return { value: (r) => r, hash: (v, s) => `hashint4extended(${v}, ${s})` };
    case 'boolean': return { value: (r) => `${r}::int`, hash: (v, s) => `hashint4extended(${v}, ${s})` };
    case 'uuid': return { value: (r) => r, hash: (v, s) => `uuid_hash_extended(${v}, ${s})` };
    case 'text':
    case 'character varying': return { value: (r) => r, hash: (v, s) => `hashtextextended(${v} COLLATE "C", ${s})` };
    case 'timestamp with time zone': return { value: (r) => `${r}::timestamp`, hash: (v, s) => `timestamp_hash_extended(${v}, ${s})` };
    case 'timestamp without time zone': return { value: (r) => r, hash: (v, s) => `timestamp_hash_extended(${v}, ${s})` };
    default: return { value: (r) => `${r}::text`, hash: (v, s) => `hashtextextended(${v} COLLATE "C", ${s})` };
  }
}

export function rowDigest(alg: HashAlgorithm, t: TableSpec, alias?: string): RowDigest {
  if (alg === 'md5') {
    return { inner: [`md5(${rowText(t, alias)}) AS d`], h: [`('x' || substr(d, 1, 16))::bit(64)::bigint`, `('x' || substr(d, 17, 16))::bit(64)::bigint`] };
  }
  if (t.columns.length === 0) return { inner: ['0 AS v'], h: ['0::bigint', '0::bigint'] };
  const cols = t.columns.map((c, i) => ({ ...fastColumn(c), ref: alias ? `${alias}.${ident(c.name)}` : ident(c.name), i }));
  const chain = (seed: number, nulls: bigint): string =>
    cols.map((c) => `coalesce(${c.hash(`v${c.i}`, 2 * c.i + seed)}, ${nullConst(nulls, c.i)})`).join(' # ');
  return { inner: cols.map((c) => `${c.value(c.ref)} AS v${c.i}`), h: [chain(0, NULL_A), chain(1, NULL_B)] };
}

/** A parameter cast to a column's type. */
function param(params: unknown[], value: string, c: ColumnInfo): string {
  params.push(value);
  return `$${params.length}::${c.type}`;
}

function bound(t: TableSpec, values: string[], op: '>=' | '<', params: unknown[]): string {
  const cols = t.key.slice(0, values.length);
  if (cols.length === 0) return 'true';
  const left = cols.map((c) => cmp(c));
  const right = cols.map((c, i) => param(params, values[i]!, c));
  return cols.length === 1 ? `${left[0]} ${op} ${right[0]}` : `(${left.join(', ')}) ${op} (${right.join(', ')})`;
}

/** WHERE conditions for a key range (row comparison on the key prefix). */
export function rangeWhere(t: TableSpec, range: KeyRange, params: unknown[]): string {
  const parts: string[] = [];
  if (range.lo) parts.push(bound(t, range.lo, '>=', params));
  if (range.hi) parts.push(bound(t, range.hi, '<', params));
  return parts.length ? parts.join(' AND ') : 'true';
}

/** `ORDER BY` list for the key, in the comparison order used by ranges. */
export function keyOrder(t: TableSpec): string {
  return t.key.map((c) => cmp(c)).join(', ');
}

/** WHERE condition matching a list of keys given as canonical text (one text[] parameter per key column). */
export function keysIn(t: TableSpec, keys: string[][], params: unknown[]): string {
  const arrays = t.key.map((_, i) => {
    params.push(keys.map((k) => k[i]!));
    return `$${params.length}::text[]`;
  });
  const names = t.key.map((_, i) => `u${i}`);
  const casts = t.key.map((c, i) => `u.${names[i]}::${c.type}`);
  const left = t.key.length === 1 ? ident(t.key[0]!.name) : `(${t.key.map((c) => ident(c.name)).join(', ')})`;
  return `${left} IN (SELECT ${casts.join(', ')} FROM unnest(${arrays.join(', ')}) AS u(${names.join(', ')}))`;
}
