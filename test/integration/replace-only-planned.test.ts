/**
 * `--yes` and `--clean` replace exactly the objects the copy creates: never an extension, never a
 * schema, never a target object the copy does not create; and when dropping what must be replaced
 * would take anything else with it, the copy is refused (exit 2) naming it, with nothing changed.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import { afterAll, describe, expect, it } from 'vitest';
import { journalPathFor } from '../../src/core/move/copy.js';
import { renderCopyText } from '../../src/core/move/render.js';
import { parseConnectionUrl } from '../../src/db/url.js';
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

/** Everything the tests compare on the target: shape and contents of the given schemas, and the extensions (by OID: dropped and recreated would show). */
async function snapshotOf(url: string, schemas: string[]): Promise<unknown> {
  return {
    shape: await schemaFingerprint(url, schemas),
    rows: await tableStates(url, schemas),
    extensions: await sql(url, `SELECT oid::int8 AS oid, extname, extnamespace::regnamespace::text AS schema FROM pg_extension ORDER BY extname`),
    schemas: await sql(url, `SELECT nspname FROM pg_namespace ORDER BY 1`),
  };
}

const SMALL_SOURCE = `
  CREATE TABLE public.authors (id int PRIMARY KEY, name text NOT NULL);
  CREATE TABLE public.posts (id int PRIMARY KEY, author_id int REFERENCES public.authors, title text);
  CREATE FUNCTION public.shout(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(t) $$;
  INSERT INTO public.authors SELECT i, 'author ' || i FROM generate_series(1, 20) i;
  INSERT INTO public.posts SELECT i, 1 + i % 20, 'post ' || i FROM generate_series(1, 200) i;`;

