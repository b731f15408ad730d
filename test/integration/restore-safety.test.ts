/**
 * restore never writes into the database it was dumped from (by identity, whatever the URL), and
 * never reads a file the manifest points at outside the dump directory.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emptySourceDatabase, emptyTargetDatabase, fixtureDatabase, type TestDatabase } from '../bed/databases.js';
import { runCli } from '../e2e/run-cli.js';
import { schemaFingerprint, sql, tableStates } from './move-helpers.js';

const made: TestDatabase[] = [];
const track = async (p: Promise<TestDatabase>): Promise<TestDatabase> => {
  const db = await p;
  made.push(db);
  return db;
};
afterAll(async () => {
  await Promise.all(made.map((d) => d.drop()));
});

/** Every relation and schema a user could have made on the target (none on a fresh database). */
const userObjects = (url: string): Promise<unknown[]> =>
  sql(url, `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1, 2`);

describe('restore refuses the database it was dumped from', () => {
  it('exit 2 through another host name, and the source keeps its tables, rows and the trigger on auth.users', async () => {
    const source = await track(fixtureDatabase());
    const out = join(mkdtempSync(join(tmpdir(), 'offramp-dump-')), 'dump');
    expect((await runCli(['dump', '--source', source.url, '--out', out])).exitCode).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.source.identity).toMatch(/\/\d+$/);

    const sameDb = source.url.replace('127.0.0.1', 'localhost');
    expect(sameDb).not.toBe(source.url);
    const schemas = ['public', 'auth', 'storage'];
    const statesBefore = await tableStates(source.url, schemas);
    const shapeBefore = await schemaFingerprint(source.url, schemas);
    const triggers = `SELECT tgname FROM pg_trigger WHERE tgrelid = 'auth.users'::regclass AND NOT tgisinternal ORDER BY 1`;
    const triggersBefore = await sql(source.url, triggers);
    expect(triggersBefore.length).toBeGreaterThan(0);

    const r = await runCli(['restore', '--from', out, '--target', sameDb, '--yes', '--json']);
    expect(r.exitCode).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'USAGE', message: expect.stringMatching(/is the database this dump was taken from/) });
    expect(r.stdout + r.stderr).not.toContain(decodeURIComponent(new URL(source.url).password));
    expect(await tableStates(source.url, schemas)).toEqual(statesBefore);
    expect(await schemaFingerprint(source.url, schemas)).toEqual(shapeBefore);
    expect(await sql(source.url, triggers)).toEqual(triggersBefore);
  }, 120_000);
});

describe('restore refuses manifest paths outside the dump', () => {
  it('"../../../outside/..." with a valid checksum, "/etc/shadow" and a planted symlink: exit 1 before any file is read, nothing loaded', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, `CREATE TABLE public.notes (id int PRIMARY KEY, body text); INSERT INTO public.notes SELECT i, 'note ' || i FROM generate_series(1, 50) i`);
    const parent = mkdtempSync(join(tmpdir(), 'offramp-trav-'));
    const out = join(parent, 'a', 'b', 'dump');
    mkdirSync(join(parent, 'a', 'b'), { recursive: true });
    expect((await runCli(['dump', '--source', source.url, '--out', out])).exitCode).toBe(0);
    const good = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    const dataFile: string = good.units[0].file;

    // The data file moves outside the dump; the manifest points at it with its true checksum
    // (from parent/a/b/evil, "../../../outside" is parent/outside).
    const deep = join(parent, 'a', 'b', 'evil');
    cpSync(out, deep, { recursive: true });
    mkdirSync(join(parent, 'outside'));
    renameSync(join(deep, dataFile), join(parent, 'outside', 'secret.copy.gz'));
    const evil = '../../../outside/secret.copy.gz';
    const withTraversal = structuredClone(good);
    withTraversal.units[0].file = evil;
    withTraversal.files[evil] = withTraversal.files[dataFile];
    delete withTraversal.files[dataFile];
    writeFileSync(join(deep, 'manifest.json'), JSON.stringify(withTraversal));

    const shadow = join(parent, 'a', 'b', 'shadow');
    cpSync(out, shadow, { recursive: true });
    const withShadow = structuredClone(good);
    withShadow.units[0].file = '/etc/shadow';
    withShadow.files['/etc/shadow'] = { sha256: '0'.repeat(64), bytes: 1 };
    writeFileSync(join(shadow, 'manifest.json'), JSON.stringify(withShadow));

    // A data file replaced by a link to the outside copy (same bytes, valid checksum).
    const linked = join(parent, 'a', 'b', 'linked');
    cpSync(out, linked, { recursive: true });
    const linkTarget = join(parent, 'outside', 'secret.copy.gz');
    rmSync(join(linked, dataFile));
    symlinkSync(linkTarget, join(linked, dataFile));

    const target = await track(emptyTargetDatabase());
    const cases: Array<[string, RegExp]> = [
      [deep, /names "\.\.\/\.\.\/\.\.\/outside\/secret\.copy\.gz"/],
      [shadow, /names "\/etc\/shadow", an absolute path/],
      [linked, new RegExp(`dump file "${dataFile.replace(/[.]/g, '\\.')}" is a link that leads outside`)],
    ];
    for (const [dir, message] of cases) {
      const r = await runCli(['restore', '--from', dir, '--target', target.url, '--yes', '--json']);
      expect({ dir, exitCode: r.exitCode }).toEqual({ dir, exitCode: 1 });
      const error = JSON.parse(r.stdout).error;
      expect(error.message).toMatch(message);
      expect(error.message).toMatch(/the dump was refused/);
      // nothing about the outside file's size or contents
      expect(r.stdout + r.stderr).not.toMatch(/\d+ bytes/);
      expect(await userObjects(target.url)).toEqual([]);
    }
    // The intact dump still restores (the test's dumps are sound apart from the planted paths),
    // also as an older offramp wrote it, without the source identity: with a warning.
    const older = structuredClone(good);
    delete older.source.identity;
    writeFileSync(join(out, 'manifest.json'), JSON.stringify(older));
    const restored = await runCli(['restore', '--from', out, '--target', target.url]);
    expect(restored.exitCode).toBe(0);
    expect(restored.stderr).toMatch(/did not record the source database identity/);
    expect(await tableStates(target.url, ['public'])).toEqual(await tableStates(source.url, ['public']));
    expect(readdirSync(join(parent, 'outside'))).toEqual(['secret.copy.gz']);

    // Restoring again: without --yes refused naming what would be replaced; with it, exactly that.
    await sql(target.url, `CREATE TABLE public.mine (id int); INSERT INTO public.mine VALUES (1); DELETE FROM public.notes WHERE id > 10`);
    const again = await runCli(['restore', '--from', out, '--target', target.url, '--json']);
    expect(again.exitCode).toBe(2);
    expect(JSON.parse(again.stdout).error.message).toMatch(/holds 1 object this load creates: table public\.notes$/);
    const replaced = await runCli(['restore', '--from', out, '--target', target.url, '--yes', '--json']);
    expect(replaced.exitCode).toBe(0);
    expect(JSON.parse(replaced.stdout).result.replaced).toEqual(['table public.notes']);
    expect(await tableStates(target.url, ['public'])).toEqual({ ...(await tableStates(source.url, ['public'])), 'public.mine': { rows: 1, hash: expect.any(String) } });
  }, 120_000);
});
