/**
 * The Markdown report of a cutover or rollback: the outcome, every step's status, who confirmed
 * what, the timeline of all runs recorded in the journal (a resumed run shows both), and the
 * evidence of each step. Redacted as a whole before it is written.
 */
import { redact } from '../../secrets.js';
import type { StepReport } from './engine.js';
import type { StampedRunbookRecord } from './journal.js';

export interface ReportInput {
  title: string;
  runbook: { name: string; file: string };
  journal?: string;
  ok: boolean;
  dryRun: boolean;
  stoppedAt?: string;
  reason?: string;
  /** Why the run was started when a trigger, not a person, decided (watch --auto-rollback). */
  cause?: string;
  steps: StepReport[];
  records: StampedRunbookRecord[];
  /** Extra leading sections (rollback: the undo list). */
  undone?: StepReport[];
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function timelineLine(r: StampedRunbookRecord): string {
  switch (r.type) {
    case 'run-start': return `run ${r.run} started by ${r.operator} (${r.runbook}${r.dryRun ? ', dry run' : ''}${r.from ? `, from ${r.from}` : ''}${r.rerun ? ', rerun' : ''})${r.cause ? ` because ${r.cause}` : ''}`;
    case 'step-started': return `${r.step}: started (attempt ${r.attempt})`;
    case 'step-passed': return `${r.step}: **passed** — ${r.detail}`;
    case 'step-failed': return `${r.step}: **failed**${r.final ? '' : ' (will retry)'} — ${r.detail}`;
    case 'step-note': return `${r.step}: noted ${JSON.stringify(r.evidence)}`;
    case 'step-skipped': return `${r.step}: skipped — ${r.reason}`;
    case 'confirmed': return `${r.step}: confirmed by **${r.by}** (${r.via})`;
    case 'undo-started': return `undo of ${r.step}: started`;
    case 'undo-passed': return `undo of ${r.step}: **done** — ${r.detail}`;
    case 'undo-failed': return `undo of ${r.step}: **failed** — ${r.detail}`;
    case 'run-finished': return `run ${r.run} ${r.ok ? 'finished' : `stopped at ${r.stoppedAt ?? '?'}: ${r.reason ?? ''}`}`;
  }
}

function stepTable(steps: StepReport[]): string[] {
  return [
    '| step | phase | kind | status | detail |',
    '| --- | --- | --- | --- | --- |',
    ...steps.map((s) => `| ${s.id} | ${s.phase} | ${s.kind} | ${s.status} | ${cell(s.detail)} |`),
  ];
}

export function renderRunReport(input: ReportInput): string {
  const confirmations = input.records.filter((r): r is Extract<StampedRunbookRecord, { type: 'confirmed' }> => r.type === 'confirmed');
  const lines = [
    `# ${input.title}`,
    '',
    `Runbook: ${input.runbook.name} (\`${input.runbook.file}\`)  `,
    ...(input.journal ? [`Journal: \`${input.journal}\`  `] : ['Dry run: nothing was changed and no journal was written.  ']),
    ...(input.cause ? [`Started because: ${input.cause}  `] : []),
    `Outcome: **${input.ok ? 'completed' : input.dryRun ? `would fail, first at ${input.stoppedAt}` : `stopped at ${input.stoppedAt}`}**${input.reason ? ` — ${input.reason}` : ''}`,
    '',
  ];
  if (input.undone) lines.push('## Undone (newest first)', '', ...(input.undone.length ? stepTable(input.undone) : ['Nothing to undo.']), '');
  lines.push('## Steps', '', ...stepTable(input.steps), '');
  lines.push('## Confirmations', '');
  lines.push(...(confirmations.length
    ? ['| step | confirmed by | how | at |', '| --- | --- | --- | --- |', ...confirmations.map((c) => `| ${c.step} | ${c.by} | ${c.via} | ${c.at} |`)]
    : ['No manual step was confirmed.']));
  lines.push('');
  if (input.records.length) {
    lines.push('## Timeline', '', '| time | run | event |', '| --- | --- | --- |');
    lines.push(...input.records.map((r) => `| ${r.at} | ${r.run} | ${cell(timelineLine(r))} |`), '');
  }
  lines.push('## Evidence', '');
  for (const s of [...(input.undone ?? []), ...input.steps]) {
    if (!s.evidence || Object.keys(s.evidence).length === 0) continue;
    lines.push(`### ${s.id} (${s.kind}, ${s.status})`, '', '```json', JSON.stringify(s.evidence, null, 2), '```', '');
  }
  return redact(lines.join('\n'));
}
