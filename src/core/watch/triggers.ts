/**
 * The rollback triggers as a state machine over time. Requests (from the log or the probe) are
 * observed with their own time stamps; `evaluate(now)` computes each trigger's condition over its
 * sliding window and how long the condition has held. A trigger fires when its condition has held
 * for its `for` duration, without a break. Time is only ever the `now` passed in, so tests drive it.
 */
import type { WatchConfig } from './config.js';
import type { RequestEvent } from './nginx-log.js';

export type TriggerKind = 'error-rate' | 'latency' | 'validation' | 'manual';
/** off: not watched here; no-data: too little to judge; ok; breach: condition true, not yet for long enough; fired. */
export type TriggerStatus = 'off' | 'no-data' | 'ok' | 'breach' | 'fired' | 'error';

export interface TriggerState {
  name: string;
  kind: TriggerKind;
  status: TriggerStatus;
  /** What was measured, for people: "7.4 % of 312 requests", "p95 412 ms (baseline 180 ms)". */
  value: string;
  /** The rule: "> 5 % for 600 s". */
  rule: string;
  /** Seconds the condition has held (0 when it does not). */
  heldSeconds: number;
  forSeconds: number;
  /** Why it fired, or what went wrong. */
  detail?: string;
}

export interface Baseline {
  recordedAt: string;
  /** Where the samples came from: a probe URL or a log file. */
  source: string;
  samples: number;
  /** Latency in ms at these percentiles. */
  percentiles: Record<string, number>;
}

/** The outcome of one validation run, reduced to what the trigger needs. */
export interface ValidationOutcome {
  at: number;
  failed: boolean;
  summary: string;
  error?: string;
}

export interface ManualSignal { name: string; reason: string; at: string; by?: string }

