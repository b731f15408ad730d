/** Text renderings of the cutover and rollback results (the JSON modes print the results themselves). */
import type { ChalkInstance } from 'chalk';
import type { InitResult, PlanResult, StatusResult } from './cutover.js';
import type { StepReport, StepStatus } from './engine.js';
import type { RunbookRunResult } from './session.js';

const MARK: Record<StepStatus, (c: ChalkInstance) => string> = {
  passed: (c) => c.green('✔'),
  failed: (c) => c.red('✖'),
  'already-passed': (c) => c.green('↷'),
  skipped: (c) => c.dim('↷'),
  'not-run': (c) => c.dim('·'),
  'dry-run': (c) => c.cyan('○'),
};

function stepLines(steps: StepReport[], c: ChalkInstance): string[] {
  return steps.map((s) => `  ${MARK[s.status](c)} ${s.id.padEnd(24)} ${c.dim(s.kind.padEnd(15))} ${s.status === 'passed' || s.status === 'failed' ? s.detail : c.dim(`${s.status}: ${s.detail}`)}`);
}

export function renderRunText(r: RunbookRunResult, c: ChalkInstance): string {
  const title = `${r.kind}${r.dryRun ? ' (dry run)' : ''}${r.runbook ? `: ${r.runbook.name}` : ''}`;
  const lines = [c.bold(title)];
  if (r.undone) lines.push(c.bold('undo (newest first)'), ...(r.undone.length ? stepLines(r.undone, c) : ['  nothing to undo']));
  if (r.steps.length) lines.push(...(r.undone ? [c.bold('rollback runbook')] : []), ...stepLines(r.steps, c));
  lines.push('');
  const failures = [...(r.undone ?? []), ...r.steps].filter((s) => s.status === 'failed').length;
  if (r.ok) lines.push(c.green(`${r.kind} ${r.dryRun ? 'rehearsal ' : ''}completed`));
  else if (r.dryRun) lines.push(c.red(`${r.kind} rehearsal: ${failures} step${failures === 1 ? '' : 's'} would fail, first ${r.stoppedAt}: ${r.reason ?? ''}`));
  else lines.push(c.red(`${r.kind} stopped at ${r.stoppedAt}: ${r.reason ?? ''}`));
  if (!r.ok && !r.dryRun) lines.push(c.cyan('hint:') + ` fix the cause, then run \`offramp ${r.kind} run\` again: steps that passed are not run again`);
  if (r.journal) lines.push(`journal: ${r.journal}`);
  lines.push(`report: ${r.report}`);
  return lines.join('\n');
}

const DURATION_PARAMS = new Set(['duration', 'interval', 'within', 'maxLatency', 'queryTimeout']);

function paramText(key: string, value: unknown): string {
  if (DURATION_PARAMS.has(key) && typeof value === 'number') return value % 1000 === 0 ? `${value / 1000} s` : `${value} ms`;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function renderPlanText(p: PlanResult, c: ChalkInstance): string {
  const lines = [c.bold(`${p.runbook.name}`) + c.dim(` (${p.runbook.file})`)];
  if (p.runbook.description) lines.push(p.runbook.description.trim());
  let n = 0;
  for (const phase of p.phases) {
    lines.push('', c.bold(`${phase.title}`) + c.dim(` [${phase.id}]`));
    for (const s of phase.steps) {
      n++;
      const flags = [s.changes ? c.yellow('changes things') : '', s.undo ? 'undo' : '', s.retries ? `retries ${s.retries}` : '', s.timeoutMs ? `timeout ${s.timeoutMs / 1000} s` : '', s.requires.length ? `requires ${s.requires.join(', ')}` : '', s.next !== 'run' ? c.dim(s.next) : ''].filter(Boolean);
      lines.push(`  ${String(n).padStart(2)}. ${s.id} ${c.dim(`(${s.kind}, line ${s.line})`)} ${s.title}${flags.length ? `  ${c.dim('—')} ${flags.join(', ')}` : ''}`);
      for (const [k, v] of Object.entries(s.params)) lines.push(c.dim(`        ${k}: ${paramText(k, v)}`));
    }
  }
  if (p.unset.length) lines.push('', c.yellow(`unset variables (a run refuses until they are set): ${p.unset.join(', ')}`));
  return lines.join('\n');
}

export function renderStatusText(s: StatusResult, c: ChalkInstance): string {
  if (s.runs.length === 0) return `no cutover has run yet (${s.journal} does not exist)`;
  const lines = [c.bold('cutover runs')];
  for (const r of s.runs) {
    const end = r.finished ? (r.finished.ok ? c.green('completed') : c.red(`stopped at ${r.finished.stoppedAt}`)) : c.yellow('did not finish (killed or still running)');
    lines.push(`  run ${r.run} ${r.startedAt} by ${r.operator}: ${end}`);
  }
  lines.push(c.bold('steps'));
  for (const st of s.steps) lines.push(`  ${st.id.padEnd(24)} ${st.state.padEnd(8)} ${c.dim(st.at)} ${st.detail}${st.confirmedBy ? c.dim(` (confirmed by ${st.confirmedBy})`) : ''}`);
  if (s.rollback.runs) lines.push(c.bold('rollback'), `  ${s.rollback.runs} run${s.rollback.runs > 1 ? 's' : ''}, last ${s.rollback.lastOk === null ? 'did not finish' : s.rollback.lastOk ? 'completed' : 'stopped'}`);
  return lines.join('\n');
}

export function renderInitText(r: InitResult): string {
  return `${r.written.map((f) => `wrote ${f}`).join('\n')}\nnext: edit the vars: blocks, then \`offramp cutover plan\``;
}