describe('--yes replaces only what the copy creates', () => {
  it('keeps PostGIS in public, a schema with a geometry column, view and FK, and the target\'s own tables; replaces the stale copy of a source table', async () => {
    const source = await track(fixtureDatabase());
    // a function whose argument type lives in the relocated extensions schema
    await sql(source.url, `CREATE FUNCTION public.has_place(g extensions.geography) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT g IS NOT NULL $$`);
    const target = await track(emptyTargetDatabase());
    await sql(target.url, `
      CREATE EXTENSION postgis;
      CREATE TABLE public.mine (id int PRIMARY KEY, note text);
      INSERT INTO public.mine VALUES (1, 'first'), (2, 'second'), (3, 'third');
      CREATE SCHEMA unrelated;
      CREATE TABLE unrelated.places (id int PRIMARY KEY, geom geometry(Point, 4326), mine_id int REFERENCES public.mine);
      INSERT INTO unrelated.places SELECT i, ST_SetSRID(ST_MakePoint(i, i * 2), 4326), 1 + i % 3 FROM generate_series(1, 25) i;
      CREATE VIEW unrelated.near AS SELECT p.id, m.note, ST_AsText(p.geom) AS at FROM unrelated.places p JOIN public.mine m ON m.id = p.mine_id;
      -- an old, different copy of a table the source has: this one the copy replaces
      CREATE TABLE public.posts (id bigint PRIMARY KEY, stale text);
      INSERT INTO public.posts VALUES (1, 'old');`);
    const before = await snapshotOf(target.url, ['public', 'unrelated']);
    const ours = `SELECT md5(string_agg(format('%s %s %s', id, ST_AsText(geom), mine_id), ',' ORDER BY id)) AS places,
                         (SELECT md5(string_agg(format('%s %s %s', id, note, at), ',' ORDER BY id)) FROM unrelated.near) AS view,
                         (SELECT string_agg(note, ',' ORDER BY id) FROM public.mine) AS mine,
                         (SELECT count(*)::int FROM pg_constraint WHERE conrelid = 'unrelated.places'::regclass AND contype = 'f') AS fks,
                         (SELECT extnamespace::regnamespace::text || ' ' || oid FROM pg_extension WHERE extname = 'postgis') AS postgis
                    FROM unrelated.places`;
    const oursBefore = await sql(target.url, ours);
    const args = ['copy', '--source', source.url, '--target', target.url, '--extensions-schema', 'public', '--work-dir', mkdtempSync(join(tmpdir(), 'offramp-yes-')), '--json'];

    // Without --yes: refused, and the message names the object that would be replaced.
    const refused = await runCli(args);
    expect(refused.exitCode).toBe(2);
    const error = JSON.parse(refused.stdout).error;
    expect(error).toMatchObject({ code: 'CONFIRMATION_REQUIRED', message: expect.stringMatching(/holds 1 object this load creates: table public\.posts$/) });
    expect(await snapshotOf(target.url, ['public', 'unrelated'])).toEqual(before);

    const copied = await runCli([...args, '--yes']);
    expect(copied.exitCode).toBe(0);
    const result = JSON.parse(copied.stdout).result;
    expect(result.replaced).toEqual(['table public.posts']);
    const text = renderCopyText(result, new Chalk({ level: 0 }));
    expect(text).toMatch(/replaced on the target \(dropped, then created again from the source\): 1 object\n {4}table public\.posts\n/);

    // What the target had of its own is all there, PostGIS with the same OID (never dropped).
    expect(await sql(target.url, ours)).toEqual(oursBefore);
    expect(oursBefore).toEqual([expect.objectContaining({ mine: 'first,second,third', fks: 1, postgis: expect.stringMatching(/^public \d+$/) })]);
    expect(await sql(target.url, 'SELECT count(*)::int AS n FROM unrelated.near')).toEqual([{ n: 25 }]);
    // ...and the source's tables arrived whole, the stale posts replaced.
    const got = await tableStates(target.url, ['public']);
    expect(got['public.mine']).toEqual({ rows: 3, hash: expect.any(String) });
    delete got['public.mine'];
    expect(got).toEqual(await tableStates(source.url, ['public']));

    // A rehearsal repeated: --yes over the earlier copy replaces every object the copy made
    // (tables, partitions, views, functions, types...) and still nothing of the target's own.
    const again = await runCli([...args, '--yes']);
    expect(again.exitCode).toBe(0);
    const replacedAgain: string[] = JSON.parse(again.stdout).result.replaced;
    expect(replacedAgain).toEqual(expect.arrayContaining(['table public.posts', 'table public.profiles', 'table public.activity_log', 'function public.has_place(public.geography)']));
    expect(replacedAgain.filter((o) => /mine|unrelated|spatial_ref_sys/.test(o))).toEqual([]);
    expect(await sql(target.url, ours)).toEqual(oursBefore);
    const gotAgain = await tableStates(target.url, ['public']);
    delete gotAgain['public.mine'];
    expect(gotAgain).toEqual(await tableStates(source.url, ['public']));
  }, 180_000);

  it('refuses (exit 2) when dropping a replaced table would take a view and a foreign key of another schema or its place in a publication; nothing changed', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, SMALL_SOURCE);
    const target = await track(emptyTargetDatabase());
    await sql(target.url, `
      CREATE TABLE public.posts (id int PRIMARY KEY, title text); INSERT INTO public.posts VALUES (1, 'target''s own');
      CREATE SCHEMA unrelated;
      CREATE VIEW unrelated.post_titles AS SELECT title FROM public.posts;
      CREATE TABLE unrelated.likes (post_id int REFERENCES public.posts, n int); INSERT INTO unrelated.likes VALUES (1, 5);
      CREATE PUBLICATION target_feed FOR TABLE public.posts;`);
    const publication = `SELECT tablename FROM pg_publication_tables WHERE pubname = 'target_feed'`;
    const before = await snapshotOf(target.url, ['public', 'unrelated']);
    const r = await runCli(['copy', '--source', source.url, '--target', target.url, '--yes', '--work-dir', mkdtempSync(join(tmpdir(), 'offramp-yes-')), '--json']);
    expect(r.exitCode).toBe(2);
    const error = JSON.parse(r.stdout).error;
    expect(error.code).toBe('USAGE');
    expect(error.message).toMatch(/^refused: replacing table public\.posts would also destroy 3 objects this load does not create: /);
    expect(error.message).toContain('view unrelated.post_titles');
    expect(error.message).toContain('publication relation public.posts in publication target_feed');
    expect(error.message).toContain('table constraint likes_post_id_fkey on unrelated.likes');
    expect(error.hint).toMatch(/nothing was changed/);
    for (const url of [source.url, target.url]) expect(r.stdout + r.stderr).not.toContain(decodeURIComponent(new URL(url).password));
    expect(await snapshotOf(target.url, ['public', 'unrelated'])).toEqual(before);
    expect(await sql(target.url, `SELECT to_regclass('public.authors') AS t`)).toEqual([{ t: null }]);
    expect(await sql(target.url, publication)).toEqual([{ tablename: 'posts' }]);
  }, 120_000);
});

