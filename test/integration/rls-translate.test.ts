/**
 * Issue 11, rls translate on real servers: the fixture is copied into a fresh target (whose
 * auth.users the test makes as a copy of the source's, until the auth work provides it), then
 * compat --apply must put every translatable source policy on the target exactly (independent
 * catalog reads, pg_get_expr on both sides), with compatibility functions that answer as the
 * source's real auth.uid()/jwt()/role()/email() for the same settings, and leave no policy in the
 * deferred file; the rows each principal sees must be the same on both servers. app mode's
 * predicates, as WHERE clauses on the target (read as the superuser, so no RLS helps), must give
 * the rows each principal sees on the source. A not-translatable policy is reported and only
 * installed with --force; bad input ends with exit 2 and a hint.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { loadSqlParser, parseStatements } from '../../src/db/sql-parse.js';
import { authMigrate } from '../../src/core/auth/migrate.js';
import type { AuthLayout } from '../../src/core/auth/layout.js';
import { copyDatabase, copyOptions } from '../../src/core/move/copy.js';
import { parseExpression } from '../../src/core/rls/read.js';
import { validate } from '../../src/core/validate/index.js';
import { translateRls, type RlsTranslateOptions, type RlsTranslation } from '../../src/core/rls/translate.js';
import { silentProgress } from '../../src/output/progress.js';
import { emptyTargetDatabase, fixtureDatabase, type TestDatabase, trackDatabases } from '../bed/databases.js';
import { runCli } from '../e2e/run-cli.js';
import { sql } from './move-helpers.js';

const track = trackDatabases();
let source: TestDatabase;
let target: TestDatabase;
let workDir: string;

/** Not translatable (a request header only PostgREST sets), harmless to the SELECT comparisons. */
const HEADER_POLICY = 'Header-gated follow edits';
/** Reads auth.users (restrictive): needs the auth translation (the local users table). */
const USERS_POLICY = 'Only confirmed users post';

/** The users the auth stage provides: the real `auth migrate` (keep layout: auth.users; or a table layout). */
async function migrateUsers(db: TestDatabase, dir: string, layout: AuthLayout = { kind: 'keep' }): Promise<void> {
  await authMigrate({ source: source.url, target: db.url, layout, includeSessions: false, includeMfa: false, workDir: dir, yes: false, connectTimeoutSeconds: 10 }, silentProgress);
}

const options = (changes: Partial<RlsTranslateOptions> = {}): RlsTranslateOptions => ({
  source: source.url, target: target.url, mode: 'compat', authLayout: { kind: 'keep' }, apply: true, force: false, disableRls: false, yes: false, workDir, ...changes,
});

type PolicyRow = { table: string; name: string; permissive: string; roles: string[]; cmd: string; qual: string | null; with_check: string | null };
/** Both catalogs read alike: pg_get_expr (pg_policies) under the same empty search_path, so every name comes qualified. */
const policiesOn = (url: string): Promise<PolicyRow[]> => withClient(url, { role: 'admin' }, async (c) => {
  await c.query("SET search_path = ''");
  const rows = (await c.query<PolicyRow>(
    `SELECT tablename AS table, policyname AS name, permissive, ARRAY(SELECT unnest(roles) ORDER BY 1)::text[] AS roles, cmd, qual, with_check
       FROM pg_catalog.pg_policies WHERE schemaname = 'public' ORDER BY tablename, policyname`)).rows;
  return rows.map((r) => ({ ...r, roles: [...r.roles] }));
});

interface Principal { label: string; role: 'anon' | 'authenticated' | 'service_role'; sub: string | null; claims: Record<string, unknown> }

/** Run `text` in a transaction as the principal (SET LOCAL ROLE + claims), always rolled back. */
async function asPrincipal<T extends pg.QueryResultRow>(url: string, p: Principal, text: string, values: unknown[] = []): Promise<T[]> {
  return withClient(url, { role: 'admin' }, async (c) => {
    await c.query('BEGIN');
    try {
      await c.query(`SET LOCAL ROLE ${p.role}`);
      await c.query("SELECT set_config('request.jwt.claims', $1, true)", [JSON.stringify(p.claims)]);
      return (await c.query<T>(text, values)).rows;
    } finally {
      await c.query('ROLLBACK');
    }
  });
}

