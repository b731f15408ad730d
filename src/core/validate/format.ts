/** Small formatting helpers shared by the text, Markdown and JUnit renderers. */
import type { RowDifference, TableReport, ValidateReport } from './types.js';

export function n(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : value.toLocaleString('en-US');
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function keyText(d: RowDifference): string {
  if (d.key) return Object.entries(d.key).map(([k, v]) => `${k}=${v}`).join(', ');
  const l = d.locator!;
  return `row ${l.rowHash} (${l.side} ${l.ctid})${d.count && d.count > 1 ? ` ×${d.count}` : ''}`;
}

export function differenceLine(d: RowDifference): string {
  const what = d.kind === 'missing' ? 'missing on target' : d.kind === 'extra' ? 'extra on target' : 'changed';
  const cols = d.columns?.length ? `; columns: ${d.columns.join(', ')}` : '';
  return `${what}: ${keyText(d)}${cols}`;
}

export function valuesLines(d: RowDifference): string[] {
  if (!d.values) return [];
  const out: string[] = [];
  for (const side of ['source', 'target'] as const) {
    const v = d.values[side];
    if (v) out.push(`${side}: ${Object.entries(v).map(([k, x]) => `${k}=${x === null ? 'NULL' : JSON.stringify(x)}`).join(', ')}`);
  }
  return out;
}

export function statusWord(t: TableReport): string {
  switch (t.status) {
    case 'ok': return 'ok';
    case 'missing_on_target': return 'missing on target';
    default: return t.status;
  }
}

export function hashWord(t: TableReport): string {
  if (!t.hash) return t.status === 'missing_on_target' ? '—' : 'not hashed';
  return t.hash.equal ? 'equal' : `differs (${t.chunks?.differing ?? 0}/${t.chunks?.total ?? 0} chunks)`;
}

export function tableDifferenceSummary(t: TableReport): string {
  if (t.status === 'missing_on_target') return 'table missing on the target';
  if (t.status === 'ok') return '';
  if (t.status === 'error') return t.note ?? 'not compared';
  const counts = { missing: 0, extra: 0, changed: 0 };
  for (const d of t.differences) counts[d.kind] += d.count ?? 1;
  const parts = Object.entries(counts).filter(([, v]) => v > 0).map(([k, v]) => `${v} ${k}`);
  if (parts.length === 0) {
    const delta = (t.rows.target ?? 0) - (t.rows.source ?? 0);
    return delta === 0 ? 'content differs' : `${delta > 0 ? '+' : ''}${delta} rows`;
  }
  return parts.join(', ') + (t.differencesTruncated ? ' (first ones only)' : '');
}

export function verdict(r: ValidateReport): string {
  return r.summary.ok ? 'EQUAL' : 'DIFFERENCES FOUND';
}

/** Pad cells to column widths (plain text tables). */
export function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}