describe('a partition of the target\'s own', () => {
  it('under a partitioned table the copy replaces: refused (exit 2) naming it, its rows kept', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, `CREATE TABLE public.events (at date NOT NULL, what text) PARTITION BY RANGE (at);
      CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
      INSERT INTO public.events VALUES ('2025-03-01', 'source')`);
    const target = await track(emptyTargetDatabase());
    await sql(target.url, `CREATE TABLE public.events (at date NOT NULL, what text) PARTITION BY RANGE (at);
      CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
      CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
      INSERT INTO public.events VALUES ('2025-06-01', 'old copy'), ('2026-02-01', 'target''s own')`);
    const before = await snapshotOf(target.url, ['public']);
    const r = await runCli(['copy', '--source', source.url, '--target', target.url, '--yes', '--work-dir', mkdtempSync(join(tmpdir(), 'offramp-part-')), '--json']);
    expect(r.exitCode).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toMatch(/^refused: replacing table public\.events, table public\.events_2025 would also destroy 1 object this load does not create: table public\.events_2026$/);
    expect(await snapshotOf(target.url, ['public'])).toEqual(before);
    expect(await sql(target.url, 'SELECT what FROM public.events_2026')).toEqual([{ what: "target's own" }]);

    // Without the partition of its own, the same target is replaced: the source's rows only.
    await sql(target.url, 'DROP TABLE public.events_2026');
    const ok = await runCli(['copy', '--source', source.url, '--target', target.url, '--yes', '--work-dir', mkdtempSync(join(tmpdir(), 'offramp-part-')), '--json']);
    expect(ok.exitCode).toBe(0);
    expect(JSON.parse(ok.stdout).result.replaced).toEqual(['table public.events', 'table public.events_2025']);
    expect(await tableStates(target.url, ['public'])).toEqual(await tableStates(source.url, ['public']));
  }, 120_000);
});

describe('extensions on the target are never dropped', () => {
  it('a source table named like a PostGIS object of the target: refused (exit 2) naming the extension, PostGIS untouched', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, `CREATE TABLE public.spatial_ref_sys (srid int PRIMARY KEY, note text); INSERT INTO public.spatial_ref_sys VALUES (1, 'not PostGIS')`);
    const target = await track(emptyTargetDatabase());
    await sql(target.url, 'CREATE EXTENSION postgis');
    const before = await snapshotOf(target.url, ['public']);
    const srs = `SELECT count(*)::int AS n FROM public.spatial_ref_sys`;
    const rowsBefore = await sql(target.url, srs);
    const r = await runCli(['copy', '--source', source.url, '--target', target.url, '--yes', '--work-dir', mkdtempSync(join(tmpdir(), 'offramp-ext-')), '--json']);
    expect(r.exitCode).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toMatch(/^refused: table public\.spatial_ref_sys \(extension postgis\) would have to be replaced, but belongs to an extension/);
    expect(await snapshotOf(target.url, ['public'])).toEqual(before);
    expect(await sql(target.url, srs)).toEqual(rowsBefore);
  }, 120_000);

  it('PostGIS in public on the target, in extensions on the source: the hint points at --extensions-schema public, not --yes', async () => {
    const source = await track(fixtureDatabase());
    const target = await track(emptyTargetDatabase());
    await sql(target.url, 'CREATE EXTENSION postgis');
    const before = await snapshotOf(target.url, ['public']);
    const r = await runCli(['copy', '--source', source.url, '--target', target.url, '--yes', '--work-dir', mkdtempSync(join(tmpdir(), 'offramp-ext-')), '--json']);
    expect(r.exitCode).toBe(1);
    const error = JSON.parse(r.stdout).error;
    expect(error.message).toMatch(/extension postgis is installed in schema "public" on the target/);
    expect(error.hint).toMatch(/--extensions-schema public/);
    expect(error.hint).not.toMatch(/--yes/);
    expect(await snapshotOf(target.url, ['public'])).toEqual(before);
  }, 120_000);
});

