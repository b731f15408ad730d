/**
 * Issue 7, items 4 and 5: a copy that is interrupted (SIGTERM to offramp, ^C to its process group)
 * or whose target restarts (during the data phase, during index builds) ends non-zero within
 * seconds with a clear error, leaves no offramp session on either server, and `--resume` then
 * finishes with the target equal to the source. The built CLI runs as a child process; phases are
 * found by watching pg_stat_activity (the statement running on the target), not by sleeping.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalPathFor } from '../../src/core/move/copy.js';
import { startCluster, type LocalCluster } from '../../src/db/local-cluster.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { emptySourceDatabase, emptyTargetDatabase, type TestDatabase } from '../bed/databases.js';
import { runCli } from '../e2e/run-cli.js';
import { sql, tableStates } from './move-helpers.js';

const BIN = fileURLToPath(new URL('../../bin/offramp.js', import.meta.url));
const SCHEMAS = ['app', 'public'];
const made: TestDatabase[] = [];
const clusters: LocalCluster[] = [];
let source: TestDatabase;

afterAll(async () => {
  await Promise.all([...made.map((d) => d.drop()), ...clusters.map((c) => c.stop())]);
});

beforeAll(async () => {
  source = await emptySourceDatabase();
  made.push(source);
  // Big enough that the data phase and the index builds of app.bulk each last seconds on a busy
  // machine; the phase is then caught by watching the target, never by a sleep.
  await sql(source.url, `
    CREATE SCHEMA app;
    CREATE TABLE app.bulk (id int PRIMARY KEY, a text NOT NULL, b text NOT NULL);
    INSERT INTO app.bulk SELECT i, md5(i::text), md5((i * 7)::text) FROM generate_series(1, 1000000) i;
    CREATE INDEX bulk_a ON app.bulk (a);
    CREATE INDEX bulk_ba ON app.bulk (b, a);
    CREATE INDEX bulk_ab_md5 ON app.bulk (md5(a || b));
    CREATE TABLE app.notes (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, bulk_id int NOT NULL REFERENCES app.bulk (id), body text);
    INSERT INTO app.notes (bulk_id, body) SELECT i, 'note ' || i FROM generate_series(1, 2000) i;
    ANALYZE;`);
}, 180_000);

interface Run {
  child: ResultPromise;
  done: Promise<{ exitCode?: number; signal?: string; stdout: string; stderr: string; endedAt: number }>;
}

function startCopy(target: string, workDir: string, options: { detached?: boolean } = {}): Run {
  const child = execa(process.execPath, [BIN, 'copy', '--source', source.url, '--target', target, '--jobs', '2', '--work-dir', workDir, '--json'], {
    reject: false, detached: options.detached ?? false, env: { NO_COLOR: '1' }, extendEnv: true, timeout: 240_000,
  });
  const done = child.then((r) => ({ exitCode: r.exitCode, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr), endedAt: performance.now() }));
  return { child, done };
}

/** Wait (at most 60 s) until a statement matching `pattern` runs on `database`; fails if the copy ends first. */
async function waitForStatement(adminUrl: string, database: string, pattern: string, run: Run): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  let ended = false;
  void run.done.then(() => (ended = true));
  try {
    const deadline = performance.now() + 60_000;
    while (performance.now() < deadline && !ended) {
      const { rows } = await client.query<{ query: string }>(
        `SELECT query FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND application_name LIKE 'offramp%' AND query ILIKE $2`,
        [database, pattern],
      );
      if (rows[0]) return rows[0].query;
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await run.done.catch(() => undefined);
    throw new Error(`no statement like ${pattern} seen on ${database} (copy ended: ${ended}; ${r?.stderr ?? ''})`);
  } finally {
    await client.end();
  }
}

