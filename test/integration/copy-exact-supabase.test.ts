/**
 * Issue 8, items 1–3 on real servers: a Supabase-shaped source with materialized views (one reading
 * another, one never populated, one reading auth.users), a column default, a CHECK and a view that
 * call a platform-only extension's function (pgjwt's extensions.sign, absent on the target), a
 * deferred view with grants, and a policy whose roles the target lists in another order.
 * copy (and dump + restore) must load it, and validate must exit 0 with each difference `expected`
 * and explained; then real differences of each kind must still fail.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyDatabase, copyOptions } from '../../src/core/move/copy.js';
import { dumpDatabase } from '../../src/core/move/dump.js';
import { restoreDatabase } from '../../src/core/move/restore.js';
import { validate } from '../../src/core/validate/index.js';
import type { SchemaDifference, ValidateReport } from '../../src/core/validate/types.js';
import { silentProgress } from '../../src/output/progress.js';
import { emptyTargetDatabase, fixtureDatabase, type TestDatabase, trackDatabases } from '../bed/databases.js';
import { runCli } from '../e2e/run-cli.js';
import { killAtFault } from './fault-helpers.js';
import { sql, tableStates } from './move-helpers.js';

const track = trackDatabases();
const tmp = (label: string): string => mkdtempSync(join(tmpdir(), `offramp-exact-${label}-`));

/** What the auth stage gives a self-hosted target (policies calling auth.uid() can then load). */
const AUTH_SHIM = `
  CREATE SCHEMA auth;
  CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid $$;
  CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role' $$;
  CREATE FUNCTION auth.email() RETURNS text LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email' $$;
  CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb $$;`;

const ADDITIONS = `
  CREATE TABLE public.tokens (
    id bigint PRIMARY KEY,
    payload json NOT NULL,
    token text DEFAULT extensions.sign('{"kind":"default"}'::json, 'k'),
    note text DEFAULT 'plain',
    CONSTRAINT token_is_signed CHECK (token IS NULL OR length(extensions.sign(payload, 'k')) > 10),
    CONSTRAINT id_positive CHECK (id > 0)
  );
  INSERT INTO public.tokens (id, payload) SELECT g, json_build_object('n', g) FROM generate_series(1, 200) g;
  UPDATE public.tokens SET token = NULL WHERE id % 7 = 0;

  -- a view calling the platform-only function: deferred by copy, with its grants and comment
  CREATE VIEW public.signed_tokens AS SELECT id, extensions.sign(payload, 'k') AS jwt FROM public.tokens;
  GRANT SELECT ON public.signed_tokens TO anon, authenticated;
  COMMENT ON VIEW public.signed_tokens IS 'tokens as JWTs';
  -- a plain view with a grant: copied, its grant must arrive
  CREATE VIEW public.token_ids AS SELECT id FROM public.tokens;
  GRANT SELECT ON public.token_ids TO authenticated;

  -- materialized views: a_token_total reads token_stats (refreshed after it although its name sorts first),
  -- never_filled stays unpopulated, user_count reads auth.users (deferred with its REFRESH)
  CREATE MATERIALIZED VIEW public.token_stats AS SELECT id % 5 AS bucket, count(*) AS n, md5(string_agg(payload::text, ',' ORDER BY id)) AS h FROM public.tokens GROUP BY 1;
  CREATE UNIQUE INDEX token_stats_bucket ON public.token_stats (bucket);
  CREATE MATERIALIZED VIEW public.a_token_total AS SELECT sum(n) AS total, count(*) AS buckets FROM public.token_stats;
  CREATE MATERIALIZED VIEW public.never_filled AS SELECT id FROM public.tokens WITH NO DATA;
  CREATE MATERIALIZED VIEW public.user_count AS SELECT count(*) AS n FROM auth.users;
  GRANT SELECT ON public.user_count TO authenticated;
  -- deferred through another deferred object: a view of auth.users, and a matview reading that view
  CREATE VIEW public.user_emails AS SELECT id, email FROM auth.users;
  CREATE MATERIALIZED VIEW public.user_email_count AS SELECT count(*) AS n FROM public.user_emails;
  CREATE INDEX user_count_n ON public.user_count (n);

  -- a policy naming its roles in the order the target will not have
  ALTER TABLE public.tokens ENABLE ROW LEVEL SECURITY;
  CREATE POLICY tokens_read ON public.tokens FOR SELECT TO anon, authenticated USING (true);`;

