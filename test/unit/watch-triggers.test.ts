/**
 * The rollback triggers on generated nginx log lines, with time driven by the test: a 5xx rate
 * above the threshold for the whole hold window fires; below it, or above it for less than the
 * window, does not. Latency against a baseline, manual and validation triggers likewise.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { defaultWatchConfig, loadWatchConfig } from '../../src/core/watch/config.js';
import { formatCombinedLine, parseCombinedLine, type RequestEvent } from '../../src/core/watch/nginx-log.js';
import { TriggerEngine, type Baseline, type TriggerState } from '../../src/core/watch/triggers.js';
import { judgeValidation } from '../../src/core/watch/validation.js';
import type { ValidateReport } from '../../src/core/validate/types.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const SECOND = 1000;

/** `perSecond` requests every second from `from` to `to` (seconds after T0), `errorPercent` of them 5xx, as log lines parsed back. */
function traffic(from: number, to: number, errorPercent: number, perSecond = 20, latencyMs?: number): RequestEvent[] {
  const events: RequestEvent[] = [];
  let errorsDue = 0;
  for (let s = from; s < to; s++) {
    for (let i = 0; i < perSecond; i++) {
      errorsDue += errorPercent / 100;
      const status = errorsDue >= 1 ? 503 : 200;
      if (errorsDue >= 1) errorsDue -= 1;
      const line = formatCombinedLine({ at: T0 + s * SECOND + i, status, ...(latencyMs !== undefined ? { latencyMs } : {}) });
      const parsed = parseCombinedLine(line);
      expect(parsed).not.toBeNull();
      events.push(parsed!);
    }
  }
  return events;
}

/** Feed traffic in 10-second steps and evaluate after each; the states of every evaluation. */
function drive(engine: TriggerEngine, segments: Array<[from: number, to: number, errorPercent: number, latencyMs?: number]>): Array<{ at: number; states: TriggerState[] }> {
  const out: Array<{ at: number; states: TriggerState[] }> = [];
  for (const [from, to, pct, latency] of segments) {
    for (let s = from; s < to; s += 10) {
      engine.observe(traffic(s, Math.min(s + 10, to), pct, 20, latency));
      const at = T0 + Math.min(s + 10, to) * SECOND;
      out.push({ at: (at - T0) / SECOND, states: engine.evaluate(at) });
    }
  }
  return out;
}
const stateOf = (states: TriggerState[], name: string): TriggerState => states.find((s) => s.name === name)!;
const firstFired = (run: Array<{ at: number; states: TriggerState[] }>, name: string): number | undefined => run.find((r) => stateOf(r.states, name).status === 'fired')?.at;

describe('nginx combined log lines', () => {
  test('parse the time stamp (with its offset), status and a trailing $request_time', () => {
    const e = parseCombinedLine('198.51.100.4 - alice [15/Jan/2026:13:00:05 +0100] "POST /rest/v1/posts?select=* HTTP/2.0" 502 157 "https://app.example/" "Dart/3.2 (dart:io)" 0.250');
    expect(e).toEqual({ at: T0 + 5 * SECOND, status: 502, latencyMs: 250 });
    expect(parseCombinedLine('127.0.0.1 - - [15/Jan/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 - "-" "curl/8" rt=0.031')?.latencyMs).toBeCloseTo(31);
    expect(parseCombinedLine('not a log line')).toBeNull();
    expect(parseCombinedLine('127.0.0.1 - - [15/Jan/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 0')?.status).toBe(200);
  });
});