export function percentileOf(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

export class TriggerEngine {
  private events: RequestEvent[] = [];
  private readonly since = new Map<string, number>();
  private validation: ValidationOutcome | null = null;
  private manual = new Map<string, ManualSignal>();
  private readonly horizonMs: number;

  constructor(private readonly config: WatchConfig, private readonly baseline: Baseline | null, private readonly sources: { requests: boolean; validation: boolean }) {
    this.horizonMs = Math.max(config.errorRate.window, config.latency.window) * 1000;
  }

  observe(events: RequestEvent[]): void {
    for (const e of events) this.events.push(e);
  }

  setValidation(outcome: ValidationOutcome): void { this.validation = outcome; }
  setManual(signals: ManualSignal[]): void { this.manual = new Map(signals.map((s) => [s.name, s])); }

  /** How long `name`'s condition has held at `now` (starting the clock when it first holds). */
  private hold(name: string, condition: boolean, now: number): number {
    if (!condition) {
      this.since.delete(name);
      return 0;
    }
    if (!this.since.has(name)) this.since.set(name, now);
    return (now - this.since.get(name)!) / 1000;
  }

  private state(name: string, kind: TriggerKind, condition: boolean | null, now: number, forSeconds: number, value: string, rule: string, detail?: string): TriggerState {
    if (condition === null) {
      this.since.delete(name);
      return { name, kind, status: 'no-data', value, rule, heldSeconds: 0, forSeconds };
    }
    const held = this.hold(name, condition, now);
    const status: TriggerStatus = !condition ? 'ok' : held >= forSeconds ? 'fired' : 'breach';
    return { name, kind, status, value, rule, heldSeconds: Math.round(held), forSeconds, ...(condition && detail ? { detail } : {}) };
  }

  evaluate(now: number): TriggerState[] {
    // Keep only what a window can still see (events may arrive late, so the cut is by time stamp).
    this.events = this.events.filter((e) => e.at > now - this.horizonMs);
    return [this.errorRate(now), this.latency(now), this.validationState(now), ...this.manualStates(now)];
  }

  private inWindow(now: number, windowSeconds: number): RequestEvent[] {
    const from = now - windowSeconds * 1000;
    return this.events.filter((e) => e.at > from && e.at <= now);
  }

  private errorRate(now: number): TriggerState {
    const c = this.config.errorRate;
    const rule = `> ${c.threshold} % of requests 5xx over ${c.window} s, for ${c.for} s`;
    if (!c.enabled || !this.sources.requests) return { name: 'error-rate', kind: 'error-rate', status: 'off', value: 'not watched', rule, heldSeconds: 0, forSeconds: c.for };
    const seen = this.inWindow(now, c.window);
    const errors = seen.filter((e) => e.status === null || e.status >= 500).length;
    if (seen.length < c.minRequests) return this.state('error-rate', 'error-rate', null, now, c.for, `${seen.length} requests in ${c.window} s (need ${c.minRequests})`, rule);
    const rate = errors / seen.length;
    return this.state('error-rate', 'error-rate', rate * 100 > c.threshold, now, c.for, `${pct(rate)} of ${seen.length} requests`, rule,
      `the 5xx rate stayed above ${c.threshold} % for ${c.for} s`);
  }

  private latency(now: number): TriggerState {
    const c = this.config.latency;
    const p = `p${c.percentile}`;
    const base = this.baseline?.percentiles[p] ?? (this.baseline ? percentileFromBaseline(this.baseline, c.percentile) : undefined);
    const rule = `${p} more than ${c.threshold} % above the baseline, for ${c.for} s`;
    if (!c.enabled || !this.sources.requests) return { name: 'latency', kind: 'latency', status: 'off', value: 'not watched', rule, heldSeconds: 0, forSeconds: c.for };
    if (base === undefined) return { name: 'latency', kind: 'latency', status: 'off', value: 'no baseline recorded (offramp watch baseline)', rule, heldSeconds: 0, forSeconds: c.for };
    const samples = this.inWindow(now, c.window).map((e) => e.latencyMs).filter((v): v is number => v !== undefined);
    if (samples.length < c.minSamples) return this.state('latency', 'latency', null, now, c.for, `${samples.length} timed requests in ${c.window} s (need ${c.minSamples})`, rule);
    const current = percentileOf(samples, c.percentile);
    const slower = base > 0 ? (current - base) / base : 0;
    return this.state('latency', 'latency', slower * 100 > c.threshold, now, c.for,
      `${p} ${Math.round(current)} ms vs baseline ${Math.round(base)} ms (${slower >= 0 ? '+' : ''}${Math.round(slower * 100)} %)`, rule,
      `${p} latency stayed more than ${c.threshold} % above the baseline for ${c.for} s`);
  }

  private validationState(now: number): TriggerState {
    const c = this.config.validation;
    const rule = `validation (${c.mode}, ${c.policy}) fails${c.for > 0 ? `, for ${c.for} s` : ''}`;
    if (!c.enabled || !this.sources.validation) return { name: 'corruption', kind: 'validation', status: 'off', value: 'not watched (no source/target)', rule, heldSeconds: 0, forSeconds: c.for };
    const v = this.validation;
    if (!v) return this.state('corruption', 'validation', null, now, c.for, 'first validation running', rule);
    if (v.error) {
      this.since.delete('corruption');
      return { name: 'corruption', kind: 'validation', status: 'error', value: `validation could not run: ${v.error}`, rule, heldSeconds: 0, forSeconds: c.for };
    }
    return this.state('corruption', 'validation', v.failed, now, c.for, v.summary, rule, `validation found lost or damaged data: ${v.summary}`);
  }

  private manualStates(now: number): TriggerState[] {
    return this.config.manual.names.map((name) => {
      const s = this.manual.get(name);
      return this.state(name, 'manual', Boolean(s), now, 0, s ? `fired by ${s.by ?? 'a person'} at ${s.at}: ${s.reason}` : 'not fired', `offramp watch trigger ${name} --reason …`,
        s ? `${name}: ${s.reason}` : undefined);
    });
  }
}

/** A baseline holding other percentiles than asked: use the nearest one above (conservative). */
function percentileFromBaseline(b: Baseline, p: number): number | undefined {
  const known = Object.entries(b.percentiles).map(([k, v]) => [Number(k.slice(1)), v] as const).sort((x, y) => x[0] - y[0]);
  return (known.find(([q]) => q >= p) ?? known.at(-1))?.[1];
}
