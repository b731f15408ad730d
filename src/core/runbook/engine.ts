/**
 * The runbook engine: steps in file order, each with its retries and timeout, every state change
 * journaled (fsynced) before the next. Resume is the journal's job: a step with a step-passed
 * record is not run again unless --rerun. The first step that fails for good stops the run
 * (the command turns that into exit 4); the steps after it are reported as not run.
 */
import { OfframpError } from '../../errors.js';
import { redact } from '../../secrets.js';
import { notesSinceLastPass, passedSteps, type Evidence, type PassedRecord, type RunbookJournal, type StampedRunbookRecord } from './journal.js';
import type { Phase, Runbook, Step } from './schema.js';
import { changesThings, EXECUTORS } from './steps/index.js';
import type { Clock, Databases, DnsAccess, RunIo, StepContext, StepOutcome } from './types.js';

export type StepStatus = 'passed' | 'failed' | 'already-passed' | 'skipped' | 'not-run' | 'dry-run';

/** Who shows the run to a person: a listr2 live view in a terminal, plain lines or NDJSON otherwise. */
export interface RunObserver {
  start(phases: Phase[]): void;
  stepStart(step: Step, attempt: number): void;
  stepUpdate(step: Step, message: string): void;
  stepEnd(step: Step, status: StepStatus, detail: string): void;
  finish(ok: boolean): Promise<void> | void;
}

export interface StepReport {
  id: string;
  phase: string;
  title: string;
  kind: string;
  status: StepStatus;
  detail: string;
  attempts: number;
  durationMs?: number;
  evidence?: Evidence;
  confirmedBy?: string;
}

export interface EngineOptions {
  runbook: Runbook;
  /** The open journal; absent for a dry run (a rehearsal leaves no state behind). The caller writes run-start/run-finished. */
  journal?: RunbookJournal;
  /** Earlier records that count for resume (steps passed there are not run again). */
  history: StampedRunbookRecord[];
  dryRun: boolean;
  from?: string;
  rerun: boolean;
  io: RunIo;
  databases: Databases;
  clock: Clock;
  dns: DnsAccess;
  observer: RunObserver;
}

export interface EngineResult {
  ok: boolean;
  stoppedAt?: string;
  reason?: string;
  steps: StepReport[];
}

function errorDetail(error: unknown): string {
  if (error instanceof OfframpError) return error.hint ? `${error.message} (hint: ${error.hint})` : error.message;
  const e = error as { message?: string; code?: string };
  return e.message || e.code || String(error);
}

