/**
 * The write attempts of rls verify for one table and principal: UPDATE (a column set to itself)
 * and DELETE of sampled existing rows, by key; INSERT of candidate rows copied from those samples
 * with fresh explicit keys (no sequence advances) and the principal's id in the columns the
 * policies compare with the user's id. The same statements run on both sides.
 */
import { createHash } from 'node:crypto';
import { quoteIdent } from '../../db/sql-parse.js';
import type { OwnerColumn } from './owner-columns.js';
import type { Principal } from './principals.js';
import type { Command } from './probe.js';

export interface Column { name: string; type: string; base: string; insertable: boolean; identity: boolean }

export interface TableShape {
  schema: string;
  name: string;
  qualified: string;
  /** Key columns, or null: rows are told apart by a digest of the whole row. */
  key: string[] | null;
  columns: Column[];
}

export interface Sample { key: string; row: Record<string, unknown> }

export interface WriteProbe {
  command: Exclude<Command, 'SELECT'>;
  /** The key the report names (the row's, or the candidate's). */
  key: string;
  statement: string;
  values: unknown[];
}

const INTEGER = new Set(['int2', 'int4', 'int8', 'numeric']);

/** How a table's rows are referred to in every probe: by the table's own name, as policies and predicates do. */
export const rowRef = (t: TableShape): string => quoteIdent(t.name);
export const fromTable = (t: TableShape): string => `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;

/** The key text of the row in scope: `{"id": …}` as canonical jsonb text, or the row digest. */
export function keyExpression(t: TableShape, r = rowRef(t)): string {
  if (!t.key) return `md5(${r}::text)`;
  return `jsonb_build_object(${t.key.map((k) => `'${k.replace(/'/g, "''")}', ${r}.${quoteIdent(k)}`).join(', ')})::text`;
}

/** WHERE condition selecting the row with key text $n (index-friendly for keyed tables). */
export function keyMatch(t: TableShape, param: number): string {
  const r = rowRef(t);
  if (!t.key) return `md5(${r}::text) = $${param}`;
  return t.key.map((k) => {
    const type = t.columns.find((c) => c.name === k)?.type ?? 'text';
    return `${r}.${quoteIdent(k)} = ($${param}::jsonb ->> '${k.replace(/'/g, "''")}')::${type}`;
  }).join(' AND ');
}

function freshUuid(...parts: Array<string | number>): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-9${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The key text the server would print for this row object (jsonb orders keys by length, then bytes). */
function keyText(t: TableShape, row: Record<string, unknown>): string {
  if (!t.key) return '(new row)';
  const keys = [...t.key].sort((a, b) => Buffer.byteLength(a) - Buffer.byteLength(b) || Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${JSON.stringify(k)}: ${JSON.stringify(row[k] ?? null)}`).join(', ')}}`;
}

/** The column to set to itself in UPDATE probes: a plain non-key column if there is one. */
function updateColumn(t: TableShape): string {
  const plain = t.columns.find((c) => c.insertable && !c.identity && !(t.key ?? []).includes(c.name));
  return (plain ?? t.columns.find((c) => c.insertable && !c.identity) ?? t.columns[0]!).name;
}

/**
 * The write probes of one principal. `maxKeys` holds the largest value of each integer key column
 * on the source, so fresh integer keys are above every existing one without touching a sequence.
 */
export function writeProbes(
  t: TableShape, samples: Sample[], principal: Principal, owners: OwnerColumn[], maxKeys: Record<string, string>, seed: number, principalIndex: number,
): WriteProbe[] {
  const r = rowRef(t);
  const table = fromTable(t);
  const probes: WriteProbe[] = [];
  const set = quoteIdent(updateColumn(t));
  for (const s of samples) {
    probes.push({ command: 'UPDATE', key: s.key, statement: `UPDATE ${table} SET ${set} = ${r}.${set} WHERE ${keyMatch(t, 1)}`, values: [s.key] });
  }
  for (const s of samples) {
    probes.push({ command: 'DELETE', key: s.key, statement: `DELETE FROM ${table} WHERE ${keyMatch(t, 1)}`, values: [s.key] });
  }
  const insertable = t.columns.filter((c) => c.insertable).map((c) => quoteIdent(c.name)).join(', ');
  samples.forEach((s, i) => {
    const row = { ...s.row };
    for (const o of owners) {
      if (!principal.id || !(o.column in row)) continue;
      if (o.shape === 'value') row[o.column] = principal.id;
      else {
        const path = typeof row[o.column] === 'string' ? String(row[o.column]) : 'probe';
        row[o.column] = `${principal.id}/${path.split('/').pop()}`;
      }
    }
    const ownerNames = new Set(owners.map((o) => o.column));
    for (const k of t.key ?? []) {
      if (ownerNames.has(k) && principal.id) continue;
      const col = t.columns.find((c) => c.name === k);
      if (!col) continue;
      if (col.base === 'uuid') row[k] = freshUuid('offramp-rls-verify', seed, t.qualified, principal.name, i);
      else if (INTEGER.has(col.base)) row[k] = String(BigInt(maxKeys[k] ?? '0') + 1n + BigInt(principalIndex * samples.length + i));
      else if (col.base === 'text' || col.base === 'varchar' || col.base === 'bpchar') row[k] = `offramp-probe-${freshUuid(seed, t.qualified, principal.name, i).slice(0, 13)}`;
    }
    probes.push({
      command: 'INSERT',
      key: keyText(t, row),
      statement: `INSERT INTO ${table} (${insertable}) OVERRIDING SYSTEM VALUE SELECT ${insertable} FROM jsonb_populate_record(NULL::${table}, $1::jsonb)`,
      values: [JSON.stringify(row)],
    });
  });
  return probes;
}
