/**
 * The watch loop with a test-driven clock over a real log file that grows between ticks, the log
 * follower through rotation and truncation, manual triggers through the work directory, and the
 * hand-over to the rollback when a trigger fires.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { loadWatchConfig } from '../../src/core/watch/config.js';
import { LogFollower, formatCombinedLine } from '../../src/core/watch/nginx-log.js';
import { runWatch, type Clock } from '../../src/core/watch/run.js';
import { recordBaseline } from '../../src/core/watch/baseline.js';
import { clearManual, fireManual, readManualSignals, saveBaseline } from '../../src/core/watch/signals.js';
import type { RollbackRunOptions } from '../../src/core/watch/rollback-bridge.js';
import { UsageError } from '../../src/errors.js';
import type { Progress } from '../../src/output/progress.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'offramp-watch-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

/** A clock that jumps when slept; `onTick` runs at each new time (to write log lines "meanwhile"). */
function fakeClock(onTick: (now: number) => void): Clock & { t: number } {
  const clock = {
    t: T0,
    now: () => clock.t,
    sleep: async (ms: number) => { clock.t += ms; onTick(clock.t); },
  };
  return clock;
}

function recordingProgress(): Progress & { lines: string[] } {
  const lines: string[] = [];
  return { lines, log: (level, message) => void lines.push(`${level}: ${message}`), step: () => ({ update() {}, succeed() {}, warn() {}, fail() {} }) };
}

/** 10 s of traffic ending at `now`: 20 requests, `errors` of them 502. */
function writeTraffic(log: string, now: number, errors: number): void {
  const lines: string[] = [];
  for (let i = 0; i < 20; i++) lines.push(formatCombinedLine({ at: now - 10_000 + i * 500, status: i < errors ? 502 : 200, latencyMs: 50 }));
  appendFileSync(log, `${lines.join('\n')}\n`);
}

