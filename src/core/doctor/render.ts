/**
 * Text rendering of a doctor report: one line per check (status, title, detail), the hint under
 * each FAIL and WARN, and a summary line. Colour comes from the caller's chalk instance, so the
 * same function renders plain text at level 0.
 */
import type { ChalkInstance } from 'chalk';
import type { CheckResult, CheckStatus } from '../../checks/types.js';
import type { DoctorReport } from './index.js';

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

function paint(status: CheckStatus, c: ChalkInstance): (s: string) => string {
  switch (status) {
    case 'pass': return c.green;
    case 'warn': return c.yellow;
    case 'fail': return c.red.bold;
    default: return c.dim;
  }
}

function sideLine(label: string, side: DoctorReport['source'], c: ChalkInstance): string {
  if (!side) return `  ${label}  ${c.dim('(not given)')}`;
  const server = side.reachable ? ` ${c.dim(`PostgreSQL ${side.serverVersion ?? '?'}`)}` : ` ${c.red('unreachable')}`;
  return `  ${label}  ${side.url}${server}`;
}

function checkLines(r: CheckResult, width: number, c: ChalkInstance): string[] {
  const lines = [`  ${paint(r.status, c)(LABEL[r.status])}  ${r.title.padEnd(width)}  ${r.status === 'skip' ? c.dim(r.detail) : r.detail}`];
  if (r.hint && (r.status === 'fail' || r.status === 'warn')) {
    lines.push(`        ${' '.repeat(width)}  ${c.cyan('hint:')} ${r.hint}`);
  }
  return lines;
}

export function renderDoctorText(report: DoctorReport, c: ChalkInstance): string {
  const width = Math.max(0, ...report.checks.map((r) => r.title.length));
  const s = report.summary;
  const verdict = s.fail > 0
    ? c.red.bold(`preflight failed: ${s.fail} check${s.fail === 1 ? '' : 's'} must be fixed`)
    : s.warn > 0
      ? c.yellow('ready, with warnings')
      : c.green('ready');
  const counts = [`${s.pass} pass`, `${s.warn} warn`, `${s.fail} fail`, `${s.skip} skip`].join(' · ');
  return [
    c.bold('offramp doctor'),
    report.backup ? `  source  ${report.backup.kind} backup ${report.backup.files.map((f) => f.path).join(' + ')}` : sideLine('source', report.source, c),
    sideLine('target', report.target, c),
    '',
    ...report.checks.flatMap((r) => checkLines(r, width, c)),
    '',
    ...(report.adminSql.length > 0
      ? [c.bold(`An administrator runs this once on the target database${report.target?.database ? ` ${report.target.database}` : ''} (as a superuser), then reruns doctor:`), ...report.adminSql.map((q) => `  ${q}`), '']
      : []),
    `${verdict}  ${c.dim(`(${counts}; ${(report.durationMs / 1000).toFixed(1)} s)`)}`,
  ].join('\n');
}
