/**
 * `offramp watch` as a process: a real nginx-format log appended to while it runs; exit 6 when
 * the 5xx rate holds above the threshold for the (short) window, 0 when healthy until
 * --max-duration, 2 for --auto-rollback without --yes; manual triggers from another process.
 */
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { formatCombinedLine } from '../../src/core/watch/nginx-log.js';
import { runCli } from './run-cli.js';

let dir: string;
let writer: NodeJS.Timeout | undefined;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'offramp-watch-cli-')); });
afterEach(() => {
  clearInterval(writer);
  rmSync(dir, { recursive: true, force: true });
});

/** Append 10 lines every 100 ms with the current time, `errors` of each 10 answered 502. */
function feed(log: string, errors: number): void {
  writeFileSync(log, '');
  writer = setInterval(() => {
    const now = Date.now();
    appendFileSync(log, Array.from({ length: 10 }, (_, i) => formatCombinedLine({ at: now, status: i < errors ? 502 : 200 })).join('\n') + '\n');
  }, 100);
}

const shortWindow = ['--interval', '0.5', '--error-window', '2', '--error-for', '3', '--min-requests', '5'];

describe('offramp watch (CLI)', () => {
  test('a 5xx rate above 5 % held for the window: loud message, exit 6, JSON names the trigger', async () => {
    const log = join(dir, 'access.log');
    feed(log, 3);
    const run = await runCli(['watch', '--log', log, ...shortWindow, '--max-duration', '50', '--work-dir', join(dir, 'work'), '--json']);
    expect(run.exitCode).toBe(6);
    const doc = JSON.parse(run.stdout) as { ok: boolean; result: { fired: { name: string; status: string; heldSeconds: number } } };
    expect(doc.ok).toBe(false);
    expect(doc.result.fired).toMatchObject({ name: 'error-rate', status: 'fired' });
    expect(doc.result.fired.heldSeconds).toBeGreaterThanOrEqual(3);
  });

  test('text mode says so loudly on stderr', async () => {
    const log = join(dir, 'access.log');
    feed(log, 5);
    const run = await runCli(['watch', '--log', log, ...shortWindow, '--max-duration', '50', '--work-dir', join(dir, 'work')]);
    expect(run.exitCode).toBe(6);
    expect(run.stderr).toMatch(/ROLLBACK TRIGGER FIRED: error-rate/);
    expect(run.stderr).toMatch(/offramp rollback run/);
  });

  test('a healthy log (2 % errors) until --max-duration: exit 0', async () => {
    const log = join(dir, 'access.log');
    writeFileSync(log, '');
    let n = 0;
    writer = setInterval(() => {
      const now = Date.now();
      appendFileSync(log, Array.from({ length: 10 }, () => formatCombinedLine({ at: now, status: n++ % 50 === 0 ? 502 : 200 })).join('\n') + '\n');
    }, 100);
    const run = await runCli(['watch', '--log', log, ...shortWindow, '--max-duration', '6', '--work-dir', join(dir, 'work'), '--json']);
    expect(run.exitCode).toBe(0);
    const doc = JSON.parse(run.stdout) as { ok: boolean; result: { fired: unknown; states: Array<{ name: string; status: string }> } };
    expect(doc.result.fired).toBeNull();
    expect(doc.result.states.find((s) => s.name === 'error-rate')?.status).toBe('ok');
  });

  test('watch trigger security fires the manual trigger for a running (or later) watch; --clear withdraws it', async () => {
    const work = join(dir, 'work');
    const missing = await runCli(['watch', 'trigger', 'security', '--work-dir', work]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/--reason/);
    const unknown = await runCli(['watch', 'trigger', 'nonsense', '--reason', 'x', '--work-dir', work]);
    expect(unknown.exitCode).toBe(2);

    const fired = await runCli(['watch', 'trigger', 'security', '--reason', 'CVE in the new API', '--work-dir', work]);
    expect(fired.exitCode).toBe(0);
    expect(existsSync(join(work, 'watch', 'triggers', 'security.json'))).toBe(true);
    const watch = await runCli(['watch', '--interval', '0.2', '--max-duration', '30', '--work-dir', work, '--json']);
    expect(watch.exitCode).toBe(6);
    expect(JSON.parse(watch.stdout).result.fired).toMatchObject({ name: 'security', detail: 'security: CVE in the new API' });

    expect((await runCli(['watch', 'trigger', 'security', '--clear', '--work-dir', work])).exitCode).toBe(0);
    const calm = await runCli(['watch', '--interval', '0.2', '--max-duration', '1', '--work-dir', work, '--json']);
    expect(calm.exitCode).toBe(0);
  });

  test('--auto-rollback without --yes is refused before watching (exit 2); bad numbers are usage errors', async () => {
    const refused = await runCli(['watch', '--auto-rollback', '--max-duration', '1', '--work-dir', join(dir, 'work')]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/--auto-rollback .* needs --yes/);
    const bad = await runCli(['watch', '--error-threshold', 'lots', '--work-dir', join(dir, 'work')]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--error-threshold must be a number/);
  });

  test('watch baseline --p95 stores the baseline the watch then uses', async () => {
    const work = join(dir, 'work');
    const b = await runCli(['watch', 'baseline', '--p95', '120', '--work-dir', work, '--json']);
    expect(b.exitCode).toBe(0);
    expect(JSON.parse(b.stdout).result.percentiles).toEqual({ p95: 120 });
    expect(existsSync(join(work, 'watch', 'baseline.json'))).toBe(true);
    const none = await runCli(['watch', 'baseline', '--work-dir', work]);
    expect(none.exitCode).toBe(2);
  });
});