describe('--clean drops only what the earlier copy created', () => {
  it('keeps the target\'s own table in public, replaces the earlier copy; refuses when a view outside depends on it', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, SMALL_SOURCE);
    const target = await track(emptyTargetDatabase());
    const args = ['copy', '--source', source.url, '--target', target.url, '--work-dir', mkdtempSync(join(tmpdir(), 'offramp-clean-')), '--json'];
    expect((await runCli(args)).exitCode).toBe(0);
    await sql(target.url, `
      CREATE TABLE public.mine (id int PRIMARY KEY, note text); INSERT INTO public.mine VALUES (7, 'keep me');
      CREATE SCHEMA unrelated; CREATE TABLE unrelated.notes (t text); INSERT INTO unrelated.notes VALUES ('mine too');
      DELETE FROM public.posts WHERE id > 100;`);
    // The source dropped a function since: --clean drops the earlier copy's and does not recreate it.
    await sql(source.url, 'DROP FUNCTION public.shout(text)');

    const cleaned = await runCli([...args, '--clean']);
    expect(cleaned.exitCode).toBe(0);
    const result = JSON.parse(cleaned.stdout).result;
    expect(result.replaced).toEqual(['table public.authors', 'table public.posts']);
    expect(result.cleaned).toEqual(['function public.shout(pg_catalog.text)']);
    expect(await sql(target.url, `SELECT to_regprocedure('public.shout(text)') AS f`)).toEqual([{ f: null }]);
    expect(await sql(target.url, 'SELECT id, note FROM public.mine')).toEqual([{ id: 7, note: 'keep me' }]);
    expect(await sql(target.url, 'SELECT t FROM unrelated.notes')).toEqual([{ t: 'mine too' }]);
    const got = await tableStates(target.url, ['public']);
    delete got['public.mine'];
    expect(got).toEqual(await tableStates(source.url, ['public']));

    // A view of the target's own on a table the earlier copy made: --clean would destroy it.
    await sql(target.url, `CREATE VIEW unrelated.titles AS SELECT title FROM public.posts`);
    const before = await snapshotOf(target.url, ['public', 'unrelated']);
    const refused = await runCli([...args, '--clean']);
    expect(refused.exitCode).toBe(2);
    expect(JSON.parse(refused.stdout).error.message).toMatch(/^refused: replacing .*table public\.posts.* would also destroy 1 object this load does not create: view unrelated\.titles$/);
    expect(await snapshotOf(target.url, ['public', 'unrelated'])).toEqual(before);
    // The refusal left the journal alone: once the view is gone, --clean finds the earlier copy.
    await sql(target.url, 'DROP VIEW unrelated.titles');
    expect((await runCli([...args, '--clean'])).exitCode).toBe(0);
    expect(await sql(target.url, 'SELECT id, note FROM public.mine')).toEqual([{ id: 7, note: 'keep me' }]);
  }, 180_000);

  it('a journal of an earlier offramp version (table names only): --clean drops those tables and nothing else', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, SMALL_SOURCE);
    const target = await track(emptyTargetDatabase());
    const workDir = mkdtempSync(join(tmpdir(), 'offramp-clean-'));
    const args = ['copy', '--source', source.url, '--target', target.url, '--work-dir', workDir, '--json'];
    expect((await runCli(args)).exitCode).toBe(0);
    const journal = journalPathFor(workDir, parseConnectionUrl(target.url));
    const lines = readFileSync(journal, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'start', objects: expect.arrayContaining([{ type: 'FUNCTION', schema: 'public', name: 'shout("text")' }]) });
    delete lines[0].objects;
    writeFileSync(journal, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    await sql(target.url, `CREATE TABLE public.mine (id int); INSERT INTO public.mine VALUES (1)`);

    // The function is not in the old journal: it exists on the target, so --clean alone refuses it...
    const refused = await runCli([...args, '--clean']);
    expect(refused.exitCode).toBe(2);
    expect(JSON.parse(refused.stdout).error.message).toMatch(/holds 1 object this copy creates that the earlier offramp copy did not: function public\.shout\(pg_catalog\.text\)$/);
    // ...and --clean --yes replaces it too.
    const cleaned = await runCli([...args, '--clean', '--yes']);
    expect(cleaned.exitCode).toBe(0);
    expect(JSON.parse(cleaned.stdout).result.replaced).toEqual(['function public.shout(pg_catalog.text)', 'table public.authors', 'table public.posts']);
    expect(await sql(target.url, 'SELECT id FROM public.mine')).toEqual([{ id: 1 }]);
  }, 120_000);
});
