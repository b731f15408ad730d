/** Text rendering of a watch result (the JSON result is the WatchResult itself). */
import type { ChalkInstance } from 'chalk';
import type { WatchResult } from './run.js';

export function renderWatchText(r: WatchResult, c: ChalkInstance): string {
  const lines: string[] = [];
  if (r.fired) lines.push(c.red.bold(`ROLLBACK TRIGGER FIRED: ${r.fired.name} at ${r.firedAt}`), `  ${r.fired.detail ?? r.fired.value}`);
  else lines.push(c.green(`no rollback trigger fired (${r.ticks} evaluations, ${r.startedAt} → ${r.endedAt})`));
  for (const s of r.states) {
    const mark = s.status === 'fired' ? c.red('✖') : s.status === 'breach' || s.status === 'error' ? c.yellow('⚠') : s.status === 'ok' ? c.green('✔') : c.dim('·');
    lines.push(`${mark} ${s.name.padEnd(12)} ${s.status.padEnd(8)} ${s.value}  ${c.dim(s.rule)}`);
  }
  if (r.rollback) {
    lines.push(r.rollback.started
      ? (r.rollback.ok ? c.green('rollback ran') : c.red('rollback stopped part-way: see offramp cutover status'))
      : c.red(`rollback did not start: ${r.rollback.error ?? 'unknown'} — run offramp rollback run by hand`));
  } else if (r.fired) {
    lines.push(c.yellow('next: offramp rollback run'));
  }
  return lines.join('\n');
}
