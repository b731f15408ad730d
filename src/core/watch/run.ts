/**
 * The watch loop: on every tick read what the log gained (and/or probe once), look for manual
 * triggers, start a validation when one is due (it runs beside the loop), evaluate, report. It
 * ends when a trigger fires (then, if asked, starts the rollback), when --max-duration passes,
 * or when aborted. The clock is a parameter so tests can drive time.
 */
import { existsSync } from 'node:fs';
import type { Progress } from '../../output/progress.js';
import type { WatchConfig } from './config.js';
import { LogFollower, parseCombinedLine, type RequestEvent } from './nginx-log.js';
import { probeOnce } from './probe.js';
import { loadRollbackRun, type RollbackRun, type RollbackRunOptions } from './rollback-bridge.js';
import { loadBaseline, readManualSignals } from './signals.js';
import { TriggerEngine, type Baseline, type TriggerState, type ValidationOutcome } from './triggers.js';
import { runValidation, type ValidationSides } from './validation.js';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export interface WatchOptions {
  config: WatchConfig;
  workDir: string;
  /** nginx access log (combined format) to follow. */
  logFile?: string;
  /** Read what the log already holds (default: only lines appended from now on). */
  fromStart?: boolean;
  /** URL to GET on every tick. */
  probeUrl?: string;
  probeTimeoutMs?: number;
  /** Source and target for the corruption trigger's validation; without them it is off. */
  validation?: ValidationSides;
  /** Stop after this many seconds when nothing fired. */
  maxDurationSeconds?: number;
  /** Start the rollback when a trigger fires (the command checks --yes before). */
  autoRollback?: Omit<RollbackRunOptions, 'workDir'>;
  signal?: AbortSignal;
}

export interface WatchDeps {
  clock?: Clock;
  /** Replaces the in-process validation (tests of the loop). */
  validate?: (at: number) => Promise<ValidationOutcome>;
  rollbackRun?: RollbackRun;
}