describe('error-rate trigger (default: > 5 % over 60 s, held 600 s)', () => {
  test('a 5xx rate above 5 % for the whole window fires once it has held 600 s, not before', () => {
    const engine = new TriggerEngine(defaultWatchConfig(), null, { requests: true, validation: false });
    const run = drive(engine, [[0, 300, 1], [300, 1200, 8]]);
    const fired = firstFired(run, 'error-rate');
    expect(fired).toBeDefined();
    // The breach is first seen once the 60-s window's rate passes 5 % (a few steps after 300 s); 600 s later it fires.
    const breachStart = run.find((r) => stateOf(r.states, 'error-rate').status === 'breach')!.at;
    expect(breachStart).toBeGreaterThan(300);
    expect(breachStart).toBeLessThanOrEqual(340);
    expect(fired! - breachStart).toBe(600);
    const before = run.find((r) => r.at === fired! - 10)!;
    expect(stateOf(before.states, 'error-rate')).toMatchObject({ status: 'breach', heldSeconds: 590 });
    expect(stateOf(run.find((r) => r.at === fired)!.states, 'error-rate').detail).toMatch(/above 5 % for 600 s/);
  });

  test('below the threshold (4 %) for 20 minutes never fires', () => {
    const engine = new TriggerEngine(defaultWatchConfig(), null, { requests: true, validation: false });
    const run = drive(engine, [[0, 1200, 4]]);
    expect(firstFired(run, 'error-rate')).toBeUndefined();
    expect(run.every((r) => stateOf(r.states, 'error-rate').status === 'ok')).toBe(true);
    expect(stateOf(run.at(-1)!.states, 'error-rate').value).toMatch(/^4\.\d % of 1\d{3} requests$/);
  });

  test('above it for less than the window (9 minutes at 30 %), twice with a recovery between, does not fire', () => {
    const engine = new TriggerEngine(defaultWatchConfig(), null, { requests: true, validation: false });
    const run = drive(engine, [[0, 540, 30], [540, 720, 0], [720, 1260, 30], [1260, 1500, 0]]);
    expect(firstFired(run, 'error-rate')).toBeUndefined();
    expect(Math.max(...run.map((r) => stateOf(r.states, 'error-rate').heldSeconds))).toBeLessThan(600);
    expect(run.some((r) => stateOf(r.states, 'error-rate').status === 'breach')).toBe(true);
  });

  test('too few requests in the window is no data, not a breach; thresholds and windows are configurable', () => {
    const config = loadWatchConfig(undefined, { errorRate: { threshold: 50, window: 10, for: 30, minRequests: 5 } });
    const engine = new TriggerEngine(config, null, { requests: true, validation: false });
    engine.observe([{ at: T0, status: 500 }, { at: T0 + 1, status: 500 }]);
    expect(stateOf(engine.evaluate(T0 + SECOND), 'error-rate').status).toBe('no-data');
    const run = drive(engine, [[10, 60, 60]]);
    expect(firstFired(run, 'error-rate')).toBe(50);
  });

  test('a YAML watch config sets thresholds and windows; flags win over it; unknown keys are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'offramp-watch-cfg-'));
    try {
      const file = join(dir, 'watch.yaml');
      writeFileSync(file, 'interval: 5\nerrorRate:\n  threshold: 2\n  for: 300\nmanual:\n  names: [security, data-leak]\n');
      const c = loadWatchConfig(file, { errorRate: { for: 120 } });
      expect(c.interval).toBe(5);
      expect(c.errorRate).toMatchObject({ threshold: 2, for: 120, window: 60, minRequests: 20 });
      expect(c.manual.names).toEqual(['security', 'data-leak']);
      expect(c.latency).toMatchObject({ threshold: 50, for: 600 });
      writeFileSync(file, 'errorRate:\n  treshold: 2\n');
      expect(() => loadWatchConfig(file)).toThrow(ConfigError);
      expect(() => loadWatchConfig(file)).toThrow(/treshold/);
      expect(() => loadWatchConfig(join(dir, 'missing.yaml'))).toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an invalid watch config is refused with every problem listed', () => {
    let message = '';
    try {
      loadWatchConfig(undefined, { errorRate: { threshold: -1 }, interval: 0, manual: { names: ['Bad Name'] } } as never);
    } catch (error) {
      message = (error as Error).message;
    }
    for (const path of ['errorRate.threshold', 'interval', 'manual.names']) expect(message).toContain(path);
  });
});

