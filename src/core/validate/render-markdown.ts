/**
 * The validation report as Markdown, in the style of a migration validation report: what was
 * compared, per table rows and hash status, the differing rows, the schema findings, the settings
 * used and the time taken. Row values appear only when the run used --show-values.
 */
import { describe } from './schema.js';
import { differenceLine, hashWord, n, seconds, statusWord, tableDifferenceSummary, valuesLines, verdict } from './format.js';
import type { ValidateReport } from './types.js';

function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function code(text: string): string {
  return `\`${text.replace(/`/g, 'ˋ')}\``;
}

export function renderValidateMarkdown(r: ValidateReport): string {
  const s = r.summary;
  const out: string[] = [];
  out.push('# Migration validation report', '');
  out.push(`**Result: ${verdict(r)}** — ${s.tablesOk}/${s.tables} tables equal, ${s.rowDifferences} differing rows reported, ${s.schemaFailures} schema failures, ${s.schemaWarnings} warnings, ${s.schemaExpected} expected differences.`, '');
  out.push('| | |', '| --- | --- |');
  out.push(`| started | ${r.startedAt} |`);
  out.push(`| duration | ${seconds(r.durationMs)} |`);
  out.push(`| mode | ${r.mode} |`);
  out.push(`| source | ${code(r.source.url)} (${cell(r.source.version.split(' on ')[0] ?? r.source.version)}, platform ${r.platform.kind}) |`);
  out.push(`| target | ${code(r.target.url)} (${cell(r.target.version.split(' on ')[0] ?? r.target.version)}) |`);
  out.push(`| snapshots | source ${r.source.snapshotTime} (${r.source.sessions} session${r.source.sessions === 1 ? '' : 's'}), target ${r.target.snapshotTime} (${r.target.sessions}) |`);
  out.push(`| rows | ${n(s.rowsSource)} on the source, ${n(s.rowsTarget)} on the target |`, '');

  out.push('## Tables', '');
  out.push('| table | source rows | target rows | content hash | status | differences |', '| --- | ---: | ---: | --- | --- | --- |');
  for (const t of r.tables) {
    out.push(`| ${code(t.table + (t.targetTable ? ` → ${t.targetTable}` : ''))} | ${n(t.rows.source)} | ${n(t.rows.target)} | ${hashWord(t)} | ${t.status === 'ok' ? '✅ ok' : `❌ ${statusWord(t)}`} | ${cell(tableDifferenceSummary(t))} |`);
  }
  out.push('');

  const withRows = r.tables.filter((t) => t.differences.length > 0 || t.note || t.columnsOnlyInSource || t.columnsOnlyInTarget);
  if (withRows.length > 0) {
    out.push('## Differences', '');
    for (const t of withRows) {
      out.push(`### ${code(t.table)}`, '');
      if (t.note) out.push(`_${t.note}_`, '');
      if (t.columnsOnlyInSource) out.push(`Columns only on the source (not compared): ${t.columnsOnlyInSource.map(code).join(', ')}`, '');
      if (t.columnsOnlyInTarget) out.push(`Columns only on the target (not compared): ${t.columnsOnlyInTarget.map(code).join(', ')}`, '');
      for (const d of t.differences) {
        out.push(`- ${cell(differenceLine(d))}`);
        for (const v of valuesLines(d)) out.push(`  - ${code(v)}`);
      }
      if (t.differencesTruncated) out.push('', `_The search stopped after ${t.differences.length} differences (--max-differences); there may be more._`);
      out.push('');
    }
  }

  if (r.schema) {
    out.push('## Schema', '');
    out.push('| check | status | detail |', '| --- | --- | --- |');
    const icon = { pass: '✅ pass', warn: '⚠️ warn', fail: '❌ fail', skip: '➖ skip' };
    for (const ch of r.schema.checks) out.push(`| ${ch.title} | ${icon[ch.status]} | ${cell(ch.detail)} |`);
    out.push('');
    const bySeverity = (sev: string) => r.schema!.differences.filter((d) => d.severity === sev);
    for (const [sev, title] of [['fail', 'Failures'], ['warn', 'Warnings'], ['expected', 'Expected differences (intended by the migration)']] as const) {
      const list = bySeverity(sev);
      if (list.length === 0) continue;
      out.push(`### ${title}`, '');
      for (const d of list) out.push(`- ${cell(`${d.category}: ${describe(d)}`)}${d.reason ? ` — ${cell(d.reason)}` : ''}`);
      out.push('');
    }
  }

  if (r.skipped.length > 0) {
    out.push('## Not compared', '');
    for (const x of r.skipped) out.push(`- ${cell(x.object)}: ${cell(x.reason)}`);
    out.push('');
  }

  out.push('## Method and settings', '');
  out.push(`- Content hash: ${r.method.hash ?? 'none (counts only)'} — ${cell(r.method.hashReason)}.`);
  out.push(`- Each row's canonical text (record output of the compared columns, generated columns included) is hashed to 2×64 bits; chunks of about ${n(r.method.chunkRows)} rows by primary key are summed by the servers (order-independent; tables without a key compare as multisets).`);
  out.push(`- Differing chunks are split ${'into up to 16 key ranges'} until at most ${n(r.method.rowCompareThreshold)} rows remain, then rows are compared by key and hash; at most ${r.method.maxDifferences} differences per table are reported${r.method.showValues ? '; row values are shown (--show-values)' : '; row values are not shown'}.`);
  out.push(`- Sessions per side: ${r.method.jobs}, each side in one REPEATABLE READ READ ONLY snapshot.`);
  out.push(`- Session settings pinned on both sides: ${Object.entries(r.method.sessionSettings).map(([k, v]) => code(`${k}=${v}`)).join(', ')}.`);
  out.push(`- Server settings found: source TimeZone ${code(r.source.serverTimeZone)}, DateStyle ${code(r.source.serverDateStyle)}; target TimeZone ${code(r.target.serverTimeZone)}, DateStyle ${code(r.target.serverDateStyle)}.`);
  out.push(`- Time: ${Object.entries(r.timings).map(([k, v]) => `${k} ${seconds(v)}`).join(', ')}.`, '');
  return out.join('\n');
}
