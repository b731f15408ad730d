import type { ChalkInstance } from 'chalk';
import type { DemoResult } from './demo.js';
import type { doctor } from './doctor/index.js';

type DoctorReport = Awaited<ReturnType<typeof doctor>>;

/** The copy section of a Markdown report. */
export function renderCopyMarkdown(r: NonNullable<DemoResult['copy']>): string {
  const lines = [
    '## Copy (offramp copy)',
    '',
    `Snapshot ${r.snapshot}, ${r.format} COPY, ${r.jobs} jobs; schemas copied: ${r.schemas.join(', ')}; left behind: ${r.excludedSchemas.join(', ')}.`,
    '',
    '| table | rows | bytes |',
    '| --- | ---: | ---: |',
    ...r.tables.map((t) => `| ${t.table} | ${t.rows} | ${t.bytes} |`),
    '',
    `Phases: ${r.phases.map((p) => `${p.name} ${p.seconds} s`).join(', ')}.`,
  ];
  if (r.deferred.length > 0) {
    lines.push('', `Deferred until the auth and RLS stages provide what they reference (${r.deferred.length}):`, '');
    for (const d of r.deferred) lines.push(`- ${d.type} ${d.schema ? `${d.schema}.` : ''}${d.name}: ${d.reason.split('\n')[0]}`);
  }
  return lines.join('\n');
}

/** The doctor section of a Markdown report. */
export function renderDoctorMarkdown(report: DoctorReport): string {
  const lines = ['## Preflight (offramp doctor)', '', '| check | status | detail | hint |', '| --- | --- | --- | --- |'];
  for (const c of report.checks) {
    const cell = (s: string | undefined): string => (s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
    lines.push(`| ${cell(c.title)} | ${c.status.toUpperCase()} | ${cell(c.detail)} | ${cell(c.hint)} |`);
  }
  lines.push('', `${report.summary.pass} pass, ${report.summary.warn} warn, ${report.summary.fail} fail, ${report.summary.skip} skip.`);
  return lines.join('\n');
}

export function renderDemoText(result: DemoResult, c: ChalkInstance): string {
  const lines = [
    c.bold('offramp demo'),
    `  source  ${result.source}`,
    `  target  ${result.target}${result.kept ? c.dim('  (kept running)') : c.dim('  (stopped)')}`,
    '',
  ];
  const width = Math.max(...result.stages.map((s) => s.name.length));
  for (const s of result.stages) {
    lines.push(`  ${s.ok ? c.green('✔') : c.red('✖')} ${s.name.padEnd(width)}  ${String(s.seconds).padStart(5)} s  ${s.summary}`);
  }
  const attention = result.inspect.findings.filter((f) => f.severity !== 'info');
  if (attention.length > 0) {
    lines.push('', c.bold(`Needs attention before the move (${attention.length}):`));
    for (const f of attention.slice(0, 12)) lines.push(`  ${f.severity === 'error' ? c.red('error') : c.yellow('warn ')} ${f.message}`);
    if (attention.length > 12) lines.push(c.dim(`  … ${attention.length - 12} more in the report`));
  }
  lines.push('', `Report: ${result.reportFile}`, result.ok ? c.green('demo finished: every stage passed') : c.red('demo finished with a failing stage'));
  return lines.join('\n');
}
