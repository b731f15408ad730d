/**
 * `offramp cutover init|plan|run|status`: the work behind the commands. Everything that can be
 * refused (a broken runbook, unset variables, a typo in --from or --confirmed, changes without
 * --yes) is refused before the journal is touched.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfirmationRequiredError, UsageError } from '../../errors.js';
import type { Progress } from '../../output/progress.js';
import { redactDeep } from '../../secrets.js';
import { PACKAGE_ROOT } from '../../version.js';
import { runRunbook } from './engine.js';
import { privateDir, RunbookJournal, passedSteps, type StampedRunbookRecord } from './journal.js';
import { loadRunbook } from './load.js';
import { acquireRunLock } from './lock.js';
import { checkSqlSteps } from './sql-check.js';
import { renderRunReport } from './report.js';
import type { Runbook, Step } from './schema.js';
import { DEFAULT_RUNBOOKS, makeIo, runPaths, setup, type RunEnvironment, type RunbookRunResult } from './session.js';
import { changesThings } from './steps/index.js';
import type { RunIo } from './types.js';

export interface InitResult { written: string[] }

/** Copy the shipped runbooks into the project for editing. */
export function cutoverInit(options: { dir: string; yes: boolean }): InitResult {
  const targets = Object.values(DEFAULT_RUNBOOKS).map((rel) => ({ from: join(PACKAGE_ROOT, rel), to: resolve(options.dir, rel) }));
  const existing = targets.filter((t) => existsSync(t.to));
  if (existing.length && !options.yes) {
    throw new ConfirmationRequiredError(`${existing.map((t) => t.to).join(' and ')} already exist${existing.length === 1 ? 's' : ''}`, { hint: 'add --yes to replace them with the defaults (your edits are lost), or edit them as they are' });
  }
  for (const t of targets) {
    mkdirSync(dirname(t.to), { recursive: true });
    copyFileSync(t.from, t.to);
  }
  return { written: targets.map((t) => t.to) };
}

export function runbookFile(given: string | undefined, kind: 'cutover' | 'rollback'): string {
  const file = given ?? DEFAULT_RUNBOOKS[kind];
  if (!existsSync(file)) {
    throw new UsageError(`no ${kind} runbook at ${file}`, { hint: given ? 'check the --runbook path' : '`offramp cutover init` writes runbooks/cutover.yaml and runbooks/rollback.yaml; or pass --runbook FILE' });
  }
  return file;
}

/**
 * Cutover records that still count: a completed rollback undid everything journaled before it
 * (its run-start notes how many cutover records there were: its basis).
 */
export function liveCutoverRecords(workDir: string): StampedRunbookRecord[] {
  const records = RunbookJournal.read(runPaths(workDir, 'cutover').journal);
  const rollback = RunbookJournal.read(runPaths(workDir, 'rollback').journal);
  const completed = new Set(rollback.filter((r) => r.type === 'run-finished' && r.ok).map((r) => r.run));
  const basis = rollback.filter((r) => r.type === 'run-start' && completed.has(r.run)).at(-1);
  return basis?.type === 'run-start' && basis.basis !== undefined ? records.slice(basis.basis) : records;
}

export interface PlanStep {
  id: string;
  title: string;
  kind: string;
  line: number;
  params: Record<string, unknown>;
  requires: string[];
  undo?: unknown;
  timeoutMs?: number;
  retries: number;
  changes: boolean;
  /** What the next `cutover run` does with it. */
  next: 'run' | 'skip: passed earlier';
}

export interface PlanResult {
  runbook: { name: string; file: string; description?: string; sha256: string };
  unset: string[];
  phases: Array<{ id: string; title: string; steps: PlanStep[] }>;
}

export async function cutoverPlan(options: { runbook?: string; workDir: string; env?: NodeJS.ProcessEnv }): Promise<PlanResult> {
  const file = runbookFile(options.runbook, 'cutover');
  const rb = loadRunbook(file, { env: options.env });
  await checkSqlSteps(rb);
  const passed = passedSteps(liveCutoverRecords(options.workDir));
  return redactDeep({
    runbook: { name: rb.name, file, ...(rb.description ? { description: rb.description } : {}), sha256: rb.sha256 },
    unset: rb.unset,
    phases: rb.phases.map((ph) => ({
      id: ph.id,
      title: ph.title,
      steps: ph.steps.map((s) => ({
        id: s.id, title: s.title, kind: s.kind, line: s.line, params: s.params, requires: s.requires,
        ...(s.undo ? { undo: s.undo } : {}), ...(s.timeoutMs !== undefined ? { timeoutMs: s.timeoutMs } : {}), retries: s.retries,
        changes: changesThings(s.kind, s.params),
        next: passed.has(s.id) ? 'skip: passed earlier' as const : 'run' as const,
      })),
    })),
  });
}