const matviewRows = (url: string, name: string): Promise<Array<Record<string, unknown>>> =>
  sql(url, `SELECT to_jsonb(m) AS r FROM public.${name} m ORDER BY 1::text`).then((rows) => rows.map((r) => r.r as Record<string, unknown>).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));

const populated = async (url: string): Promise<Record<string, boolean>> => Object.fromEntries(
  (await sql<{ name: string; p: boolean }>(url, `SELECT c.relname AS name, c.relispopulated AS p FROM pg_class c WHERE c.relkind = 'm' AND c.relnamespace = 'public'::regnamespace`)).map((r) => [r.name, r.p]),
);

const diff = (report: ValidateReport, category: string, object: string): SchemaDifference[] =>
  (report.schema?.differences ?? []).filter((d) => d.category === category && d.object === object);

let source: TestDatabase;

beforeAll(async () => {
  source = await track(fixtureDatabase());
  await sql(source.url, ADDITIONS);
}, 60_000);

/** Everything that must hold on a target loaded from the source, by copy or by dump + restore. */
async function expectExactTarget(target: TestDatabase): Promise<void> {
  // The same roles in the other order on the target (what pg_dump's catalog-order listing gives
  // after a role was altered), proven on both catalogs.
  await sql(target.url, 'ALTER POLICY tokens_read ON public.tokens TO authenticated, anon');
  const roleOrder = (url: string): Promise<Array<Record<string, unknown>>> =>
    sql(url, `SELECT array_to_string(ARRAY(SELECT pg_get_userbyid(r) FROM unnest(polroles) WITH ORDINALITY AS u(r, i) ORDER BY i), ',') AS roles
                FROM pg_policy WHERE polname = 'tokens_read'`);
  expect(await roleOrder(source.url)).toEqual([{ roles: 'anon,authenticated' }]);
  expect(await roleOrder(target.url)).toEqual([{ roles: 'authenticated,anon' }]);
  // data: every table, and each populated materialized view, equal on both servers
  expect(await tableStates(target.url, ['public'])).toEqual(await tableStates(source.url, ['public']));
  expect(await populated(target.url)).toEqual({ author_stats: true, token_stats: true, a_token_total: true, never_filled: false });
  expect(await populated(source.url)).toEqual({ author_stats: true, token_stats: true, a_token_total: true, never_filled: false, user_count: true, user_email_count: true });
  for (const m of ['token_stats', 'a_token_total']) expect(await matviewRows(target.url, m)).toEqual(await matviewRows(source.url, m));
  expect((await matviewRows(target.url, 'a_token_total'))[0]).toEqual({ total: 200, buckets: 5 });
  // the default and the check calling extensions.sign are not on the target; the plain ones are
  const cols = await sql<{ col: string; def: string | null }>(target.url,
    `SELECT a.attname AS col, pg_get_expr(d.adbin, d.adrelid) AS def FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = 'public.tokens'::regclass AND a.attname IN ('token', 'note') ORDER BY 1`);
  expect(cols).toEqual([{ col: 'note', def: "'plain'::text" }, { col: 'token', def: null }]);
  const checks = await sql<{ conname: string }>(target.url, `SELECT conname FROM pg_constraint WHERE conrelid = 'public.tokens'::regclass AND contype = 'c' ORDER BY 1`);
  expect(checks.map((c) => c.conname)).toEqual(['id_positive']);
  const views = await sql<{ relname: string }>(target.url, `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname IN ('signed_tokens', 'token_ids', 'user_count') ORDER BY 1`);
  expect(views.map((v) => v.relname)).toEqual(['token_ids']);

  // validate, in process: exit-0 verdict with each difference expected and explained
  const report = await validate({ source: source.url, target: target.url }, silentProgress);
  const fails = (report.schema?.differences ?? []).filter((d) => d.severity === 'fail');
  expect(fails).toEqual([]);
  expect(report.tables.filter((t) => t.status !== 'ok')).toEqual([]);
  expect(report.summary.ok).toBe(true);
  const tables = Object.fromEntries(report.tables.map((t) => [t.table, t]));
  expect(tables['public.token_stats']).toMatchObject({ status: 'ok', rows: { source: 5, target: 5 } });
  expect(tables['public.a_token_total']).toMatchObject({ status: 'ok', rows: { source: 1, target: 1 } });
  expect(tables['public.never_filled']?.note).toMatch(/not populated on either side/);
  expect(tables['public.tokens']).toMatchObject({ status: 'ok', rows: { source: 200, target: 200 } });
  expect(tables['public.user_count']).toBeUndefined();
  expect(report.skipped).toContainEqual({ object: 'materialized view public.user_count', reason: expect.stringMatching(/reads auth.*deferred/) });

  const expectedWith = (category: string, object: string, reason: RegExp): void => {
    const d = diff(report, category, object);
    expect(d, `${category} ${object}`).toHaveLength(1);
    expect(d[0]).toMatchObject({ severity: 'expected' });
    expect(d[0]!.reason).toMatch(reason);
  };
  expectedWith('columns', 'public.tokens.token', /platform-only extension pgjwt/);
  expectedWith('constraints', 'public.tokens.token_is_signed', /platform-only extension pgjwt/);
  expectedWith('views', 'public.signed_tokens', /platform-only extension pgjwt/);
  expectedWith('grants', 'view public.signed_tokens to anon: SELECT', /belongs to view public\.signed_tokens.*pgjwt/);
  expectedWith('grants', 'view public.signed_tokens to authenticated: SELECT', /belongs to view public\.signed_tokens/);
  expectedWith('views', 'public.user_count', /auth/);
  expectedWith('views', 'public.user_emails', /auth/);
  expectedWith('views', 'public.user_email_count', /auth/);
  expect(report.skipped).toContainEqual({ object: 'materialized view public.user_email_count', reason: expect.stringMatching(/reads auth/) });
  expectedWith('grants', 'materialized view public.user_count to authenticated: SELECT', /belongs to view public\.user_count/);
  expectedWith('indexes', 'public.user_count_n', /belongs to view public\.user_count/);
  // the roles of tokens_read are a set; the target has `extensions`, so it is not listed missing
  expect(diff(report, 'policies', 'public.tokens.tokens_read')).toEqual([]);
  expect(diff(report, 'schemas', 'extensions')).toEqual([]);
}

