/**
 * The plain observer: each step as a Progress step (a plain line per state change when not a
 * terminal, an NDJSON event with --output ndjson, nothing with --json). The live listr2 view
 * (src/output/runbook-view.ts) implements the same RunObserver for terminals.
 */
import type { Progress, StepHandle } from '../../output/progress.js';
import type { RunObserver } from './engine.js';

export function progressObserver(progress: Progress): RunObserver {
  const open = new Map<string, StepHandle>();
  const label = (phase: string, title: string): string => `[${phase}] ${title}`;
  return {
    start() {},
    stepStart(step, attempt) {
      if (!open.has(step.id)) open.set(step.id, progress.step(label(step.phase, step.title)));
      if (attempt > 1) open.get(step.id)!.update(`attempt ${attempt}`);
    },
    stepUpdate(step, message) {
      open.get(step.id)?.update(message);
    },
    stepEnd(step, status, detail) {
      const handle = open.get(step.id);
      open.delete(step.id);
      if (status === 'passed' || status === 'failed') {
        const h = handle ?? progress.step(label(step.phase, step.title));
        if (status === 'passed') h.succeed(detail);
        else h.fail(detail);
        return;
      }
      // Steps that did not run are one line each, not a step that "succeeded".
      progress.log('info', `${status === 'not-run' ? '·' : '↷'} ${label(step.phase, step.title)}: ${status === 'already-passed' ? 'already passed, ' : ''}${detail}`);
    },
    finish() {},
  };
}