export interface CutoverRunOptions {
  runbook?: string;
  workDir: string;
  dryRun: boolean;
  from?: string;
  rerun: boolean;
  yes: boolean;
  confirmed: string[];
  interactive: boolean;
}

/** Refusals that must happen before anything runs (exit 2). */
export function checkRunInputs(rb: Runbook, options: { from?: string; confirmed: string[] }): void {
  const steps = rb.phases.flatMap((p) => p.steps);
  if (rb.unset.length) {
    throw new UsageError(`the runbook uses variables that are set nowhere: ${rb.unset.join(', ')}`, { hint: `export them (e.g. ${rb.unset[0]}=...) or give them a default under vars: in ${rb.file}` });
  }
  if (options.from && !steps.some((s) => s.id === options.from)) {
    throw new UsageError(`--from ${options.from} names no step of ${rb.file}`, { hint: `steps: ${steps.map((s) => s.id).join(', ')}` });
  }
  const manual = new Set(steps.filter((s) => s.kind === 'manual').map((s) => s.id));
  const unknown = options.confirmed.filter((id) => !manual.has(id));
  if (unknown.length) {
    throw new UsageError(`--confirmed names no manual step: ${unknown.join(', ')}`, { hint: `manual steps: ${[...manual].join(', ') || 'none'}` });
  }
}

/** Changing steps need --yes or a yes at the prompt; without either nothing runs (exit 2). */
export async function confirmChanges(what: string, changing: Step[], yes: boolean, io: RunIo): Promise<void> {
  if (yes || changing.length === 0) return;
  const list = changing.map((s) => {
    const p = s.params;
    if (s.kind === 'dns-update') return `${s.id} (dns-update ${String(p.name)} ${String(p.type)}${Array.isArray(p.values) ? ` → ${p.values.join(', ')}` : ''} TTL ${String(p.ttl)})`;
    return `${s.id} (${s.kind})`;
  }).join(', ');
  if (io.interactive && (await io.confirm(`${what} changes things outside offramp: ${list}. Continue?`))) return;
  throw new ConfirmationRequiredError(`${what} changes things outside offramp (${list}) and was not confirmed`, { hint: 'add --yes to go ahead, or --dry-run to rehearse without changing anything' });
}

