/**
 * `offramp rollback run` (also what `offramp watch --auto-rollback` calls): walk the cutover
 * journal backwards undoing every passed step that has an undo — a dns-update puts back exactly
 * the record set it recorded — then run the rollback runbook. Its own journal makes it resumable:
 * an undo that is done is not done again.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { Progress } from '../../output/progress.js';
import { redact, redactDeep } from '../../secrets.js';
import { confirmChanges, checkRunInputs, liveCutoverRecords } from './cutover.js';
import { runOnce, runRunbook, type StepReport } from './engine.js';
import { passedSteps, privateDir, RunbookJournal, type PassedRecord } from './journal.js';
import { loadRunbook, resolveUndo } from './load.js';
import { acquireRunLock } from './lock.js';
import { checkSqlSteps } from './sql-check.js';
import { renderRunReport } from './report.js';
import type { Phase, Runbook, Step } from './schema.js';
import { DEFAULT_RUNBOOKS, makeIo, runPaths, setup, type RunEnvironment, type RunbookRunResult } from './session.js';
import { undoDnsUpdate } from './steps/dns.js';
import { changesThings } from './steps/index.js';
import type { StepContext, StepOutcome } from './types.js';

export type { RunbookRunResult } from './session.js';

export interface RollbackRunOptions {
  runbook?: string; workDir: string; yes: boolean; confirmed: string[]; dryRun: boolean; interactive: boolean;
  /** Why this rollback runs (watch --auto-rollback: the trigger that fired); journaled and in the report. */
  cause?: string;
}

/** Passed cutover steps with an undo, newest first (journal order: timestamps can tie). */
function undoCandidates(records: ReturnType<typeof liveCutoverRecords>): PassedRecord[] {
  const latest = new Set(passedSteps(records).values());
  return records.filter((r): r is PassedRecord => r.type === 'step-passed' && latest.has(r) && r.undo !== undefined).reverse();
}

/** A pseudo-step so the live view and the report can show an undo like any step. */
function undoStep(r: PassedRecord): Step {
  const kind = r.undo === 'auto' ? r.kind : (r.undo as { kind: Step['kind'] }).kind;
  return { id: `undo:${r.step}`, title: `undo ${r.title}`, kind, phase: 'undo', params: {}, retries: 0, retryDelayMs: 0, requires: [], line: 0 };
}

