/**
 * The live view of a cutover or rollback in a terminal: phases and their steps as a listr2 tree.
 * The engine runs on its own and reports through RunObserver; each listr2 task just waits for its
 * step's end. When a person may be prompted, listr2's line-by-line renderer is used, because the
 * redrawing one holds back other output (the prompt would not show).
 */
import { Listr, ProcessOutput, type ListrTask } from 'listr2';
import type { RunObserver, StepStatus } from '../core/runbook/engine.js';
import { redact } from '../secrets.js';

interface Ending { status: StepStatus; detail: string }

export function listrObserver(options: { mayPrompt: boolean }): RunObserver {
  const endings = new Map<string, { promise: Promise<Ending>; resolve: (e: Ending) => void }>();
  const titles = new Map<string, (t: string) => void>();
  let running: Promise<unknown> | undefined;
  const ending = (id: string) => {
    let entry = endings.get(id);
    if (!entry) {
      let resolve!: (e: Ending) => void;
      const promise = new Promise<Ending>((r) => (resolve = r));
      entry = { promise, resolve };
      endings.set(id, entry);
    }
    return entry;
  };
  return {
    start(phases) {
      const tasks: ListrTask[] = phases.filter((p) => p.steps.length).map((phase) => ({
        title: phase.title,
        task: (_ctx, phaseTask) => phaseTask.newListr(phase.steps.map((step) => ({
          title: step.title,
          task: async (_c, t) => {
            titles.set(step.id, (message) => void (t.output = redact(message)));
            const end = await ending(step.id).promise;
            if (end.status === 'failed') throw new Error(redact(`${step.title}: ${end.detail}`));
            if (end.status !== 'passed') t.skip(redact(`${step.title} — ${end.status}: ${end.detail}`));
            else t.title = redact(`${step.title} — ${end.detail}`);
          },
        })), { concurrent: false, exitOnError: false }),
      }));
      const list = new Listr(tasks, {
        concurrent: false,
        exitOnError: false,
        renderer: options.mayPrompt ? 'simple' : 'default',
        rendererOptions: { collapseSubtasks: false, processOutput: new ProcessOutput(process.stderr, process.stderr) },
        registerSignalListeners: false,
      });
      running = list.run().catch(() => undefined);
    },
    stepStart() {},
    stepUpdate(step, message) {
      titles.get(step.id)?.(message);
    },
    stepEnd(step, status, detail) {
      ending(step.id).resolve({ status, detail });
    },
    async finish() {
      await running;
    },
  };
}
