/**
 * What the engine and the step kinds share: the clock (injectable so waits and polls run on test
 * time), the person-facing I/O (confirmations), the databases, and the outcome a step returns.
 */
import type { DnsProvider, DnsRecordType } from '../dns/types.js';
import type { ProviderConfig } from '../dns/providers.js';
import type { Evidence, PassedRecord } from './journal.js';
import type { Step } from './schema.js';

export interface Clock {
  now(): number;
  /** Resolves after ms, or rejects when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  }),
};

/** How the run talks to the person in front of it (the command layer provides it). */
export interface RunIo {
  /** A person can answer prompts. */
  interactive: boolean;
  /** Manual steps confirmed up front (`--confirmed ID,...`). */
  confirmed: string[];
  /** Who confirms: --operator, else $USER. */
  operator: string;
  /** Ask a yes/no question (only called when interactive). */
  confirm(message: string): Promise<boolean>;
  env: NodeJS.ProcessEnv;
}

export interface Databases {
  source?: string;
  target?: string;
  connectTimeoutSeconds: number;
}

export type ResolveFn = (name: string, type: DnsRecordType, resolver: string | undefined, timeoutMs: number) => Promise<{ values: string[]; ttl: number | null; rcode: string }>;

/** DNS access for the dns-* steps: the real providers and resolver by default, injectable for unit tests. */
export interface DnsAccess {
  provider(config: ProviderConfig): Promise<DnsProvider>;
  resolve: ResolveFn;
}

export interface StepOutcome {
  ok: boolean;
  /** One line saying what was found. */
  detail: string;
  evidence: Evidence;
  /** Retrying cannot help (a refused confirmation). */
  final?: boolean;
  /** A manual step: who confirmed it, and how. */
  confirmed?: { by: string; via: 'prompt' | '--confirmed' };
}

export interface StepContext {
  step: Pick<Step, 'id' | 'title' | 'kind'>;
  params: Record<string, unknown>;
  signal: AbortSignal;
  clock: Clock;
  io: RunIo;
  databases: Databases;
  dns: DnsAccess;
  /** Passed records of this journal (wait.ttlOf reads the TTL a dns-update recorded). */
  passed: Map<string, PassedRecord>;
  /** Run another step of the runbook once, without journaling it (wait.until). */
  check(stepId: string, signal: AbortSignal): Promise<StepOutcome>;
  /** Journal evidence now, before acting (a crash after the act must not lose what was there before). */
  note(evidence: Evidence): void;
  /** Notes this step wrote in earlier, interrupted attempts (since it last passed). */
  earlierNotes: Evidence[];
  /** Live progress for long steps (polls, waits). */
  update(message: string): void;
  log(message: string): void;
}

export type StepExecutor = (ctx: StepContext) => Promise<StepOutcome>;

export function pass(detail: string, evidence: Evidence = {}): StepOutcome {
  return { ok: true, detail, evidence };
}

export function fail(detail: string, evidence: Evidence = {}): StepOutcome {
  return { ok: false, detail, evidence };
}
