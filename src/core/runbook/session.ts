/**
 * What cutover and rollback runs share: where their files live in the work directory, the
 * default DNS access (the providers and resolver, imported only when a dns step runs), and the
 * pieces a caller (command, watch's auto-rollback, tests) may inject.
 */
import { join } from 'node:path';
import type { Progress } from '../../output/progress.js';
import type { StepReport, RunObserver } from './engine.js';
import { progressObserver } from './observe.js';
import { systemClock, type Clock, type Databases, type DnsAccess, type RunIo } from './types.js';

export const DEFAULT_RUNBOOKS = { cutover: join('runbooks', 'cutover.yaml'), rollback: join('runbooks', 'rollback.yaml') };

export function runPaths(workDir: string, kind: 'cutover' | 'rollback', dryRun = false) {
  return {
    journal: join(workDir, `${kind}.journal.ndjson`),
    report: join(workDir, `${kind}${dryRun ? '-dry-run' : ''}-report.md`),
  };
}

/** Everything a run may be given instead of the defaults. */
export interface RunEnvironment {
  io?: Partial<RunIo>;
  databases?: Partial<Databases>;
  clock?: Clock;
  dns?: DnsAccess;
  observer?: RunObserver;
}

export function operatorName(env: NodeJS.ProcessEnv): string {
  return env.OFFRAMP_OPERATOR || env.USER || env.USERNAME || 'unknown';
}

export function makeIo(partial: Partial<RunIo> | undefined, defaults: { interactive: boolean; confirmed: string[] }): RunIo {
  const env = partial?.env ?? process.env;
  return {
    interactive: partial?.interactive ?? defaults.interactive,
    confirmed: partial?.confirmed ?? defaults.confirmed,
    operator: partial?.operator ?? operatorName(env),
    confirm: partial?.confirm ?? (async () => false),
    env,
  };
}

export function defaultDns(io: RunIo, progress: Progress): DnsAccess {
  return {
    async provider(config) {
      const { makeProvider } = await import('../dns/providers.js');
      return makeProvider(config, { env: io.env, confirm: (m) => (io.interactive ? io.confirm(m) : Promise.resolve(false)), log: (m) => progress.log('info', m) });
    },
    async resolve(name, type, resolver, timeoutMs) {
      const { resolveRecord } = await import('../dns/resolve.js');
      return resolveRecord(name, type, resolver, timeoutMs);
    },
  };
}

export function setup(env: RunEnvironment | undefined, progress: Progress, defaults: { interactive: boolean; confirmed: string[] }) {
  const io = makeIo(env?.io, defaults);
  return {
    io,
    clock: env?.clock ?? systemClock,
    dns: env?.dns ?? defaultDns(io, progress),
    observer: env?.observer ?? progressObserver(progress),
    databases: { connectTimeoutSeconds: 10, ...env?.databases },
  };
}

/** The result of `cutover run` and `rollback run` (the JSON `result`). */
export interface RunbookRunResult {
  ok: boolean;
  kind: 'cutover' | 'rollback';
  runbook: { name: string; file: string } | null;
  dryRun: boolean;
  /** Run number in the journal (0 for a dry run). */
  run: number;
  journal: string | null;
  report: string;
  stoppedAt?: string;
  reason?: string;
  /** rollback: the cutover steps undone, newest first. */
  undone?: StepReport[];
  steps: StepReport[];
}
