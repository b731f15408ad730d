import { readFileSync, writeFileSync, mkdtempSync, cpSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { journalPathFor } from '../../src/core/move/copy.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { startCluster, type LocalCluster } from '../../src/db/local-cluster.js';
import { freePort } from '../../src/db/local-cluster.js';
import { emptySourceDatabase, emptyTargetDatabase, fixtureDatabase, type TestDatabase } from '../bed/databases.js';
import { runCli } from '../e2e/run-cli.js';
import { killAtFault } from './fault-helpers.js';
import { schemaFingerprint, sql, tableStates } from './move-helpers.js';
import { explainedByDeferred } from './compare-helpers.js';

const HARD_TYPES = readFileSync(new URL('./hard-types.sql', import.meta.url), 'utf8');
const made: TestDatabase[] = [];
const clusters: LocalCluster[] = [];
const track = async (p: Promise<TestDatabase>): Promise<TestDatabase> => {
  const db = await p;
  made.push(db);
  return db;
};
afterAll(async () => {
  await Promise.all([...made.map((d) => d.drop()), ...clusters.map((c) => c.stop())]);
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Nothing was written to a fresh target database: no schema but public, no relation, type or
 * function in public, no extension but plpgsql (asked of the server, not of the tool).
 */
async function expectUntouched(url: string): Promise<void> {
  const [state] = await sql<{ schemas: string[]; objects: number; extensions: string[] }>(url,
    `SELECT (SELECT coalesce(array_agg(nspname ORDER BY nspname), '{}') FROM pg_namespace
               WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('public', 'information_schema')) AS schemas,
            (SELECT count(*)::int FROM pg_class WHERE relnamespace = 'public'::regnamespace)
              + (SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'public'::regnamespace)
              + (SELECT count(*)::int FROM pg_type WHERE typnamespace = 'public'::regnamespace) AS objects,
            (SELECT array_agg(extname ORDER BY extname) FROM pg_extension) AS extensions`);
  expect(state).toEqual({ schemas: [], objects: 0, extensions: ['plpgsql'] });
}

describe('copy --resume', () => {
  it('finishes a copy killed (kill -9) in the data phase, with nothing lost or duplicated', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, HARD_TYPES);
    // Enough rows that the data phase lasts long enough to be interrupted.
    await sql(source.url, `CREATE TABLE app.bulk AS SELECT i AS id, md5(i::text) AS a, md5((i * 7)::text) AS b FROM generate_series(1, 1500000) i;
                           CREATE TABLE app.bulk_nopk AS SELECT i % 1000 AS k, repeat('x', 40) AS pad FROM generate_series(1, 300000) i; ANALYZE`);
    const target = await track(emptyTargetDatabase());
    const workDir = mkdtempSync(join(tmpdir(), 'offramp-resume-'));
    const journal = journalPathFor(workDir, parseConnectionUrl(target.url));
    const args = ['copy', '--source', source.url, '--target', target.url, '--jobs', '2', '--split-larger-than', '4MB', '--work-dir', workDir, '--json'];

    // Paused (test-only fault point) right after the first finished unit, then killed: in the data phase.
    const killed = await killAtFault(args, 'unit-done:1', 'SIGKILL', join(workDir, 'fault.marker'), target.url);
    expect(killed.signal).toBe('SIGKILL');
    const killedText = readFileSync(journal, 'utf8');
    expect(killedText).toContain('"unit-done"');
    expect(killedText).not.toContain('"phase":"post-data"');
    const before = readFileSync(journal, 'utf8');
    expect(before).not.toContain('"finished"');
    for (const url of [source.url, target.url]) expect(before).not.toContain(decodeURIComponent(new URL(url).password));

    const resumed = await runCli([...args, '--resume']);
    expect(resumed.exitCode).toBe(0);
    const doc = JSON.parse(resumed.stdout);
    expect(doc.result).toMatchObject({ resumed: true, consistent: false });
    expect(doc.warnings.join(' ')).toMatch(/run offramp validate/);
    const schemas = ['app', 'extensions'];
    expect(await tableStates(target.url, schemas)).toEqual(await tableStates(source.url, schemas));
    expect(await schemaFingerprint(target.url, schemas)).toEqual(await schemaFingerprint(source.url, schemas));
    // Exactly the tables the journal had finished before the kill were kept, not copied again.
    const finishedBefore = before.split('\n').filter((l) => l.includes('"table-done"')).map((l) => JSON.parse(l).table as string).sort();
    const kept = doc.result.tables.filter((t: { status: string }) => t.status === 'done-before-resume').map((t: { table: string }) => t.table).sort();
    expect(kept).toEqual(finishedBefore);
    expect(doc.result.tables.length).toBeGreaterThan(kept.length);
  }, 180_000);

  it('says there is nothing to resume when no copy was started', async () => {
    const source = await track(emptySourceDatabase());
    const target = await track(emptyTargetDatabase());
    const r = await runCli(['copy', '--source', source.url, '--target', target.url, '--resume', '--work-dir', mkdtempSync(join(tmpdir(), 'offramp-'))]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/no interrupted copy to resume/);
    await expectUntouched(target.url);
  });
});

describe('dump and restore', () => {
  it('round-trips the Supabase fixture, restores twice, and refuses a corrupted or truncated artifact', async () => {
    const source = await track(fixtureDatabase());
    const out = join(mkdtempSync(join(tmpdir(), 'offramp-dump-')), 'dump');
    const dumped = await runCli(['dump', '--source', source.url, '--out', out, '--jobs', '2', '--json']);
    expect(dumped.exitCode).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.tables.find((t: { table: string }) => t.table === 'public.posts').rows).toBe(298);
    expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(['pre-data.sql', 'post-data.sql', 'schema-meta.json']));
    expect(readFileSync(join(out, 'pre-data.sql'), 'utf8')).toContain('CREATE TABLE "public"."posts"');
    // No file of the artifact carries the source password (the manifest keeps a masked URL).
    const password = decodeURIComponent(new URL(source.url).password);
    for (const file of ['manifest.json', 'schema-meta.json', 'pre-data.sql', 'post-data.sql']) {
      expect(readFileSync(join(out, file), 'utf8')).not.toContain(password);
    }
    expect(manifest.source.url).toContain(':****@');

    for (let i = 0; i < 2; i++) {
      const target = await track(emptyTargetDatabase());
      const restored = await runCli(['restore', '--from', out, '--target', target.url, '--jobs', '2', '--json']);
      expect(restored.exitCode).toBe(0);
      expect(await tableStates(target.url, ['public'])).toEqual(await tableStates(source.url, ['public']));
      const result = JSON.parse(restored.stdout).result;
      expect(result.deferred.length).toBeGreaterThan(0);
      // Same schema objects, except exactly what was deferred (no auth.uid() on this target: the
      // policies calling it wait for the RLS stage, the FKs to auth.users for the auth stage).
      const want = await schemaFingerprint(source.url, ['public']);
      const got = await schemaFingerprint(target.url, ['public']);
      expect(got.filter((l) => !want.includes(l))).toEqual([]);
      expect(want.filter((l) => !got.includes(l)).filter((l) => !explainedByDeferred(result.deferred)(l))).toEqual([]);
      expect(result.filesVerified).toBe(Object.keys(manifest.files).length);
    }

    // One flipped byte in one data file: refused, the file named, the target untouched.
    const corrupt = join(mkdtempSync(join(tmpdir(), 'offramp-dump-')), 'dump');
    cpSync(out, corrupt, { recursive: true });
    const victim = readdirSync(join(corrupt, 'data')).sort()[0]!;
    const bytes = readFileSync(join(corrupt, 'data', victim));
    bytes[20] = bytes[20]! ^ 0xff;
    writeFileSync(join(corrupt, 'data', victim), bytes);
    const target = await track(emptyTargetDatabase());
    const bad = await runCli(['restore', '--from', corrupt, '--target', target.url]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain(`data/${victim} does not match its sha256`);
    await expectUntouched(target.url);

    // A truncated file and a broken manifest are refused too: exit 1, the target still untouched.
    writeFileSync(join(corrupt, 'data', victim), bytes.subarray(0, 10));
    const truncated = await runCli(['restore', '--from', corrupt, '--target', target.url]);
    expect(truncated.exitCode).toBe(1);
    expect(truncated.stderr).toMatch(/is 10 bytes, the manifest says/);
    await expectUntouched(target.url);
    writeFileSync(join(corrupt, 'manifest.json'), '{"format": "offramp-dump"');
    const badManifest = await runCli(['restore', '--from', corrupt, '--target', target.url]);
    expect(badManifest.exitCode).toBe(1);
    expect(badManifest.stderr).toMatch(/manifest.json is not valid JSON/);
    await expectUntouched(target.url);
  }, 120_000);

  it('refuses to overwrite a dump without --yes and never deletes a directory it did not write', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, 'CREATE TABLE t (id int primary key); INSERT INTO t VALUES (1)');
    const parent = mkdtempSync(join(tmpdir(), 'offramp-dump-'));
    const out = join(parent, 'dump');
    expect((await runCli(['dump', '--source', source.url, '--out', out])).exitCode).toBe(0);
    const again = await runCli(['dump', '--source', source.url, '--out', out]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/already holds a dump\nhint: add --yes/);
    expect((await runCli(['dump', '--source', source.url, '--out', out, '--yes'])).exitCode).toBe(0);
    writeFileSync(join(parent, 'notes.txt'), 'mine');
    const foreign = await runCli(['dump', '--source', source.url, '--out', parent, '--yes']);
    expect(foreign.exitCode).toBe(2);
    expect(foreign.stderr).toMatch(/is not an offramp dump/);
    expect(readFileSync(join(parent, 'notes.txt'), 'utf8')).toBe('mine');
  });
});