describe('runWatch', () => {
  test('a rising 5xx rate in a growing log fires after the hold window; the rollback is handed the work dir and options', async () => {
    const log = join(dir, 'access.log');
    writeFileSync(log, '');
    // 2 minutes healthy (1 in 20), then 25 % errors.
    const clock = fakeClock((now) => writeTraffic(log, now, now - T0 <= 120_000 ? 1 : 5));
    const calls: RollbackRunOptions[] = [];
    const progress = recordingProgress();
    const config = loadWatchConfig(undefined, { interval: 10, errorRate: { window: 60, for: 300 } });
    const result = await runWatch({
      config, workDir: dir, logFile: log, maxDurationSeconds: 3600,
      autoRollback: { yes: true, confirmed: ['sync-back'], dryRun: false, interactive: false },
    }, progress, { clock, rollbackRun: async (options) => { calls.push(options); return { ok: true }; } });

    expect(result.fired?.name).toBe('error-rate');
    const firedAfter = (Date.parse(result.firedAt!) - T0) / 1000;
    // The rate crosses 5 % within a window after 120 s; then 300 s of hold.
    expect(firedAfter).toBeGreaterThanOrEqual(420);
    expect(firedAfter).toBeLessThanOrEqual(490);
    expect(calls).toEqual([{ workDir: dir, yes: true, confirmed: ['sync-back'], dryRun: false, interactive: false, cause: expect.stringMatching(/^offramp watch: rollback trigger error-rate fired \(/) }]);
    expect(result.rollback).toMatchObject({ started: true, ok: true });
    expect(progress.lines.some((l) => l.startsWith('warn:') && l.includes('ROLLBACK TRIGGER FIRED: error-rate'))).toBe(true);
    expect(result.unparsedLines).toBe(0);
  });

  test('a healthy log until --max-duration: nothing fires, no rollback is started', async () => {
    const log = join(dir, 'access.log');
    writeFileSync(log, '');
    const clock = fakeClock((now) => writeTraffic(log, now, 0));
    let called = false;
    const result = await runWatch({ config: loadWatchConfig(undefined, {}), workDir: dir, logFile: log, maxDurationSeconds: 1800, autoRollback: { yes: true, confirmed: [], dryRun: false, interactive: false } },
      recordingProgress(), { clock, rollbackRun: async () => { called = true; return { ok: true }; } });
    expect(result.fired).toBeNull();
    expect(called).toBe(false);
    expect(result.ticks).toBe(181);
    expect(result.states.find((s) => s.name === 'error-rate')?.status).toBe('ok');
  });

  test('a manual trigger fired from elsewhere (the work dir) stops the watch; a rollback that stops part-way is reported', async () => {
    const clock = fakeClock((now) => { if (now - T0 === 30_000) fireManual(dir, ['security'], { name: 'security', reason: 'critical CVE', at: new Date(now).toISOString() }); });
    const result = await runWatch({ config: loadWatchConfig(undefined, {}), workDir: dir, maxDurationSeconds: 600, autoRollback: { yes: true, confirmed: [], dryRun: false, interactive: false } },
      recordingProgress(), { clock, rollbackRun: async () => ({ ok: false, stoppedAt: 'restart-old-services' }) });
    expect(result.fired).toMatchObject({ name: 'security', detail: 'security: critical CVE' });
    expect(Date.parse(result.firedAt!) - T0).toBe(30_000);
    expect(result.rollback).toMatchObject({ started: true, ok: false });
  });

  test('latency against a baseline stored in the work dir', async () => {
    saveBaseline(dir, { recordedAt: new Date(T0).toISOString(), source: 'test', samples: 50, percentiles: { p95: 20 } });
    const log = join(dir, 'access.log');
    writeFileSync(log, '');
    const clock = fakeClock((now) => writeTraffic(log, now, 0)); // 50 ms each: +150 %
    const result = await runWatch({ config: loadWatchConfig(undefined, { latency: { for: 120 } }), workDir: dir, logFile: log, maxDurationSeconds: 600 }, recordingProgress(), { clock });
    expect(result.fired).toMatchObject({ name: 'latency', value: 'p95 50 ms vs baseline 20 ms (+150 %)' });
  });

  test('--auto-rollback hands over to the real rollback engine, which runs the rollback runbook to the end', async () => {
    const progress = recordingProgress();
    const runbook = join(dir, 'rollback.yaml');
    const marker = join(dir, 'rolled-back');
    writeFileSync(runbook, [
      'version: 1', 'name: rollback', 'phases:', '  - id: undo', '    title: Undo', '    steps:',
      '      - id: mark', '        title: leave a mark', '        kind: command', '        params:', `          run: touch ${JSON.stringify(marker)}`, '',
    ].join('\n'));
    fireManual(dir, ['security'], { name: 'security', reason: 'test', at: new Date(T0).toISOString() });
    const result = await runWatch({ config: loadWatchConfig(undefined, {}), workDir: dir, autoRollback: { runbook, yes: true, confirmed: [], dryRun: false, interactive: false } }, progress, { clock: fakeClock(() => {}) });
    expect(result.fired?.name).toBe('security');
    expect(result.rollback).toMatchObject({ started: true, ok: true });
    expect(progress.lines.join('\n')).toMatch(/starting the rollback/);
    // The rollback really ran: its command step left its mark, and it kept its own journal.
    expect(existsSync(marker)).toBe(true);
    expect(readFileSync(join(dir, 'rollback.journal.ndjson'), 'utf8')).toContain('"mark"');
  });
});

describe('HTTP probe', () => {
  let server: Server;
  let status = 200;
  let url = '';
  beforeEach(async () => {
    server = createServer((_req, res) => { res.writeHead(status); res.end('ok'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/health`;
  });
  afterEach(async () => { await new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }); });

  test('a health endpoint answering 503 fires the error-rate trigger once held; a refused connection counts as an error too', async () => {
    status = 503;
    const config = loadWatchConfig(undefined, { interval: 10, errorRate: { window: 60, for: 120, minRequests: 3 } });
    const result = await runWatch({ config, workDir: dir, probeUrl: url, maxDurationSeconds: 900 }, recordingProgress(), { clock: fakeClock(() => {}) });
    expect(result.fired?.name).toBe('error-rate');
    // 3 probes fill the minimum at 20 s; 120 s of hold after that.
    expect(Date.parse(result.firedAt!) - T0).toBe(140_000);

    const closed = url.replace(/:\d+\//, ':9/');
    const refused = await runWatch({ config, workDir: dir, probeUrl: closed, probeTimeoutMs: 2_000, maxDurationSeconds: 900 }, recordingProgress(), { clock: fakeClock(() => {}) });
    expect(refused.fired?.name).toBe('error-rate');
  });

  test('a healthy endpoint does not fire; watch baseline --probe records percentiles in the work dir', async () => {
    status = 200;
    const config = loadWatchConfig(undefined, { interval: 10, errorRate: { window: 60, for: 120, minRequests: 3 } });
    const result = await runWatch({ config, workDir: dir, probeUrl: url, maxDurationSeconds: 300 }, recordingProgress(), { clock: fakeClock(() => {}) });
    expect(result.fired).toBeNull();
    expect(result.states.find((s) => s.name === 'error-rate')?.value).toBe('0.0 % of 6 requests');

    const { baseline, path } = await recordBaseline({ workDir: dir, probeUrl: url, samples: 5 }, fakeClock(() => {}));
    expect(existsSync(path)).toBe(true);
    expect(baseline.samples).toBe(5);
    expect(Object.keys(baseline.percentiles)).toEqual(['p50', 'p90', 'p95', 'p99']);
    expect(baseline.percentiles.p95).toBeGreaterThan(0);
    status = 500;
    await expect(recordBaseline({ workDir: dir, probeUrl: url, samples: 3 }, fakeClock(() => {}))).rejects.toThrow(UsageError);
  });
});

describe('log problems are said, not silent', () => {
  test('a log that does not exist yet, and lines in another format, are warned about; the watch goes on', async () => {
    const log = join(dir, 'later.log');
    const progress = recordingProgress();
    const clock = fakeClock((now) => {
      if (now - T0 === 20_000) writeFileSync(log, '');
      if (now - T0 >= 30_000) appendFileSync(log, '{"status":500,"msg":"json logs are not combined format"}\n');
    });
    const result = await runWatch({ config: loadWatchConfig(undefined, {}), workDir: dir, logFile: log, maxDurationSeconds: 60 }, progress, { clock });
    expect(result.fired).toBeNull();
    expect(result.unparsedLines).toBeGreaterThan(0);
    const warnings = progress.lines.filter((l) => l.startsWith('warn:')).join('\n');
    expect(warnings).toMatch(/later\.log does not exist \(yet\)/);
    expect(warnings).toMatch(/not in nginx combined format are ignored/);
  });
});

describe('manual triggers in the work dir', () => {
  test('only configured names can be fired; clear withdraws', () => {
    expect(() => fireManual(dir, ['security'], { name: 'typo', reason: 'x', at: 'now' })).toThrow(UsageError);
    fireManual(dir, ['security'], { name: 'security', reason: 'x', at: 'now' });
    expect(readManualSignals(dir).map((s) => s.name)).toEqual(['security']);
    expect(clearManual(dir, 'security')).toBe(true);
    expect(readManualSignals(dir)).toEqual([]);
  });
});

describe('LogFollower', () => {
  test('reads only appended complete lines, across rotation (old file drained first) and truncation', async () => {
    const log = join(dir, 'access.log');
    writeFileSync(log, 'old line before the watch\n');
    const f = new LogFollower(log);
    expect(await f.read()).toEqual([]);
    appendFileSync(log, 'one\ntw');
    expect(await f.read()).toEqual(['one']);
    appendFileSync(log, 'o\n');
    expect(await f.read()).toEqual(['two']);
    // logrotate: the file is renamed, a last line lands in it, then a new file appears.
    appendFileSync(log, 'three\n');
    renameSync(log, `${log}.1`);
    appendFileSync(`${log}.1`, 'four\n');
    writeFileSync(log, 'five\n');
    expect(await f.read()).toEqual(['three', 'four', 'five']);
    // copytruncate: same file, emptied, then written again.
    writeFileSync(log, '');
    appendFileSync(log, 'six\n');
    expect(await f.read()).toEqual(['six']);
    rmSync(log);
    expect(await f.read()).toEqual([]);
    writeFileSync(log, 'seven\n');
    expect(await f.read()).toEqual(['seven']);
    await f.close();
  });
});