/** offramp sessions still connected to a database, after giving them up to `ms` to leave. */
async function offrampSessionsAfter(url: string, database: string, ms: number): Promise<Array<{ application_name: string; state: string; query: string }>> {
  const deadline = performance.now() + ms;
  for (;;) {
    const rows = await sql<{ application_name: string; state: string; query: string }>(url,
      `SELECT application_name, state, query FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'offramp%' AND pid <> pg_backend_pid()`, [database]);
    if (rows.length === 0 || performance.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function expectResumeFinishes(target: string, workDir: string): Promise<void> {
  const resumed = await runCli(['copy', '--source', source.url, '--target', target, '--jobs', '2', '--work-dir', workDir, '--json', '--resume']);
  expect({ exit: resumed.exitCode, stderr: resumed.stderr }).toMatchObject({ exit: 0 });
  expect(JSON.parse(resumed.stdout).result).toMatchObject({ ok: true, resumed: true });
  // Count + md5 per table, queried from both servers independently of offramp's own report.
  const want = await tableStates(source.url, SCHEMAS);
  expect(want['app.bulk']?.rows).toBe(1_000_000);
  expect(await tableStates(target, SCHEMAS)).toEqual(want);
}

function journalOf(workDir: string, target: string): string {
  return readFileSync(journalPathFor(workDir, parseConnectionUrl(target)), 'utf8');
}

describe('an interrupted copy', () => {
  it('SIGTERM to offramp during the data phase: exit 143, INTERRUPTED, no session left, then --resume finishes', async () => {
    const target = await emptyTargetDatabase();
    made.push(target);
    const workDir = mkdtempSync(join(tmpdir(), 'offramp-sig-'));
    const run = startCopy(target.url, workDir);
    await waitForStatement(target.url, target.name, 'COPY %app%bulk%FROM STDIN%', run);
    const signalledAt = performance.now();
    run.child.kill('SIGTERM');
    const r = await run.done;
    console.log(`SIGTERM → exit in ${((r.endedAt - signalledAt) / 1000).toFixed(2)} s`);
    expect({ exit: r.exitCode, signal: r.signal, stderr: r.stderr }).toMatchObject({ exit: 143, signal: undefined });
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: false, command: 'copy', error: { code: 'INTERRUPTED', message: expect.stringMatching(/SIGTERM/), hint: expect.stringMatching(/offramp copy --resume/) } });
    expect(doc.error.detail).toBeUndefined();
    // Stopped in the data phase: app.bulk was not finished.
    expect(journalOf(workDir, target.url)).not.toMatch(/"table-done","table":"app.bulk"/);
    expect(await offrampSessionsAfter(target.url, target.name, 5000)).toEqual([]);
    expect(await offrampSessionsAfter(source.url, source.name, 5000)).toEqual([]);
    await expectResumeFinishes(target.url, workDir);
  }, 300_000);

  it('^C to the whole process group during the data phase: exit 130, INTERRUPTED, no session left, then --resume finishes', async () => {
    const target = await emptyTargetDatabase();
    made.push(target);
    const workDir = mkdtempSync(join(tmpdir(), 'offramp-sig-'));
    const run = startCopy(target.url, workDir, { detached: true });
    await waitForStatement(target.url, target.name, 'COPY %app%bulk%FROM STDIN%', run);
    const signalledAt = performance.now();
    // What a terminal does on ^C: SIGINT to every process of the group (bin/offramp.js and the node it starts).
    process.kill(-run.child.pid!, 'SIGINT');
    const r = await run.done;
    console.log(`group SIGINT → exit in ${((r.endedAt - signalledAt) / 1000).toFixed(2)} s`);
    expect({ exit: r.exitCode, signal: r.signal, stderr: r.stderr }).toMatchObject({ exit: 130, signal: undefined });
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: false, error: { code: 'INTERRUPTED', message: expect.stringMatching(/SIGINT/), hint: expect.stringMatching(/--resume/) } });
    expect(journalOf(workDir, target.url)).not.toMatch(/"table-done","table":"app.bulk"/);
    expect(await offrampSessionsAfter(target.url, target.name, 5000)).toEqual([]);
    expect(await offrampSessionsAfter(source.url, source.name, 5000)).toEqual([]);
    await expectResumeFinishes(target.url, workDir);
  }, 300_000);
});

