import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyDatabase, copyOptions, type CopyOptions } from '../../src/core/move/copy.js';
import { silentProgress } from '../../src/output/progress.js';
import { emptySourceDatabase, emptyTargetDatabase, fixtureDatabase, trackDatabases } from '../bed/databases.js';
import { schemaFingerprint, sql, tableStates } from './move-helpers.js';
import { explainedByDeferred } from './compare-helpers.js';

const HARD_TYPES = readFileSync(new URL('./hard-types.sql', import.meta.url), 'utf8');
const track = trackDatabases();

/** Defaults plus a fresh work directory, so journals of different tests never meet. */
function options(source: string, target: string, extra: Partial<CopyOptions> = {}): CopyOptions {
  return copyOptions(source, target, { workDir: mkdtempSync(join(tmpdir(), 'offramp-copy-')), splitBytes: 64 * 1024 * 1024, ...extra });
}

/** The auth helpers a self-hosted target gets from the RLS stage; here by hand, so policies can load. */
const AUTH_SHIM = `
  CREATE SCHEMA auth;
  CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid $$;
  CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role' $$;
  CREATE FUNCTION auth.email() RETURNS text LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email' $$;
  CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb $$;`;

describe('offramp copy', () => {
  it('copies a plain PostgreSQL database exactly: rows, hard types, and every schema object', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, HARD_TYPES);
    const target = await track(emptyTargetDatabase());
    const result = await copyDatabase(options(source.url, target.url, { splitBytes: 64 * 1024 }), silentProgress);

    expect(result.platform).toBe('postgres');
    expect(result.format).toBe('binary');
    expect(result.deferred).toEqual([]);
    const schemas = ['app', 'extensions'];
    expect(await tableStates(target.url, schemas)).toEqual(await tableStates(source.url, schemas));
    expect(await schemaFingerprint(target.url, schemas)).toEqual(await schemaFingerprint(source.url, schemas));
    // posts was split into ctid ranges and still arrived whole
    expect(result.tables.find((t) => t.table === 'app.posts')?.rows).toBe(3000);
    const [special] = await sql<{ nan: number; inf: number; ts: string }>(target.url,
      `SELECT count(*) FILTER (WHERE score = 'NaN') AS nan, count(*) FILTER (WHERE score = '-Infinity') AS inf,
              max(happened_at)::text AS ts FROM app.posts`);
    expect(special).toEqual({ nan: '1', inf: '1', ts: 'infinity' });
    // identity and sequence positions carried: the next values continue, not restart
    const [next] = await sql<{ id: string; n: string }>(target.url,
      `INSERT INTO app.posts (body) VALUES ('after copy') RETURNING id, (SELECT nextval('app.ticket_seq')) AS n`);
    expect(next).toEqual({ id: '3001', n: '1025' });
  });

  it('text format gives the same result as binary', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, HARD_TYPES);
    const target = await track(emptyTargetDatabase());
    const result = await copyDatabase(options(source.url, target.url, { format: 'text' }), silentProgress);
    expect(result.format).toBe('text');
    expect(await tableStates(target.url, ['app'])).toEqual(await tableStates(source.url, ['app']));
    expect(await schemaFingerprint(target.url, ['app'])).toEqual(await schemaFingerprint(source.url, ['app']));
  });

  it('copies a Supabase-shaped project: managed schemas left behind, platform extension skipped, auth references deferred', async () => {
    const source = await track(fixtureDatabase());
    const target = await track(emptyTargetDatabase());
    await sql(target.url, AUTH_SHIM);
    const result = await copyDatabase(options(source.url, target.url), silentProgress);

    expect(result.platform).toBe('supabase');
    expect(result.schemas).toEqual(['public']);
    expect(result.excludedSchemas).toEqual(expect.arrayContaining(['auth', 'storage', 'extensions', 'realtime', 'vault', 'graphql_public']));
    const states = await tableStates(source.url, ['public']);
    expect(await tableStates(target.url, ['public'])).toEqual(states);
    expect(states['public.posts']?.rows).toBe(298);

    // Extensions recreated in "extensions"; the platform-only stand-in skipped, not failed.
    const ext = Object.fromEntries(result.schema.extensions.map((e) => [e.name, e]));
    expect(ext.postgis).toMatchObject({ schema: 'extensions', action: 'created' });
    expect(ext.pgjwt).toMatchObject({ action: 'skipped' });
    const [geo] = await sql<{ t: string }>(target.url, `SELECT atttypid::regtype::text AS t FROM pg_attribute WHERE attrelid = 'public.beacons'::regclass AND attname = 'location'`);
    expect(geo?.t).toBe('extensions.geography');

    // API roles exist for the grants and policies; grants to supabase_admin & co. were not replayed.
    const roles = (await sql<{ rolname: string; rolcanlogin: boolean }>(target.url, `SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('anon','authenticated','service_role','supabase_admin')`));
    expect(roles.filter((r) => r.rolname !== 'supabase_admin').every((r) => !r.rolcanlogin)).toBe(true);
    expect(roles.some((r) => r.rolname === 'supabase_admin')).toBe(false);

    // Everything of public arrived, except exactly the objects reported as deferred.
    const want = await schemaFingerprint(source.url, ['public']);
    const got = await schemaFingerprint(target.url, ['public']);
    expect(got.filter((l) => !want.includes(l))).toEqual([]);
    const missing = want.filter((l) => !got.includes(l));
    expect(missing.length).toBeGreaterThan(0);
    // (a foreign key of a partitioned table shows once per partition, deferred once on the parent)
    const explained = explainedByDeferred(result.deferred);
    expect(missing.filter((l) => !explained(l))).toEqual([]);
    // Each deferred object says why and carries the SQL that brings it home later.
    for (const d of result.deferred) expect({ reason: d.reason.length > 0, sql: d.sql.trim().length > 0 }).toEqual({ reason: true, sql: true });
    expect(result.deferred.some((d) => d.type === 'FK CONSTRAINT' && /profiles/.test(d.name))).toBe(true);
    expect(readFileSync(result.deferredFile!, 'utf8')).toMatch(/REFERENCES "auth"\."users"/);
  });

  it('--extensions-schema public relocates the extensions and rewrites the references to them', async () => {
    const source = await track(fixtureDatabase());
    const target = await track(emptyTargetDatabase());
    const result = await copyDatabase(options(source.url, target.url, { extensionsSchema: 'public' }), silentProgress);
    expect(result.schema.extensions.find((e) => e.name === 'postgis')).toMatchObject({ schema: 'public', action: 'created' });
    const [geo] = await sql<{ t: string; d: string }>(target.url,
      `SELECT atttypid::regtype::text AS t, (SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'public.beacons'::regclass AND adnum = 1) AS d
         FROM pg_attribute WHERE attrelid = 'public.beacons'::regclass AND attname = 'location'`);
    expect(geo).toEqual({ t: 'geography', d: 'uuid_generate_v4()' });
    expect(await sql(target.url, `SELECT 1 FROM pg_namespace WHERE nspname = 'extensions'`)).toEqual([]);
    expect(await tableStates(target.url, ['public'])).toEqual(await tableStates(source.url, ['public']));
  });

  it('refuses a non-empty target without --yes and changes nothing; replaces it with --yes', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, HARD_TYPES);
    const target = await track(emptyTargetDatabase());
    await sql(target.url, `CREATE TABLE public.precious (id int); INSERT INTO public.precious VALUES (42)`);
    await expect(copyDatabase(options(source.url, target.url), silentProgress)).rejects.toMatchObject({ exitCode: 2, code: 'CONFIRMATION_REQUIRED' });
    expect(await sql(target.url, 'SELECT id FROM public.precious')).toEqual([{ id: 42 }]);
    expect(await sql(target.url, `SELECT 1 FROM pg_namespace WHERE nspname = 'app'`)).toEqual([]);

    await copyDatabase(options(source.url, target.url, { yes: true }), silentProgress);
    expect(await tableStates(target.url, ['app'])).toEqual(await tableStates(source.url, ['app']));
  });

  it('--clean drops only what the earlier copy loaded, and needs an earlier copy', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, HARD_TYPES);
    const target = await track(emptyTargetDatabase());
    const opts = options(source.url, target.url);
    await copyDatabase(opts, silentProgress);
    await sql(target.url, `CREATE SCHEMA keep; CREATE TABLE keep.notes (t text); INSERT INTO keep.notes VALUES ('mine'); DELETE FROM app.tickets`);
    await expect(copyDatabase({ ...opts, workDir: mkdtempSync(join(tmpdir(), 'offramp-')), clean: true }, silentProgress)).rejects.toThrow(/--clean found no earlier offramp copy/);
    await copyDatabase({ ...opts, clean: true }, silentProgress);
    expect(await sql(target.url, 'SELECT t FROM keep.notes')).toEqual([{ t: 'mine' }]);
    expect(await tableStates(target.url, ['app'])).toEqual(await tableStates(source.url, ['app']));
  });

  it('--schema and --exclude-table narrow what moves, and the schema dump agrees with the data (case-sensitive patterns)', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, HARD_TYPES);
    const target = await track(emptyTargetDatabase());
    const result = await copyDatabase(options(source.url, target.url, { schemas: ['app'], excludeTables: ['app.tickets', 'app.Sel*'] }), silentProgress);
    expect(result.schemas).toEqual(['app']);
    expect(result.tables.map((t) => t.table).sort()).toEqual(['app.events_2024', 'app.events_2025', 'app.posts', 'app.users']);
    expect(await sql(target.url, `SELECT to_regclass('app.tickets') AS t, to_regclass('app."Select"') AS s`)).toEqual([{ t: null, s: null }]);
    // the extensions the copied tables use were still created in their schema
    expect((await sql<{ n: number }>(target.url, `SELECT count(*)::int AS n FROM pg_extension WHERE extname IN ('postgis', 'uuid-ossp') AND extnamespace = 'extensions'::regnamespace`))[0]?.n).toBe(2);
    const states = await tableStates(source.url, ['app']);
    delete states['app.tickets'];
    delete states['app."Select"'];
    expect(await tableStates(target.url, ['app'])).toEqual(states);
  });

  it('refuses to copy a database onto itself, and leaves it as it was', async () => {
    const source = await track(emptySourceDatabase());
    await sql(source.url, HARD_TYPES);
    const [states, schema] = await Promise.all([tableStates(source.url, ['app']), schemaFingerprint(source.url, ['app'])]);
    await expect(copyDatabase(options(source.url, source.url.replace('127.0.0.1', 'localhost')), silentProgress)).rejects.toThrow(/same database/);
    expect(await tableStates(source.url, ['app'])).toEqual(states);
    expect(await schemaFingerprint(source.url, ['app'])).toEqual(schema);
  });
});
