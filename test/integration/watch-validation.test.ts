/**
 * The corruption trigger: offramp's validation run in process by `watch` against real servers.
 * Rows written on the target since the cutover do not fire it; rows the target lost do. Through
 * the CLI too: exit 6, and the database password never appears in its output.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withClient } from '../../src/db/connect.js';
import { loadWatchConfig } from '../../src/core/watch/config.js';
import { runWatch, type Clock } from '../../src/core/watch/run.js';
import { emptySourceDatabase, emptyTargetDatabase, type TestDatabase } from '../bed/databases.js';
import { runCli } from '../e2e/run-cli.js';

let source: TestDatabase;
let target: TestDatabase;
let dir: string;
const SCHEMA = `CREATE TABLE public.posts (id bigint PRIMARY KEY, body text NOT NULL);
  INSERT INTO public.posts SELECT g, 'post ' || g FROM generate_series(1, 298) g;`;

beforeAll(async () => {
  source = await emptySourceDatabase();
  target = await emptyTargetDatabase();
  for (const db of [source, target]) await withClient(db.url, { role: 'admin' }, (c) => c.query(SCHEMA));
  dir = mkdtempSync(join(tmpdir(), 'offramp-watch-val-'));
});
afterAll(async () => {
  await source?.drop();
  await target?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const clock = (): Clock => { const c = { t: Date.UTC(2026, 0, 15), now: () => c.t, sleep: async (ms: number) => { c.t += ms; } }; return c; };
const targetRows = () => withClient(target.url, { role: 'admin' }, async (c) => Number((await c.query('SELECT count(*) AS n FROM public.posts')).rows[0].n));

describe('corruption trigger (validation in process)', () => {
  test('new rows on the target since the cutover: nothing fires; rows lost on the target: fires with the table named', async () => {
    await withClient(target.url, { role: 'admin' }, (c) => c.query("INSERT INTO public.posts VALUES (299, 'written after the cutover')"));
    const config = loadWatchConfig(undefined, { interval: 60, validation: { every: 60 } });
    const calm = await runWatch({ config, workDir: dir, validation: { source: source.url, target: target.url }, maxDurationSeconds: 120 }, { log: () => {}, step: () => ({ update() {}, succeed() {}, warn() {}, fail() {} }) }, { clock: clock() });
    expect(calm.fired).toBeNull();
    expect(calm.states.find((s) => s.name === 'corruption')).toMatchObject({ status: 'ok', value: '1 tables, nothing lost' });

    await withClient(target.url, { role: 'admin' }, (c) => c.query('DELETE FROM public.posts WHERE id <= 5'));
    expect(await targetRows()).toBe(294);
    const lost = await runWatch({ config, workDir: dir, validation: { source: source.url, target: target.url }, maxDurationSeconds: 120 }, { log: () => {}, step: () => ({ update() {}, succeed() {}, warn() {}, fail() {} }) }, { clock: clock() });
    expect(lost.fired).toMatchObject({ name: 'corruption', kind: 'validation' });
    expect(lost.fired?.value).toBe('public.posts: 4 fewer rows on the target');
  });

  test('through the CLI: exit 6 and the passwords in the URLs never printed', async () => {
    const passwords = [source.url, target.url].map((u) => decodeURIComponent(new URL(u).password));
    expect(passwords.every((p) => p.length >= 8)).toBe(true);
    const run = await runCli(['watch', '--source', source.url, '--target', target.url, '--interval', '1', '--validate-every', '5', '--max-duration', '30', '--work-dir', join(dir, 'cli'), '--output', 'ndjson']);
    expect(run.exitCode).toBe(6);
    expect(run.stdout).toMatch(/"fired":\{"name":"corruption"/);
    for (const p of passwords) {
      expect(run.stdout).not.toContain(p);
      expect(run.stderr).not.toContain(p);
    }
  });
});