describe('latency trigger (default: p95 more than 50 % above the baseline, held 600 s)', () => {
  const baseline: Baseline = { recordedAt: new Date(T0).toISOString(), source: 'test', samples: 100, percentiles: { p50: 80, p95: 100 } };

  test('60 % slower than the baseline for 10 minutes fires; 40 % slower does not', () => {
    const slow = new TriggerEngine(defaultWatchConfig(), baseline, { requests: true, validation: false });
    const run = drive(slow, [[0, 120, 0, 100], [120, 900, 0, 160]]);
    expect(firstFired(run, 'latency')).toBeDefined();
    expect(stateOf(run.find((r) => r.at === firstFired(run, 'latency'))!.states, 'latency').value).toMatch(/p95 160 ms vs baseline 100 ms \(\+60 %\)/);

    const bearable = new TriggerEngine(defaultWatchConfig(), baseline, { requests: true, validation: false });
    expect(firstFired(drive(bearable, [[0, 1200, 0, 140]]), 'latency')).toBeUndefined();
  });

  test('without a baseline the latency trigger is off, and says how to record one', () => {
    const engine = new TriggerEngine(defaultWatchConfig(), null, { requests: true, validation: false });
    expect(stateOf(engine.evaluate(T0), 'latency')).toMatchObject({ status: 'off', value: expect.stringMatching(/watch baseline/) });
  });
});

describe('manual and validation triggers', () => {
  test('a manual trigger fires at once with its reason; withdrawn, it is ok again', () => {
    const engine = new TriggerEngine(defaultWatchConfig(), null, { requests: false, validation: false });
    expect(stateOf(engine.evaluate(T0), 'security').status).toBe('ok');
    engine.setManual([{ name: 'security', reason: 'CVE-2026-0001 in the API', at: new Date(T0).toISOString(), by: 'oncall' }]);
    expect(stateOf(engine.evaluate(T0 + SECOND), 'security')).toMatchObject({ status: 'fired', detail: 'security: CVE-2026-0001 in the API' });
    engine.setManual([]);
    expect(stateOf(engine.evaluate(T0 + 2 * SECOND), 'security').status).toBe('ok');
  });

  test('a failing validation fires the corruption trigger; one that could not run is an error, not a firing', () => {
    const engine = new TriggerEngine(defaultWatchConfig(), null, { requests: false, validation: true });
    expect(stateOf(engine.evaluate(T0), 'corruption').status).toBe('no-data');
    engine.setValidation({ at: T0, failed: false, summary: '', error: 'connection refused' });
    expect(stateOf(engine.evaluate(T0 + SECOND), 'corruption').status).toBe('error');
    engine.setValidation({ at: T0, failed: true, summary: 'public.posts: 3 fewer rows on the target' });
    expect(stateOf(engine.evaluate(T0 + 2 * SECOND), 'corruption')).toMatchObject({ status: 'fired', detail: expect.stringMatching(/3 fewer rows/) });
  });

  test('lost-rows judges a report by what the target lost, not by rows written since the cutover', () => {
    const table = (name: string, source: number, target: number, kinds: Array<'missing' | 'extra' | 'changed'> = []) => ({
      table: name, status: source === target && kinds.length === 0 ? 'ok' : 'differs', key: ['id'], rows: { source, target }, columns: [],
      differences: kinds.map((kind) => ({ kind, key: { id: '1' } })), differencesTruncated: false, durationMs: 1,
    });
    const report = (tables: ReturnType<typeof table>[]) => ({ tables, summary: { ok: tables.every((t) => t.status === 'ok'), tables: tables.length, tablesDiffering: tables.filter((t) => t.status !== 'ok').length, rowDifferences: 0 } }) as unknown as ValidateReport;
    const grown = report([table('public.posts', 298, 305, ['extra']), table('public.users', 72, 72)]);
    expect(judgeValidation(grown, 'lost-rows', T0)).toMatchObject({ failed: false });
    expect(judgeValidation(grown, 'exact', T0)).toMatchObject({ failed: true });
    expect(judgeValidation(report([table('public.posts', 298, 295)]), 'lost-rows', T0)).toMatchObject({ failed: true, summary: 'public.posts: 3 fewer rows on the target' });
    expect(judgeValidation(report([table('public.posts', 298, 298, ['missing', 'extra'])]), 'lost-rows', T0).failed).toBe(true);
  });
});
