/** The human summary of a validation (stderr, text mode). */
import type { ChalkInstance } from 'chalk';
import { describe } from './schema.js';
import { columns, differenceLine, hashWord, n, seconds, statusWord, tableDifferenceSummary, valuesLines, verdict } from './format.js';
import type { ValidateReport } from './types.js';

const MAX_LINES_PER_TABLE = 10;

export function renderValidateText(r: ValidateReport, c: ChalkInstance): string {
  const out: string[] = [];
  const s = r.summary;
  out.push(c.bold(`validate (${r.mode}${r.method.hash ? `, ${r.method.hash}` : ''}): ${s.tables} tables, ${n(s.rowsSource)} source rows, ${seconds(r.durationMs)}`));
  out.push(c.dim(`  source ${r.source.url}  →  target ${r.target.url}  (platform: ${r.platform.kind})`));
  out.push('');
  const rows = [['table', 'source rows', 'target rows', 'content', 'status', 'differences']];
  for (const t of r.tables) {
    rows.push([t.table + (t.targetTable ? ` → ${t.targetTable}` : ''), n(t.rows.source), n(t.rows.target), hashWord(t), statusWord(t), tableDifferenceSummary(t)]);
  }
  const lines = columns(rows);
  out.push(c.bold(lines[0]!));
  r.tables.forEach((t, i) => {
    const line = lines[i + 1]!;
    out.push(t.status === 'ok' ? line : c.red(line));
  });
  const differing = r.tables.filter((t) => t.differences.length > 0);
  if (differing.length > 0) {
    out.push('', c.bold('Differing rows'));
    for (const t of differing) {
      out.push(`  ${t.table}${t.differencesTruncated ? c.dim(' (search stopped at --max-differences)') : ''}`);
      for (const d of t.differences.slice(0, MAX_LINES_PER_TABLE)) {
        out.push(`    ${differenceLine(d)}`);
        for (const v of valuesLines(d)) out.push(c.dim(`      ${v}`));
      }
      if (t.differences.length > MAX_LINES_PER_TABLE) out.push(c.dim(`    … ${t.differences.length - MAX_LINES_PER_TABLE} more (see --json or --markdown)`));
    }
  }
  if (r.schema) {
    const counts = { pass: 0, warn: 0, fail: 0, skip: 0 };
    for (const ch of r.schema.checks) counts[ch.status]++;
    out.push('', c.bold(`Schema: ${r.schema.checks.length} checks, ${counts.pass} pass, ${counts.warn} warn, ${counts.fail} fail; ${s.schemaExpected} expected differences`));
    for (const ch of r.schema.checks.filter((x) => x.status === 'fail' || x.status === 'warn')) {
      const mark = ch.status === 'fail' ? c.red('✖') : c.yellow('⚠');
      out.push(`  ${mark} ${ch.title}: ${ch.detail}`);
      if (ch.hint) out.push(c.cyan(`    hint: ${ch.hint}`));
    }
    const expected = r.schema.differences.filter((d) => d.severity === 'expected');
    if (expected.length > 0) out.push(c.dim(`  expected: ${expected.slice(0, 4).map(describe).join('; ')}${expected.length > 4 ? `; … ${expected.length - 4} more` : ''}`));
  }
  if (r.skipped.length > 0) out.push(c.dim(`Not compared: ${r.skipped.map((x) => x.object).join(', ')}`));
  out.push('', s.ok ? c.green(`Result: ${verdict(r)}`) : c.red(`Result: ${verdict(r)} (exit 3)`));
  return out.join('\n');
}
