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
  kind: 'r' | 'p';
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
 * Per-row digest material `d` (computed once per row in an inner query) and the two 64-bit row
 * hashes taken from it.
 */
export function digest(alg: HashAlgorithm, text: string): string {
  return alg === 'md5' ? `md5(${text})` : `${text} COLLATE "C"`;
}

export function rowHashes(alg: HashAlgorithm, d = 'd'): [string, string] {
  if (alg === 'md5') {
    return [`('x' || substr(${d}, 1, 16))::bit(64)::bigint`, `('x' || substr(${d}, 17, 16))::bit(64)::bigint`];
  }
  return [`hashtextextended(${d}, 0)`, `hashtextextended(${d}, 1)`];
}

/** Key columns as canonical text, aliased k0, k1, … */
export function keyText(t: TableSpec, alias?: string): string {
  return t.key.map((c, i) => `${alias ? `${alias}.` : ''}${ident(c.name)}::text AS k${i}`).join(', ');
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