export async function cutoverRun(options: CutoverRunOptions, progress: Progress, environment?: RunEnvironment): Promise<RunbookRunResult> {
  const io = makeIo(environment?.io, { interactive: options.interactive, confirmed: options.confirmed });
  const file = runbookFile(options.runbook, 'cutover');
  const rb = loadRunbook(file, { env: io.env });
  checkRunInputs(rb, options);
  await checkSqlSteps(rb);
  const { clock, dns, observer, databases } = setup({ ...environment, io }, progress, options);
  const paths = runPaths(options.workDir, 'cutover', options.dryRun);
  const history = options.dryRun ? [] : liveCutoverRecords(options.workDir);
  const passed = passedSteps(history);
  const steps = rb.phases.flatMap((p) => p.steps);
  const fromIndex = options.from ? steps.findIndex((s) => s.id === options.from) : 0;
  if (!options.dryRun) {
    const toRun = steps.filter((s, i) => i >= fromIndex && (options.rerun || !passed.has(s.id)));
    await confirmChanges('this cutover', toRun.filter((s) => changesThings(s.kind, s.params)), options.yes, io);
  }

  privateDir(options.workDir);
  const lock = options.dryRun ? undefined : acquireRunLock(options.workDir, 'cutover run');
  let result: Awaited<ReturnType<typeof runRunbook>>;
  let journal: RunbookJournal | undefined;
  try {
    const lastStart = [...history].reverse().find((r) => r.type === 'run-start');
    if (lastStart?.type === 'run-start' && lastStart.sha256 !== rb.sha256) {
      progress.log('warn', `${file} changed since run ${lastStart.run}: steps that passed then still count (--rerun runs them again)`);
    }
    journal = options.dryRun ? undefined : RunbookJournal.open(paths.journal, () => clock.now());
    journal?.append({
      type: 'run-start', runbook: rb.name, file, sha256: rb.sha256, operator: io.operator, dryRun: false,
      ...(options.from ? { from: options.from } : {}), rerun: options.rerun, vars: rb.vars,
    });
    observer.start(rb.phases);
    result = await runRunbook({ runbook: rb, journal, history, dryRun: options.dryRun, from: options.from, rerun: options.rerun, io, databases, clock, dns, observer });
    journal?.append({ type: 'run-finished', ok: result.ok, ...(result.stoppedAt ? { stoppedAt: result.stoppedAt, reason: result.reason } : {}) });
    journal?.close();
    await observer.finish(result.ok);
  } finally {
    lock?.release();
  }

  const records = journal ? RunbookJournal.read(paths.journal) : [];
  writeFileSync(paths.report, renderRunReport({
    title: options.dryRun ? 'Cutover rehearsal (dry run)' : 'Cutover report',
    runbook: { name: rb.name, file }, journal: journal?.path, ok: result.ok, dryRun: options.dryRun,
    stoppedAt: result.stoppedAt, reason: result.reason, steps: result.steps, records,
  }), { mode: 0o600 });
  return redactDeep({
    ok: result.ok, kind: 'cutover', runbook: { name: rb.name, file }, dryRun: options.dryRun, run: journal?.run ?? 0,
    journal: journal?.path ?? null, report: paths.report,
    ...(result.stoppedAt ? { stoppedAt: result.stoppedAt, reason: result.reason } : {}),
    steps: result.steps,
  });
}

export interface StatusResult {
  journal: string;
  runs: Array<{ run: number; startedAt: string; operator: string; from?: string; rerun: boolean; finished: null | { ok: boolean; at: string; stoppedAt?: string } }>;
  steps: Array<{ id: string; phase: string; title: string; state: string; at: string; detail: string; confirmedBy?: string }>;
  rollback: { runs: number; lastOk: boolean | null };
}

/** What the journals say: every run, and the latest state of every step. */
export function cutoverStatus(options: { workDir: string }): StatusResult {
  const paths = runPaths(options.workDir, 'cutover');
  const records = RunbookJournal.read(paths.journal);
  const runs: StatusResult['runs'] = [];
  const steps = new Map<string, StatusResult['steps'][number]>();
  for (const r of records) {
    if (r.type === 'run-start') runs.push({ run: r.run, startedAt: r.at, operator: r.operator, ...(r.from ? { from: r.from } : {}), rerun: r.rerun, finished: null });
    else if (r.type === 'run-finished') {
      const run = runs.find((x) => x.run === r.run);
      if (run) run.finished = { ok: r.ok, at: r.at, ...(r.stoppedAt ? { stoppedAt: r.stoppedAt } : {}) };
    } else if (r.type === 'confirmed') {
      const s = steps.get(r.step);
      if (s) s.confirmedBy = r.by;
    } else if (r.type === 'step-started' || r.type === 'step-passed' || r.type === 'step-failed' || r.type === 'step-skipped') {
      const prior = steps.get(r.step);
      // A skip of an already-passed step does not hide that it passed.
      if (r.type === 'step-skipped' && prior?.state === 'passed') continue;
      const detail = r.type === 'step-skipped' ? r.reason : r.type === 'step-started' ? `attempt ${r.attempt}` : r.detail;
      steps.set(r.step, { id: r.step, phase: r.phase, title: r.title, state: r.type.replace('step-', ''), at: r.at, detail, ...(prior?.confirmedBy ? { confirmedBy: prior.confirmedBy } : {}) });
    }
  }
  const rollbackRecords = RunbookJournal.read(runPaths(options.workDir, 'rollback').journal);
  const lastRollback = rollbackRecords.filter((r) => r.type === 'run-finished').at(-1);
  return {
    journal: paths.journal, runs, steps: [...steps.values()],
    rollback: { runs: rollbackRecords.filter((r) => r.type === 'run-start').length, lastOk: lastRollback?.type === 'run-finished' ? lastRollback.ok : null },
  };
}