export interface WatchResult {
  fired: TriggerState | null;
  firedAt?: string;
  startedAt: string;
  endedAt: string;
  ticks: number;
  /** Lines of the log that were not combined format (ignored). */
  unparsedLines: number;
  states: TriggerState[];
  baseline: Baseline | null;
  rollback?: { started: boolean; ok?: boolean; result?: unknown; error?: string };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** One line for people: each trigger's status and value. */
export function describeStates(states: TriggerState[]): string {
  return states.filter((s) => s.status !== 'off').map((s) => {
    const held = s.status === 'breach' ? ` (held ${s.heldSeconds}/${s.forSeconds} s)` : '';
    return `${s.name}: ${s.status}${held} · ${s.value}`;
  }).join(' | ') || 'no trigger is watched';
}

export async function runWatch(options: WatchOptions, progress: Progress, deps: WatchDeps = {}): Promise<WatchResult> {
  const clock = deps.clock ?? systemClock;
  const { config } = options;
  const baseline = loadBaseline(options.workDir);
  const requests = Boolean(options.logFile || options.probeUrl);
  const validation = Boolean(options.validation || deps.validate);
  const engine = new TriggerEngine(config, baseline, { requests, validation });
  const follower = options.logFile ? new LogFollower(options.logFile, options.fromStart) : undefined;
  const validateAt = deps.validate ?? (options.validation ? (at: number) => runValidation(options.validation!, config.validation, at) : undefined);

  const started = clock.now();
  let ticks = 0;
  let unparsedLines = 0;
  let states: TriggerState[] = [];
  let lastPrinted = '';
  let lastPrintedAt = -Infinity;
  let lastValidationStart = -Infinity;
  let validationRunning: Promise<void> | null = null;
  let fired: TriggerState | null = null;

  progress.log('info', `watching: ${[options.logFile && `log ${options.logFile}`, options.probeUrl && `probe ${options.probeUrl}`, validation && 'validation', `manual (${config.manual.names.join(', ')})`].filter(Boolean).join(', ')}; every ${config.interval} s`);
  if (requests && config.latency.enabled && !baseline) progress.log('warn', 'no latency baseline in the work directory: the latency trigger is off (record one with `offramp watch baseline` before the cutover)');

  if (options.logFile && !existsSync(options.logFile)) progress.log('warn', `${options.logFile} does not exist (yet): watching for it to appear`);
  let warnedFormat = false;

  try {
    for (;;) {
      const now = clock.now();
      if (follower) {
        const events: RequestEvent[] = [];
        for (const line of await follower.read()) {
          const e = parseCombinedLine(line);
          if (e) events.push(e); else unparsedLines++;
        }
        engine.observe(events);
        if (!warnedFormat && unparsedLines > 0 && events.length === 0) {
          warnedFormat = true;
          progress.log('warn', `${options.logFile}: lines not in nginx combined format are ignored (${unparsedLines} so far); check the log_format`);
        }
      }
      if (options.probeUrl) engine.observe([await probeOnce(options.probeUrl, options.probeTimeoutMs ?? 5_000, () => clock.now())]);
      engine.setManual(readManualSignals(options.workDir));
      if (validateAt && !validationRunning && now - lastValidationStart >= config.validation.every * 1000) {
        lastValidationStart = now;
        validationRunning = validateAt(now)
          .then((outcome) => engine.setValidation(outcome), (error: unknown) => engine.setValidation({ at: now, failed: false, summary: '', error: error instanceof Error ? error.message : String(error) }))
          .finally(() => { validationRunning = null; });
        // The first run is awaited, so the first report already says whether the data is whole.
        if (ticks === 0) await validationRunning;
      }

      states = engine.evaluate(clock.now());
      ticks++;
      const line = describeStates(states);
      const changed = line.replace(/\d+/g, '#') !== lastPrinted.replace(/\d+/g, '#');
      if (changed || clock.now() - lastPrintedAt >= 60_000) {
        progress.log(states.some((s) => s.status === 'breach' || s.status === 'error') ? 'warn' : 'info', line);
        lastPrinted = line;
        lastPrintedAt = clock.now();
      }
      fired = states.find((s) => s.status === 'fired') ?? null;
      if (fired) break;
      if (options.signal?.aborted) break;
      if (options.maxDurationSeconds !== undefined && clock.now() - started >= options.maxDurationSeconds * 1000) break;
      await clock.sleep(config.interval * 1000);
    }
  } finally {
    await follower?.close();
  }

  const result: WatchResult = {
    fired, startedAt: iso(started), endedAt: iso(clock.now()), ticks, unparsedLines, states, baseline,
    ...(fired ? { firedAt: iso(clock.now()) } : {}),
  };
  if (!fired) {
    await validationRunning;
    return result;
  }

  progress.log('warn', [
    '',
    '############################################################',
    `#  ROLLBACK TRIGGER FIRED: ${fired.name}`,
    `#  ${fired.detail ?? fired.value}`,
    `#  rule: ${fired.rule}`,
    options.autoRollback ? '#  starting the rollback (offramp rollback run) now' : '#  decide now: offramp rollback run',
    '############################################################',
  ].join('\n'));

  if (options.autoRollback) {
    try {
      const rollbackRun = deps.rollbackRun ?? (await loadRollbackRun());
      const databases = options.validation ? { source: options.validation.source, target: options.validation.target } : undefined;
      const outcome = await rollbackRun({ ...options.autoRollback, workDir: options.workDir, cause: `offramp watch: rollback trigger ${fired.name} fired (${fired.detail ?? fired.value})` }, progress, databases ? { databases } : undefined);
      const ok = (outcome as { ok?: boolean } | null)?.ok;
      result.rollback = { started: true, ok: ok !== false, result: outcome };
      if (ok === false) progress.log('warn', 'THE ROLLBACK STOPPED PART-WAY: see `offramp rollback run` / `offramp cutover status`');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      result.rollback = { started: false, error: message };
      progress.log('warn', `THE ROLLBACK DID NOT START: ${message}. Run \`offramp rollback run\` by hand now.`);
    }
  }
  // A validation still running is let finish, so its connections close before the command returns.
  await validationRunning;
  return result;
}