describe('bad input', () => {
  it('an unreachable source: exit 1, a diagnosis, no password, nothing written to the target', async () => {
    const target = await track(emptyTargetDatabase());
    const port = await freePort();
    const r = await runCli(['copy', '--source', `postgresql://postgres:never-shown-pw-7@127.0.0.1:${port}/postgres`, '--target', target.url, '--json']);
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.error).toMatchObject({ code: 'CONNECTION_FAILED', message: expect.stringMatching(/connection refused/) });
    expect(r.stdout + r.stderr).not.toContain('never-shown-pw-7');
    expect(r.stdout + r.stderr).not.toContain(new URL(target.url).password);
    await expectUntouched(target.url);
  });

  it('a target without PostGIS while the source uses it: exit 5 with the package to install, target unchanged', async () => {
    const bare = await startCluster({ flavour: 'bare' });
    clusters.push(bare);
    const target = await bare.createDatabase('app');
    const source = await track(fixtureDatabase());
    const r = await runCli(['copy', '--source', source.url, '--target', target]);
    expect(r.exitCode).toBe(5);
    expect(r.stderr).toMatch(/lacks extension.*postgis/);
    expect(r.stderr).toMatch(/apt-get install postgresql-15-postgis-3/);
    expect(await sql(target, `SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace`)).toEqual([{ n: 0 }]);
    expect(await sql(target, `SELECT count(*)::int AS n FROM pg_roles WHERE rolname IN ('anon', 'authenticated')`)).toEqual([{ n: 0 }]);
  });

  it('a second copy into a target that a running copy holds is refused', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, HARD_TYPES);
    const target = await track(emptyTargetDatabase());
    const { withClient } = await import('../../src/db/connect.js');
    await withClient(target.url, { role: 'admin' }, async (c) => {
      await c.query('SELECT pg_advisory_lock($1)', [0x0ff5a4c0]);
      const r = await runCli(['copy', '--source', source.url, '--target', target.url]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/another offramp copy or restore is running/);
    });
    await expectUntouched(target.url);
  });
});