const q = (s: string): string => `"${s.replace(/"/g, '""')}"`;
/** The parameter types declared once, as the app-mode report tells the backend to (pg infers them only from use). */
const rowsOf = (table: string, where = 'true'): string =>
  `${where === 'true' ? '' : 'WITH request(uid, claims, role) AS (SELECT $1::uuid, $2::jsonb, $3::text) '}SELECT count(*)::int AS n, coalesce(md5(string_agg(to_jsonb(${q(table)})::text, ',' ORDER BY to_jsonb(${q(table)})::text)), '') AS h FROM public.${q(table)} WHERE ${where}`;

let principals: Principal[];
let rlsTables: string[];
let compat: RlsTranslation;

beforeAll(async () => {
  source = await track(fixtureDatabase());
  target = await track(emptyTargetDatabase());
  workDir = mkdtempSync(join(tmpdir(), 'offramp-rls-'));
  // calls auth.uid(), so copy defers it like the others
  await sql(source.adminUrl, `CREATE POLICY ${q(HEADER_POLICY)} ON public.follows FOR UPDATE TO authenticated
    USING (follower_id = auth.uid() AND (current_setting('request.headers', true)::json ->> 'x-app') = 'admin')`);
  // as on Supabase, the API roles cannot read auth.users: a SECURITY DEFINER helper does, for the policy
  await sql(source.url, `CREATE FUNCTION public.is_confirmed() RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ''
      AS $$ SELECT EXISTS (SELECT 1 FROM auth.users u WHERE u.id = auth.uid() AND u.email_confirmed_at IS NOT NULL) $$;
    CREATE POLICY ${q(USERS_POLICY)} ON public.posts AS RESTRICTIVE FOR INSERT TO authenticated WITH CHECK (public.is_confirmed())`);
  const copied = await copyDatabase(copyOptions(source.url, target.url, { workDir }), silentProgress);
  expect(copied.deferred.some((d) => d.type === 'POLICY')).toBe(true);
  await migrateUsers(target, workDir);
  await loadSqlParser();

  const pick = async (where: string): Promise<Principal> => {
    const [u] = await sql<{ id: string; email: string; app: Record<string, unknown> }>(source.adminUrl,
      `SELECT u.id, u.email, u.raw_app_meta_data AS app FROM auth.users u WHERE ${where} ORDER BY u.id LIMIT 1`);
    expect(u, where).toBeDefined();
    return { label: u!.email, role: 'authenticated', sub: u!.id, claims: { sub: u!.id, role: 'authenticated', email: u!.email, app_metadata: u!.app, aud: 'authenticated' } };
  };
  principals = [
    { label: 'anon', role: 'anon', sub: null, claims: { role: 'anon' } },
    await pick(`u.raw_app_meta_data ->> 'role' = 'moderator'`),
    await pick(`EXISTS (SELECT 1 FROM public.follows f WHERE f.follower_id = u.id) AND coalesce(u.raw_app_meta_data ->> 'role', '') <> 'moderator'`),
    await pick(`EXISTS (SELECT 1 FROM public.direct_messages d WHERE d.sender_id = u.id) AND EXISTS (SELECT 1 FROM public.beacons b WHERE b.owner_id = u.id)`),
    { label: 'service_role', role: 'service_role', sub: null, claims: { role: 'service_role' } },
  ];
  rlsTables = (await sql<{ t: string }>(source.adminUrl, `SELECT relname AS t FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND relrowsecurity ORDER BY 1`)).map((r) => r.t);
  compat = await translateRls(options(), silentProgress);
}, 240_000);