export async function rollbackRun(options: RollbackRunOptions, progress: Progress, environment?: RunEnvironment): Promise<RunbookRunResult> {
  const io = makeIo(environment?.io, { interactive: options.interactive, confirmed: options.confirmed });
  const cutoverRecords = liveCutoverRecords(options.workDir);
  const cutoverStart = [...cutoverRecords].reverse().find((r) => r.type === 'run-start');
  const vars = cutoverStart?.type === 'run-start' ? cutoverStart.vars : {};
  const file = options.runbook ?? (existsSync(DEFAULT_RUNBOOKS.rollback) ? DEFAULT_RUNBOOKS.rollback : undefined);
  const rb: Runbook | undefined = file ? loadRunbook(file, { env: io.env }) : undefined;
  if (rb) {
    checkRunInputs(rb, { confirmed: options.confirmed });
    await checkSqlSteps(rb);
  }
  const { clock, dns, observer, databases } = setup({ ...environment, io }, progress, options);
  const paths = runPaths(options.workDir, 'rollback', options.dryRun);

  // Resume: a rollback run counts only while the cutover journal has not grown since.
  const basis = RunbookJournal.read(runPaths(options.workDir, 'cutover').journal).length;
  const all = options.dryRun ? [] : RunbookJournal.read(paths.journal);
  const sameBasis = new Set(all.filter((r) => r.type === 'run-start' && r.basis === basis).map((r) => r.run));
  const history = all.filter((r) => sameBasis.has(r.run));
  const undoneAlready = new Set(history.filter((r) => r.type === 'undo-passed').map((r) => `${r.step}@${r.of}`));

  const candidates = undoCandidates(cutoverRecords);
  const pending = candidates.filter((c) => !undoneAlready.has(`${c.step}@${c.at}`));
  if (!options.dryRun) {
    const rbPassed = passedSteps(history);
    const changing = [...pending.map(undoStep), ...(rb?.phases.flatMap((p) => p.steps).filter((s) => !rbPassed.has(s.id) && s.kind !== 'manual') ?? [])];
    await confirmChanges('this rollback', changing.filter((s) => s.phase === 'undo' || changesThings(s.kind, s.params)), options.yes, io);
  }

  privateDir(options.workDir);
  const lock = options.dryRun ? undefined : acquireRunLock(options.workDir, 'rollback run');
  try {
    return await rollbackLocked();
  } finally {
    lock?.release();
  }

  async function rollbackLocked(): Promise<RunbookRunResult> {
    const journal = options.dryRun ? undefined : RunbookJournal.open(paths.journal, () => clock.now());
    journal?.append({ type: 'run-start', runbook: rb?.name ?? '(undo only)', file: file ?? '', sha256: rb?.sha256 ?? '', operator: io.operator, dryRun: false, rerun: false, vars: rb?.vars ?? {}, basis, ...(options.cause ? { cause: options.cause } : {}) });
    const undoPhase: Phase = { id: 'undo', title: 'Undo the cutover (newest first)', steps: candidates.map(undoStep) };
    observer.start([undoPhase, ...(rb?.phases ?? [])]);

    const undone: StepReport[] = [];
    let stopped: { at: string; reason: string } | undefined;
    for (const record of candidates) {
      const step = undoStep(record);
      const report: StepReport = { id: step.id, phase: 'undo', title: step.title, kind: step.kind, status: 'not-run', detail: '', attempts: 0 };
      undone.push(report);
      if (stopped) {
        report.detail = `the rollback stopped at ${stopped.at}`;
        observer.stepEnd(step, 'not-run', report.detail);
        continue;
      }
      if (undoneAlready.has(`${record.step}@${record.at}`)) {
        report.status = 'already-passed';
        report.detail = 'undone by an earlier rollback run';
        observer.stepEnd(step, 'already-passed', report.detail);
        continue;
      }
      if (options.dryRun) {
        report.status = 'dry-run';
        report.detail = record.undo === 'auto' ? `would restore what ${record.step} recorded` : `would run its ${step.kind} undo`;
        observer.stepEnd(step, 'dry-run', report.detail);
        continue;
      }
      journal?.append({ type: 'undo-started', step: record.step, kind: step.kind, of: record.at });
      observer.stepStart(step, 1);
      report.attempts = 1;
      const outcome = await undoOne(record, step, { clock, io, databases, dns, passed: new Map(), note: () => {}, earlierNotes: [], check: () => Promise.reject(new Error('an undo cannot wait for a step')), update: (m) => observer.stepUpdate(step, redact(m)), log: () => {} }, vars);
      report.detail = redact(outcome.detail);
      report.evidence = outcome.evidence;
      if (outcome.ok) {
        report.status = 'passed';
        journal?.append({ type: 'undo-passed', step: record.step, kind: step.kind, of: record.at, detail: outcome.detail, evidence: outcome.evidence });
        observer.stepEnd(step, 'passed', report.detail);
      } else {
        report.status = 'failed';
        journal?.append({ type: 'undo-failed', step: record.step, kind: step.kind, of: record.at, detail: outcome.detail });
        observer.stepEnd(step, 'failed', report.detail);
        stopped = { at: step.id, reason: report.detail };
      }
    }

    let steps: StepReport[] = [];
    if (rb) {
      if (stopped) {
        for (const s of rb.phases.flatMap((p) => p.steps)) {
          const detail = `the rollback stopped at ${stopped.at}`;
          steps.push({ id: s.id, phase: s.phase, title: s.title, kind: s.kind, status: 'not-run', detail, attempts: 0 });
          observer.stepEnd(s, 'not-run', detail);
        }
      } else {
        const result = await runRunbook({ runbook: rb, journal, history, dryRun: options.dryRun, rerun: false, io, databases, clock, dns, observer });
        steps = result.steps;
        if (!result.ok) stopped = { at: result.stoppedAt!, reason: result.reason ?? '' };
      }
    }
    const ok = !stopped;
    journal?.append({ type: 'run-finished', ok, ...(stopped ? { stoppedAt: stopped.at, reason: stopped.reason } : {}) });
    journal?.close();
    await observer.finish(ok);

    writeFileSync(paths.report, renderRunReport({
      title: options.dryRun ? 'Rollback rehearsal (dry run)' : 'Rollback report',
      runbook: { name: rb?.name ?? '(no rollback runbook: undo only)', file: file ?? '' }, journal: journal?.path, ok, dryRun: options.dryRun,
      stoppedAt: stopped?.at, reason: stopped?.reason, ...(options.cause ? { cause: options.cause } : {}), steps, undone, records: journal ? RunbookJournal.read(paths.journal) : [],
    }), { mode: 0o600 });
    return redactDeep({
      ok, kind: 'rollback', runbook: rb ? { name: rb.name, file: file! } : null, dryRun: options.dryRun, run: journal?.run ?? 0,
      journal: journal?.path ?? null, report: paths.report, ...(stopped ? { stoppedAt: stopped.at, reason: stopped.reason } : {}), undone, steps,
    });
  }
}

async function undoOne(record: PassedRecord, step: Step, base: Omit<StepContext, 'step' | 'params' | 'signal'>, vars: Record<string, string>): Promise<StepOutcome> {
  try {
    if (record.undo === 'auto') return await undoDnsUpdate(base, record.evidence);
    const action = resolveUndo(record.undo!, { env: base.io.env, vars, secrets: [], unset: new Set() });
    const timeoutMs = (record.undo as { timeout?: number }).timeout;
    return await runOnce({ ...step, kind: action.kind, ...(timeoutMs !== undefined ? { timeoutMs } : {}) }, action.params, base);
  } catch (error) {
    return { ok: false, detail: (error as Error).message, evidence: {} };
  }
}