/** pg_dump processes started by the node process that `bin/offramp.js` (pid `binPid`) runs. */
function pgDumpsUnder(binPid: number): number[] {
  const ppid = (pid: string): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!.endsWith('pg_dump')) continue;
      const parent = ppid(pid);
      if (parent === binPid || ppid(String(parent)) === binPid) found.push(Number(pid));
    } catch {
      // the process ended while being read
    }
  }
  return found;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a copy interrupted while it waits for a host that does not answer', () => {
  it('^C ends the connection attempt at once instead of after the connect timeout: exit 130, INTERRUPTED', async () => {
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    let connected: () => void = () => {};
    const attempt = new Promise<void>((resolve) => (connected = resolve));
    // Accepts and never says a word, like a host behind a black-holing firewall that lets SYN through.
    const silent = createServer((socket) => {
      sockets.push(socket);
      connected();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const target = await emptyTargetDatabase();
    made.push(target);
    try {
      const port = (silent.address() as { port: number }).port;
      const child = execa(process.execPath, [BIN, 'copy', '--source', `postgresql://app:pw-silent@127.0.0.1:${port}/app`, '--target', target.url, '--json'],
        { reject: false, env: { NO_COLOR: '1', OFFRAMP_CONNECT_TIMEOUT: '120' }, timeout: 240_000 });
      await attempt;
      const signalledAt = performance.now();
      child.kill('SIGINT');
      const r = await child;
      const seconds = (performance.now() - signalledAt) / 1000;
      console.log(`^C during a connection attempt (connect timeout 120 s) → exit in ${seconds.toFixed(2)} s`);
      expect({ exit: r.exitCode, stderr: String(r.stderr) }).toMatchObject({ exit: 130 });
      expect(JSON.parse(String(r.stdout)).error).toMatchObject({ code: 'INTERRUPTED' });
      // Well under both the connect timeout (120 s) and cli.ts's last-resort exit 15 s after an interrupt.
      expect(seconds).toBeLessThan(10);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  }, 240_000);
});

describe('a copy interrupted while pg_dump runs', () => {
  it('SIGINT stops pg_dump too: exit 130, INTERRUPTED, the pg_dump process gone, nothing loaded', async () => {
    // Many tables make pg_dump's schema dump last long enough to be caught running.
    const many = await emptySourceDatabase();
    made.push(many);
    await sql(many.url, `DO $$ BEGIN FOR i IN 1..1500 LOOP EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, v text, w int CHECK (w > 0))', i); END LOOP; END $$`);
    const target = await emptyTargetDatabase();
    made.push(target);
    const child = execa(process.execPath, [BIN, 'copy', '--source', many.url, '--target', target.url, '--work-dir', mkdtempSync(join(tmpdir(), 'offramp-sigdump-')), '--json'],
      { reject: false, env: { NO_COLOR: '1' }, timeout: 240_000 });
    let ended = false;
    void child.then(() => (ended = true));
    let dumps: number[] = [];
    const deadline = performance.now() + 60_000;
    while (dumps.length === 0 && !ended && performance.now() < deadline) {
      dumps = pgDumpsUnder(child.pid!);
      if (dumps.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(dumps.length).toBeGreaterThan(0);
    child.kill('SIGINT');
    const r = await child;
    expect({ exit: r.exitCode, stderr: String(r.stderr) }).toMatchObject({ exit: 130 });
    expect(JSON.parse(String(r.stdout)).error).toMatchObject({ code: 'INTERRUPTED' });
    expect(dumps.filter(alive)).toEqual([]);
    expect(await offrampSessionsAfter(many.url, many.name, 5000)).toEqual([]);
    expect(await sql(target.url, `SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace`)).toEqual([{ n: 0 }]);
  }, 180_000);
});

describe('an interrupted dump', () => {
  it('SIGTERM while dumping data: exit 143, INTERRUPTED with a hint to dump again, no session left on the source, no manifest', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'offramp-sigdump-')), 'dump');
    const child = execa(process.execPath, [BIN, 'dump', '--source', source.url, '--out', out, '--jobs', '2', '--json'], { reject: false, env: { NO_COLOR: '1' }, timeout: 240_000 });
    const run: Run = { child, done: child.then((r) => ({ exitCode: r.exitCode, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr), endedAt: performance.now() })) };
    await waitForStatement(source.url, source.name, 'COPY %app%bulk%TO STDOUT%', run);
    const signalledAt = performance.now();
    child.kill('SIGTERM');
    const r = await run.done;
    console.log(`dump SIGTERM → exit in ${((r.endedAt - signalledAt) / 1000).toFixed(2)} s`);
    expect({ exit: r.exitCode, signal: r.signal, stderr: r.stderr }).toMatchObject({ exit: 143, signal: undefined });
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, command: 'dump', error: { code: 'INTERRUPTED', hint: expect.stringMatching(/dump again/) } });
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    expect(await offrampSessionsAfter(source.url, source.name, 5000)).toEqual([]);
  }, 120_000);
});

describe('a target that restarts under a copy', () => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await startCluster();
    clusters.push(cluster);
  }, 120_000);

  const cases = [
    { phase: 'the data phase', statement: 'COPY %app%bulk%FROM STDIN%', mode: 'fast' as const, bulkDone: false },
    { phase: 'index builds', statement: '%CREATE%INDEX%app%bulk%', mode: 'immediate' as const, bulkDone: true },
  ];
  for (const c of cases) {
    it(`restarted (${c.mode}) during ${c.phase}: the copy fails within seconds saying the connection was lost, then --resume finishes`, async () => {
      const database = `restart_${c.bulkDone ? 'index' : 'data'}`;
      const target = await cluster.createDatabase(database);
      const workDir = mkdtempSync(join(tmpdir(), 'offramp-restart-'));
      const run = startCopy(target, workDir);
      await waitForStatement(cluster.url, database, c.statement, run);
      const restartedAt = performance.now();
      await cluster.restart(c.mode);
      const r = await run.done;
      const seconds = (r.endedAt - restartedAt) / 1000;
      console.log(`target restart (${c.mode}) during ${c.phase} → copy ended in ${seconds.toFixed(2)} s with exit ${r.exitCode}`);
      expect(seconds).toBeLessThan(60);
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 1 });
      const doc = JSON.parse(r.stdout);
      expect(doc).toMatchObject({
        ok: false,
        error: { code: 'CONNECTION_LOST', message: expect.stringMatching(/connection to the target was lost/), hint: expect.stringMatching(/offramp copy --resume/) },
      });
      expect(doc.error.hint).not.toMatch(/missing a role/);
      const journal = journalOf(workDir, target);
      expect(journal.includes('"table-done","table":"app.bulk"')).toBe(c.bulkDone);
      expect(journal).not.toContain('"finished"');
      // The source backend that was streaming into the dead target is gone too (it used to block writing forever).
      expect(await offrampSessionsAfter(source.url, source.name, 5000)).toEqual([]);

      await expectResumeFinishes(target, workDir);
      const validated = await runCli(['validate', '--source', source.url, '--target', target, '--json']);
      expect({ exit: validated.exitCode, stderr: validated.stderr }).toMatchObject({ exit: 0 });
      expect(JSON.parse(validated.stdout).result.summary).toMatchObject({ ok: true, tablesDiffering: 0 });
    }, 300_000);
  }
});