/** Run one step's executor once, bounded by its timeout (real time: a guard, not part of the logic). */
export async function runOnce(step: Pick<Step, 'id' | 'title' | 'kind' | 'timeoutMs'>, params: Record<string, unknown>, base: Omit<StepContext, 'step' | 'params' | 'signal'>): Promise<StepOutcome> {
  const controller = new AbortController();
  const timer = step.timeoutMs !== undefined
    ? setTimeout(() => controller.abort(new Error(`timed out after ${Math.round(step.timeoutMs! / 1000)} s`)), step.timeoutMs)
    : undefined;
  try {
    const run = EXECUTORS[step.kind]({ ...base, step, params, signal: controller.signal });
    // A timeout wins even when the executor ignores its signal.
    const timedOut = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
    return await Promise.race([run, timedOut]);
  } catch (error) {
    return { ok: false, detail: errorDetail(error), evidence: {} };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** A guard for steps that give no timeout: nothing that talks to a network may hang a cutover for ever. */
export const DEFAULT_TIMEOUT_MS: Partial<Record<Step['kind'], number>> = {
  http: 30_000, tls: 30_000, cors: 60_000, 'dns-check': 60_000, sql: 600_000, command: 600_000,
};

/** What a dry run says instead of doing something. */
function wouldDo(step: Step): string {
  const p = step.params;
  switch (step.kind) {
    case 'dns-update': return `would set ${String(p.name)} ${String(p.type)} to ${Array.isArray(p.values) ? p.values.join(', ') : 'its current values'} TTL ${String(p.ttl)}`;
    case 'command': return `would run: ${String(p.run)}`;
    case 'sql': return `would write on the ${String(p.on)}: ${String(p.query).split('\n')[0]}`;
    case 'manual': return 'would ask a person to confirm';
    default: return 'would wait';
  }
}

export async function runRunbook(options: EngineOptions): Promise<EngineResult> {
  const { runbook, observer, io, clock } = options;
  const steps = runbook.phases.flatMap((p) => p.steps);
  const byId = new Map(steps.map((s) => [s.id, s]));
  const passed: Map<string, PassedRecord> = passedSteps(options.history);
  const journal = options.journal;
  const reports: StepReport[] = [];
  const fromIndex = options.from ? steps.findIndex((s) => s.id === options.from) : 0;

  const base: Omit<StepContext, 'step' | 'params' | 'signal'> = {
    clock, io, databases: options.databases, dns: options.dns, passed,
    check: async (id, signal) => {
      const target = byId.get(id)!;
      return runOnce({ ...target, timeoutMs: target.timeoutMs ?? DEFAULT_TIMEOUT_MS[target.kind] }, target.params, { ...base, update: () => {}, log: () => {} }).then((o) => (signal.aborted ? { ...o, ok: false } : o));
    },
    update: () => {},
    log: () => {},
    note: () => {},
    earlierNotes: [],
  };
  // Notes of this run join the history's, so a retry within the run sees them too.
  const noted: StampedRunbookRecord[] = [];

  let stopped: { at: string; reason: string } | undefined;
  // A dry run is a rehearsal: it goes on past a failed check to show everything that would fail.
  let firstFailure: { at: string; reason: string } | undefined;
  const failed = (at: string, reason: string): void => {
    firstFailure ??= { at, reason };
    if (!options.dryRun) stopped = firstFailure;
  };

  for (const [index, step] of steps.entries()) {
    const report: StepReport = { id: step.id, phase: step.phase, title: step.title, kind: step.kind, status: 'not-run', detail: '', attempts: 0 };
    reports.push(report);
    const skip = (status: StepStatus, detail: string): void => {
      report.status = status;
      report.detail = detail;
      if (status !== 'not-run' && status !== 'dry-run') journal?.append({ type: 'step-skipped', step: step.id, phase: step.phase, title: step.title, reason: detail });
      observer.stepEnd(step, status, detail);
    };
    if (stopped) {
      skip('not-run', `the run stopped at ${stopped.at}`);
      continue;
    }
    if (index < fromIndex) {
      skip('skipped', `before --from ${options.from}`);
      continue;
    }
    const earlier = passed.get(step.id);
    if (earlier && !options.rerun) {
      report.evidence = earlier.evidence;
      skip('already-passed', `passed in run ${earlier.run} at ${earlier.at}; --rerun runs it again`);
      continue;
    }
    // In a dry run, a step that was only described counts as done for what follows.
    const missing = step.requires.filter((r) => !passed.has(r) && !(options.dryRun && reports.some((x) => x.id === r && x.status === 'dry-run')));
    if (missing.length > 0) {
      const detail = `requires ${missing.join(', ')}, which ${missing.length > 1 ? 'have' : 'has'} not passed`;
      report.status = 'failed';
      report.detail = detail;
      journal?.append({ type: 'step-failed', step: step.id, phase: step.phase, kind: step.kind, title: step.title, attempt: 0, durationMs: 0, detail, final: true });
      observer.stepEnd(step, 'failed', detail);
      failed(step.id, detail);
      continue;
    }
    if (options.dryRun && (changesThings(step.kind, step.params) || step.kind === 'manual' || step.kind === 'wait')) {
      skip('dry-run', wouldDo(step));
      continue;
    }

    for (let n = 1; ; n++) {
      report.attempts = n;
      journal?.append({ type: 'step-started', step: step.id, phase: step.phase, kind: step.kind, title: step.title, attempt: n });
      observer.stepStart(step, n);
      const started = clock.now();
      const outcome = await runOnce({ ...step, timeoutMs: step.timeoutMs ?? DEFAULT_TIMEOUT_MS[step.kind] }, step.params, {
        ...base,
        earlierNotes: notesSinceLastPass([...options.history, ...noted], step.id),
        note: (evidence) => {
          const record = journal?.append({ type: 'step-note', step: step.id, evidence });
          noted.push(record ?? { type: 'step-note', step: step.id, evidence, at: new Date(clock.now()).toISOString(), run: 0 });
        },
        update: (message) => observer.stepUpdate(step, redact(message)),
        log: (message) => observer.stepUpdate(step, redact(message)),
      });
      const durationMs = clock.now() - started;
      report.durationMs = durationMs;
      report.detail = redact(outcome.detail);
      report.evidence = outcome.evidence;
      if (outcome.ok) {
        if (outcome.confirmed) {
          report.confirmedBy = outcome.confirmed.by;
          journal?.append({ type: 'confirmed', step: step.id, by: outcome.confirmed.by, via: outcome.confirmed.via });
        }
        const record = {
          type: 'step-passed' as const, step: step.id, phase: step.phase, kind: step.kind, title: step.title, attempt: n, durationMs,
          detail: outcome.detail, evidence: outcome.evidence, ...(step.undo ? { undo: step.undo } : {}),
        };
        // Later steps (requires, wait.ttlOf) read what passed in this run too.
        passed.set(step.id, (journal?.append(record) as PassedRecord | undefined) ?? { ...record, at: new Date(clock.now()).toISOString(), run: 0 });
        report.status = 'passed';
        observer.stepEnd(step, 'passed', report.detail);
        break;
      }
      const final = Boolean(outcome.final) || n > step.retries;
      journal?.append({ type: 'step-failed', step: step.id, phase: step.phase, kind: step.kind, title: step.title, attempt: n, durationMs, detail: outcome.detail, evidence: outcome.evidence, final });
      if (final) {
        report.status = 'failed';
        observer.stepEnd(step, 'failed', report.detail);
        failed(step.id, report.detail);
        break;
      }
      observer.stepUpdate(step, `attempt ${n} of ${step.retries + 1} failed: ${report.detail}; retrying in ${Math.round(step.retryDelayMs / 1000)} s`);
      await clock.sleep(step.retryDelayMs);
    }
  }

  const end = stopped ?? firstFailure;
  return { ok: !end, ...(end ? { stoppedAt: end.at, reason: end.reason } : {}), steps: reports };
}