describe('exact on a Supabase-shaped project (issue 8: materialized views, platform-extension dependents, validate without false alarms)', () => {
  it('copy: tables and materialized views equal, held-back default/check/view deferred with the reason; validate exits 0; real differences still fail', async () => {
    const target = await track(emptyTargetDatabase());
    await sql(target.url, AUTH_SHIM);
    const result = await copyDatabase(copyOptions(source.url, target.url, { workDir: tmp('copy') }), silentProgress);

    const deferred = Object.fromEntries(result.deferred.map((d) => [`${d.type} ${d.name}`, d]));
    expect(deferred['DEFAULT tokens.token']?.reason).toMatch(/extensions\.sign.*platform-only extension pgjwt/);
    expect(deferred['DEFAULT tokens.token']?.sql).toMatch(/ALTER TABLE "public"\."tokens" ALTER COLUMN "token" SET DEFAULT "extensions"\."sign"\(/);
    expect(deferred['CHECK CONSTRAINT tokens.token_is_signed']?.reason).toMatch(/platform-only extension pgjwt/);
    expect(deferred['VIEW signed_tokens']?.reason).toMatch(/extensions\.sign/);
    expect(deferred['MATERIALIZED VIEW user_count']?.reason).toMatch(/auth\.users|does not exist/);
    expect(deferred['MATERIALIZED VIEW DATA user_count']).toMatchObject({ reason: expect.stringMatching(/^not refreshed/), sql: expect.stringMatching(/REFRESH MATERIALIZED VIEW "public"\."user_count"/) });
    expect(Object.keys(deferred).filter((k) => k.includes('note') || k.includes('id_positive'))).toEqual([]);

    await expectExactTarget(target);

    // the CLI's exit code for the same comparison
    const exact = await runCli(['validate', '--source', source.url, '--target', target.url, '--json']);
    expect(exact.exitCode).toBe(0);

    // Real differences of each kind: a policy's roles, a grant of a copied view, a default and a
    // check that depend on nothing left behind, an unpopulated and a changed materialized view.
    await sql(target.url, `
      ALTER POLICY tokens_read ON public.tokens TO anon;
      REVOKE SELECT ON public.token_ids FROM authenticated;
      ALTER TABLE public.tokens ALTER COLUMN note DROP DEFAULT;
      ALTER TABLE public.tokens DROP CONSTRAINT id_positive;
      REFRESH MATERIALIZED VIEW public.a_token_total WITH NO DATA;
      DELETE FROM public.tokens WHERE id = 3;
      REFRESH MATERIALIZED VIEW public.token_stats;`);
    const broken = await validate({ source: source.url, target: target.url }, silentProgress);
    expect(broken.summary.ok).toBe(false);
    const failed = (category: string, object: string): void => {
      const d = diff(broken, category, object);
      expect(d.length, `${category} ${object}`).toBeGreaterThan(0);
      expect(d.every((x) => x.severity === 'fail'), `${category} ${object}`).toBe(true);
    };
    failed('policies', 'public.tokens.tokens_read');
    failed('grants', 'view public.token_ids to authenticated: SELECT');
    failed('columns', 'public.tokens.note');
    failed('constraints', 'public.tokens.id_positive');
    const tables = Object.fromEntries(broken.tables.map((t) => [t.table, t]));
    expect(tables['public.a_token_total']).toMatchObject({ status: 'differs' });
    expect(tables['public.a_token_total']?.note).toMatch(/not populated on the target/);
    expect(tables['public.token_stats']).toMatchObject({ status: 'differs' });
    const cli = await runCli(['validate', '--source', source.url, '--target', target.url, '--json']);
    expect(cli.exitCode).toBe(3);
  }, 240_000);

  it('a copy killed in post-data before the REFRESH steps: --resume refreshes the materialized views', async () => {
    const target = await track(emptyTargetDatabase());
    await sql(target.url, AUTH_SHIM);
    const workDir = tmp('resume');
    const args = ['copy', '--source', source.url, '--target', target.url, '--work-dir', workDir, '--json'];
    // The first sequential post-data step: pg_dump puts the REFRESH entries after every constraint.
    await killAtFault(args, 'constraints:1', 'SIGKILL', join(workDir, 'fault.marker'), target.url);
    expect(await populated(target.url)).toEqual({ author_stats: false, token_stats: false, a_token_total: false, never_filled: false });

    const resumed = await runCli([...args, '--resume']);
    expect(resumed.exitCode, resumed.stderr.slice(-2000)).toBe(0);
    expect(await populated(target.url)).toEqual({ author_stats: true, token_stats: true, a_token_total: true, never_filled: false });
    for (const m of ['token_stats', 'a_token_total']) expect(await matviewRows(target.url, m)).toEqual(await matviewRows(source.url, m));
  }, 300_000);

  it('dump + restore: the same target, and validate exits 0', async () => {
    const out = join(tmp('dump'), 'dump');
    await dumpDatabase({
      source: source.url, out, jobs: 2, platform: 'auto', schemas: [], excludeSchemas: [], excludeTables: [], splitBytes: 2 * 1024 ** 3,
      dataFormat: 'binary', connectTimeoutSeconds: 10, overwrite: false,
    }, silentProgress);
    const target = await track(emptyTargetDatabase());
    await sql(target.url, AUTH_SHIM);
    const restored = await restoreDatabase({ from: out, target: target.url, jobs: 2, extensionsSchema: 'extensions', ownerMap: {}, workDir: tmp('restore'), yes: false, connectTimeoutSeconds: 10, analyze: true }, silentProgress);
    const deferred = restored.deferred.map((d) => `${d.type} ${d.name}`);
    expect(deferred).toEqual(expect.arrayContaining(['DEFAULT tokens.token', 'CHECK CONSTRAINT tokens.token_is_signed', 'VIEW signed_tokens']));

    await expectExactTarget(target);
    const cli = await runCli(['validate', '--source', source.url, '--target', target.url, '--json']);
    expect(cli.exitCode).toBe(0);
  }, 240_000);
});