describe('compat --apply', () => {
  it('puts every translatable source policy on the target as it is on the source, and reports the rest', async () => {
    const src = await policiesOn(source.adminUrl);
    const tgt = await policiesOn(target.adminUrl);
    expect(src.length).toBeGreaterThan(25);
    expect(tgt).toEqual(src.filter((p) => p.name !== HEADER_POLICY));
    // the not-translatable one: reported with its exact reason, not installed
    const header = compat.policies.find((p) => p.name === HEADER_POLICY)!;
    expect(header).toMatchObject({ class: 'not-translatable', installed: false });
    expect(header.reasons.join(' ')).toMatch(/request\.headers.*only PostgREST/);
    // storage policies stay with storage (the target has no storage.objects): reported, not dropped silently
    const storage = compat.policies.filter((p) => p.schema === 'storage');
    expect(storage.length).toBeGreaterThan(3);
    for (const p of storage) {
      expect(p, p.name).toMatchObject({ class: 'not-translatable', installed: false });
      expect(p.reasons[0]).toMatch(/storage policy on storage\.\w+ while storage stays behind/);
    }
    // classes of the fixture's kinds of policy
    const cls = (name: string): string | undefined => compat.policies.find((p) => p.name === name)?.class;
    expect(cls('Public profiles are viewable by everyone.')).toBe('portable');
    expect(cls('Moderators see all posts')).toBe('compat');
    expect(compat.policies.find((p) => p.name === 'Moderators can update any profile')!.reasons.join(' ')).toMatch(/auth\.uid\(\) \(via public\.is_moderator\(\)\)/);
    expect(compat.counts.total).toBe(compat.policies.length);
    expect(compat.counts.installed).toBe(tgt.length);
    // RLS enabled as on the source
    const rls = (url: string): Promise<Array<Record<string, unknown>>> => sql(url, `SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY 1`);
    expect(await rls(target.adminUrl)).toEqual(await rls(source.adminUrl));
    expect(compat.report).toContain("SELECT set_config('request.jwt.claims', $1, true)");
    expect(compat.report).toMatch(/```go[\s\S]*SET LOCAL ROLE/);
  });

  it('compatibility functions answer as the source\'s real auth functions for the same settings', async () => {
    const sub = principals[1]!.sub!;
    const other = principals[2]!.sub!;
    const cases: Array<Record<string, string>> = [
      {},
      { 'request.jwt.claims': JSON.stringify({ sub, role: 'authenticated', email: 'a@example.com', app_metadata: { role: 'moderator' } }) },
      { 'request.jwt.claims': JSON.stringify({ role: 'anon' }) },
      { 'request.jwt.claims': '', 'request.jwt.claim.sub': '' },
      { 'request.jwt.claim.sub': other, 'request.jwt.claim.role': 'authenticated', 'request.jwt.claim.email': 'legacy@example.com' },
      { 'request.jwt.claim.sub': other, 'request.jwt.claims': JSON.stringify({ sub, role: 'anon', email: 'json@example.com' }) },
      { 'request.jwt.claim': JSON.stringify({ sub: other }), 'request.jwt.claims': JSON.stringify({ sub }) },
    ];
    const answers = (url: string, settings: Record<string, string>): Promise<Array<Record<string, unknown>>> => withClient(url, { role: 'admin' }, async (c) => {
      await c.query('BEGIN');
      try {
        for (const [k, v] of Object.entries(settings)) await c.query('SELECT set_config($1, $2, true)', [k, v]);
        return (await c.query('SELECT auth.uid()::text AS uid, auth.jwt() AS jwt, auth.role() AS role, auth.email() AS email')).rows;
      } finally {
        await c.query('ROLLBACK');
      }
    });
    const seen = new Set<string>();
    for (const settings of cases) {
      const expected = await answers(source.adminUrl, settings);
      expect(await answers(target.adminUrl, settings), JSON.stringify(settings)).toEqual(expected);
      seen.add(JSON.stringify(expected));
    }
    expect(seen.size).toBeGreaterThanOrEqual(5); // the cases really differ
  });

  it('each principal sees the same rows on both servers', async () => {
    const counts = new Map<string, number[]>();
    for (const table of rlsTables) {
      for (const p of principals) {
        const [s] = await asPrincipal<{ n: number; h: string }>(source.adminUrl, p, rowsOf(table));
        const [t] = await asPrincipal<{ n: number; h: string }>(target.adminUrl, p, rowsOf(table));
        expect(t, `${table} as ${p.label}`).toEqual(s);
        counts.set(table, [...(counts.get(table) ?? []), s!.n]);
      }
    }
    // the policies really filter: principals see different numbers of posts and messages
    expect(new Set(counts.get('posts')).size).toBeGreaterThan(2);
    expect(new Set(counts.get('direct_messages')).size).toBeGreaterThan(1);
  });

  it('the storage helper equivalents answer as the source\'s storage functions', async () => {
    const names = ['a/b/c.png', 'file.txt', 'avatar.tar.gz', 'folder/noext', 'a//b/', '', 'x/.hidden'];
    await withClient(target.adminUrl, { role: 'admin' }, async (c) => {
      await c.query('BEGIN');
      try {
        await c.query('CREATE SCHEMA storage_check');
        await c.query("SELECT set_config('search_path', 'storage_check', true)");
        await c.query(readFileSync(new URL('../../sql/rls/compat/storage.sql', import.meta.url), 'utf8'));
        const mine = (await c.query(`SELECT n, storage_check.foldername(n) AS f, storage_check.filename(n) AS b, storage_check.extension(n) AS e FROM unnest($1::text[]) WITH ORDINALITY AS u(n, i) ORDER BY i`, [names])).rows;
        const theirs = await sql(source.adminUrl, `SELECT n, storage.foldername(n) AS f, storage.filename(n) AS b, storage.extension(n) AS e FROM unnest($1::text[]) WITH ORDINALITY AS u(n, i) ORDER BY i`, [names]);
        expect(mine).toEqual(theirs);
        expect(mine[0]).toEqual({ n: 'a/b/c.png', f: ['a', 'b'], b: 'c.png', e: 'png' });
      } finally {
        await c.query('ROLLBACK');
      }
    });
  });

  it('takes every policy out of the deferred file (rewritten 0600); the FK into auth.users is home (auth migrate ran first)', async () => {
    const file = compat.installed!.deferredFile!;
    expect(file).toBeDefined();
    const statements = parseStatements(readFileSync(file, 'utf8'));
    expect(statements.filter((s) => s.kind === 'CreatePolicyStmt')).toEqual([]);
    expect(statements.some((s) => s.text.includes('profiles_id_fkey'))).toBe(false);
    expect(await sql(target.adminUrl, "SELECT confrelid::regclass::text AS refs FROM pg_constraint WHERE conname = 'profiles_id_fkey'")).toEqual([{ refs: 'auth.users' }]);
    expect(statMode(file)).toBe(0o600);
    expect(compat.installed!.deferredPoliciesRemoved).toBeGreaterThan(20);
  });

  it('validate then compares the policies like any other object: none left expected, none differing', async () => {
    const report = await validate({ source: source.url, target: target.url, mode: 'counts' }, silentProgress);
    const differences = report.schema?.differences ?? [];
    expect(differences.filter((d) => d.severity === 'fail')).toEqual([]);
    // the only policy difference is the one reported as not translatable (validate still calls it expected: it reads auth)
    expect(differences.filter((d) => d.category === 'policies').map((d) => [d.object, d.change])).toEqual([[`public.follows."${HEADER_POLICY}"`, 'missing_on_target']]);
    expect(report.tables.filter((t) => t.status !== 'ok')).toEqual([]);
  });

  it('is idempotent: a second --apply changes nothing', async () => {
    const before = await policiesOn(target.adminUrl);
    const again = await translateRls(options(), silentProgress);
    expect(again.counts.installed).toBe(compat.counts.installed);
    expect(await policiesOn(target.adminUrl)).toEqual(before);
  });

  it('--compat-schema and the table layout: functions elsewhere, auth.users read as the local table, rewritten on the parse tree', async () => {
    const other = await track(emptyTargetDatabase());
    const otherWork = mkdtempSync(join(tmpdir(), 'offramp-rls-table-'));
    await copyDatabase(copyOptions(source.url, other.url, { workDir: otherWork }), silentProgress);
    await migrateUsers(other, otherWork, { kind: 'table', users: { schema: 'public', name: 'app_users' }, identities: { schema: 'public', name: 'app_identities' }, columns: {} });
    const layout = { kind: 'table' as const, users: { schema: 'public', name: 'app_users' }, identities: { schema: 'public', name: 'app_identities' } };
    const r = await translateRls(options({ target: other.url, workDir: otherWork, compatSchema: 'app_auth', authLayout: layout }), silentProgress);
    const confirmed = r.policies.find((p) => p.name === USERS_POLICY)!;
    expect(confirmed).toMatchObject({ class: 'auth-translation', installed: true });
    expect(confirmed.reasons[0]).toMatch(/reads auth\.users \(via public\.is_confirmed\(\)\): rewritten to the local public\.app_users/);
    // on the target, read back independently: the helper reads the local table through the compat schema, no auth.* left
    const installed = await policiesOn(other.adminUrl);
    const [helper] = await sql<{ src: string }>(other.adminUrl, `SELECT prosrc AS src FROM pg_proc WHERE oid = 'public.is_confirmed()'::regprocedure`);
    expect(helper!.src).toMatch(/"public"\."app_users" u WHERE u\.id = "app_auth"\.uid\(\)/);
    for (const p of installed) expect(`${p.qual} ${p.with_check}`, p.name).not.toMatch(/\bauth\./);
    expect(installed.length).toBe((await policiesOn(target.adminUrl)).length);
    expect(await sql(other.adminUrl, `SELECT to_regprocedure('app_auth.uid()') IS NOT NULL AS ok, to_regnamespace('auth') IS NULL AS no_auth`)).toEqual([{ ok: true, no_auth: true }]);
    // and each principal sees what it sees on the source
    for (const table of ['posts', 'direct_messages', 'profiles']) {
      for (const p of principals) {
        const [s] = await asPrincipal<{ n: number; h: string }>(source.adminUrl, p, rowsOf(table));
        const [t] = await asPrincipal<{ n: number; h: string }>(other.adminUrl, p, rowsOf(table));
        expect(t, `${table} as ${p.label}`).toEqual(s);
      }
    }
    // the confirmed-users rule still bites: an unconfirmed user may not post, a confirmed one may
    const [unconfirmed] = await sql<{ id: string }>(source.adminUrl, 'SELECT id FROM auth.users WHERE email_confirmed_at IS NULL ORDER BY id LIMIT 1');
    const tryPost = async (url: string, id: string): Promise<string> => asPrincipal(url, { label: id, role: 'authenticated', sub: id, claims: { sub: id, role: 'authenticated' } },
      `INSERT INTO public.posts (author_id, body) VALUES ('${id}', 'x') RETURNING 'inserted' AS r`).then(() => 'inserted', (e: Error) => (/row-level security/.test(e.message) ? 'refused' : e.message));
    expect(await tryPost(other.adminUrl, unconfirmed!.id)).toBe('refused');
    expect(await tryPost(source.adminUrl, unconfirmed!.id)).toBe('refused');
    expect(await tryPost(other.adminUrl, principals[2]!.sub!)).toBe(await tryPost(source.adminUrl, principals[2]!.sub!));
  });
});

describe('app mode', () => {
  let app: RlsTranslation;
  beforeAll(async () => {
    app = await translateRls(options({ mode: 'app', apply: false }), silentProgress);
  }, 60_000);

  it('emits one predicate per table and command that gives each principal the source\'s rows', async () => {
    expect(app.parameters?.map((p) => p.name)).toEqual(['$1', '$2', '$3']);
    const byTable = new Map((app.tables ?? []).map((t) => [`${t.schema}.${t.table}`, t]));
    for (const table of rlsTables) {
      const predicate = byTable.get(`public.${table}`)?.using.SELECT?.sql;
      expect(predicate, table).toBeDefined();
      expect(predicate).not.toMatch(/auth\.(uid|jwt|role|email)\(/);
      for (const p of principals) {
        const [s] = await asPrincipal<{ n: number; h: string }>(source.adminUrl, p, rowsOf(table));
        // the target as its superuser: RLS does not apply, only the predicate filters
        const [t] = await sql<{ n: number; h: string }>(target.adminUrl, rowsOf(table, predicate!), [p.sub, JSON.stringify(p.claims), p.role]);
        expect(t, `${table} as ${p.label}: ${predicate}`).toEqual(s);
      }
    }
  });

  it('keeps USING and WITH CHECK apart, expands FOR ALL, and writes a Markdown report grouped by table', () => {
    const beacons = app.tables!.find((t) => t.table === 'beacons')!;
    expect(beacons.withCheck.INSERT!.policies).toEqual(['Users manage their own beacons']);
    expect(beacons.using.SELECT!.policies.sort()).toEqual(['Live beacons are visible to signed-in users', 'Users manage their own beacons']);
    expect(beacons.using.DELETE!.policies).toEqual(['Users manage their own beacons']);
    expect(app.report).toContain('## public.beacons');
    expect(app.report).toContain('`$1` (uuid)');
  });
});

describe('the --force gate and bad input', () => {
  it('installs a not-translatable policy only with --force', async () => {
    const has = async (): Promise<boolean> => (await policiesOn(target.adminUrl)).some((p) => p.name === HEADER_POLICY);
    expect(await has()).toBe(false);
    const forced = await translateRls(options({ force: true }), silentProgress);
    expect(forced.policies.find((p) => p.name === HEADER_POLICY)).toMatchObject({ class: 'not-translatable', installed: true });
    expect(await has()).toBe(true);
    expect(await policiesOn(target.adminUrl)).toEqual((await policiesOn(source.adminUrl)));
  });

  it('a policy expression that does not parse is a usage error', () => {
    const parser = { parseSync: (s: string) => { throw new Error(`syntax error in ${s}`); } } as never;
    expect(() => parseExpression(parser, 'owner_id = = 1', 'policy "x"')).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/policy "x" does not parse/) }));
  });

  it('exit 2 with a hint: a target without the auth tables, --disable-rls without --yes; no password in output', async () => {
    const bare = await track(emptyTargetDatabase());
    const noAuth = await runCli(['rls', 'translate', '--mode', 'compat', '--apply', '--source', source.url, '--target', bare.url, '--work-dir', workDir]);
    expect(noAuth.exitCode).toBe(2);
    expect(noAuth.stderr).toMatch(/no auth\.users/);
    expect(noAuth.stderr).toMatch(/auth migrate/);
    expect(await sql(bare.adminUrl, `SELECT nspname FROM pg_namespace WHERE nspname = 'auth' UNION ALL SELECT polname FROM pg_policy`)).toEqual([]);
    const noYes = await runCli(['rls', 'translate', '--mode', 'app', '--disable-rls', '--source', source.url, '--target', target.url]);
    expect(noYes.exitCode).toBe(2);
    expect(noYes.stderr).toMatch(/--yes/);
    const list = await runCli(['rls', 'translate', '--json', '--source', source.url, '--target', target.url, '--work-dir', workDir]);
    expect(list.exitCode).toBe(0);
    expect(JSON.parse(list.stdout).result.counts.total).toBe(compat.counts.total);
    for (const secret of [decodeURIComponent(new URL(inject('sourceUrl')).password), decodeURIComponent(new URL(target.url).password)].filter(Boolean)) {
      for (const out of [noAuth, noYes, list]) expect(`${out.stdout}${out.stderr}`).not.toContain(secret);
    }
  });

  it('--mode app --disable-rls --yes turns RLS off on the target tables', async () => {
    const off = await translateRls(options({ mode: 'app', apply: false, disableRls: true, yes: true }), silentProgress);
    expect(off.rlsDisabled?.sort()).toEqual(rlsTables.map((t) => `public.${t}`).sort());
    expect(await sql(target.adminUrl, `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relrowsecurity`)).toEqual([]);
  });
});

function statMode(file: string): number {
  return statSync(file).mode & 0o777;
}
