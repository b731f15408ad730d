/**
 * `auth migrate` on the fixture, after a `copy` into a fresh target whose connecting role owns its
 * database and is not a superuser. Every claim is checked by querying both servers independently
 * (md5 of the ordered rows, xmin of the target rows), not by reading the tool's own counts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { authMigrate, type AuthMigrateOptions } from '../../src/core/auth/migrate.js';
import { LEFT_BEHIND_USER_COLUMNS, tableLayout } from '../../src/core/auth/layout.js';
import { withClient } from '../../src/db/connect.js';
import { copyDatabase, copyOptions } from '../../src/core/move/copy.js';
import { UsageError } from '../../src/errors.js';
import { silentProgress } from '../../src/output/progress.js';
import { emptyTargetDatabase, fixtureDatabase, trackDatabases, urlWithDatabase, type TestDatabase } from '../bed/databases.js';
import { PIN, sql } from './move-helpers.js';

const track = trackDatabases();

/** The carried users columns, in an order both sides print alike (GoTrue names; `map` renames for the target). */
const USER_COLUMNS = ['id', 'email', 'phone', 'encrypted_password', 'email_confirmed_at', 'phone_confirmed_at', 'confirmed_at',
  'last_sign_in_at', 'banned_until', 'deleted_at', 'is_anonymous', 'is_sso_user', 'role', 'aud', 'raw_app_meta_data',
  'raw_user_meta_data', 'created_at', 'updated_at'];
const IDENTITY_COLUMNS = ['id', 'provider_id', 'user_id', 'identity_data', 'provider', 'email', 'last_sign_in_at', 'created_at', 'updated_at'];

/** md5 of every row (carried columns, ordered by id), read with pinned output settings. */
async function digest(url: string, table: string, columns: string[], map: Record<string, string> = {}): Promise<{ n: string; md5: string }> {
  const cols = columns.map((c) => `"${map[c] ?? c}"`).join(', ');
  return withClient(url, { role: 'admin' }, async (c) => {
    await c.query(PIN);
    const { rows } = await c.query<{ n: string; md5: string }>(
      `SELECT count(*)::text AS n, md5(string_agg(row(${cols})::text, E'\\n' ORDER BY "${map.id ?? 'id'}")) AS md5 FROM ${table}`);
    return rows[0]!;
  });
}

async function xmins(url: string, table: string): Promise<string[]> {
  return (await sql<{ x: string }>(url, `SELECT id::text || ':' || xmin::text AS x FROM ${table} ORDER BY id`)).map((r) => r.x);
}

describe('auth migrate', () => {
  let source: TestDatabase;
  const role = `auth_owner_${randomBytes(3).toString('hex')}`;
  const password = `Pw-${randomBytes(8).toString('hex')}`;
  const targets: TestDatabase[] = [];

  /** A fresh target with the app copied in (as the superuser), then owned by a non-superuser that auth migrate connects as. */
  async function copiedTarget(): Promise<{ url: string; adminUrl: string }> {
    const target = await emptyTargetDatabase();
    targets.push(target);
    await copyDatabase(copyOptions(source.url, target.adminUrl, { workDir: mkdtempSync(join(tmpdir(), 'offramp-auth-copy-')) }), silentProgress);
    await sql(target.adminUrl, `ALTER DATABASE ${target.name} OWNER TO ${role}; ALTER SCHEMA public OWNER TO pg_database_owner`);
    const u = new URL(urlWithDatabase(inject('targetAdminUrl'), target.name));
    u.username = role;
    u.password = password;
    return { url: u.toString(), adminUrl: target.adminUrl };
  }

  const options = (target: string, extra: Partial<AuthMigrateOptions> = {}): AuthMigrateOptions => ({
    source: source.url, target, layout: { kind: 'keep' }, includeSessions: false, includeMfa: false,
    workDir: mkdtempSync(join(tmpdir(), 'offramp-auth-')), yes: false, connectTimeoutSeconds: 10, ...extra,
  });

  beforeAll(async () => {
    source = await track(fixtureDatabase());
    await sql(inject('targetAdminUrl'), `CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${password}'`);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(targets.map((t) => t.drop()));
    await sql(inject('targetAdminUrl'), `DROP ROLE IF EXISTS ${role}`);
  });

  it('keep layout: every user and identity arrives equal; a second run changes nothing; a new sign-up and a changed user arrive; a user deleted on the source goes only with --yes', async () => {
    const target = await copiedTarget();
    const [who] = await sql<{ rolsuper: boolean }>(target.url, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`);
    expect(who!.rolsuper).toBe(false);

    // The fixture holds the states that matter, so equal digests prove they were carried.
    const [states] = await sql<Record<string, string>>(source.adminUrl, `SELECT count(*) FILTER (WHERE banned_until IS NOT NULL)::text AS banned,
      count(*) FILTER (WHERE deleted_at IS NOT NULL)::text AS deleted, count(*) FILTER (WHERE is_anonymous)::text AS anonymous,
      count(*) FILTER (WHERE confirmed_at IS NULL)::text AS unconfirmed, count(*) FILTER (WHERE phone IS NOT NULL)::text AS phones,
      count(*) FILTER (WHERE encrypted_password LIKE '$2%')::text AS bcrypt FROM auth.users`);
    for (const n of Object.values(states!)) expect(Number(n)).toBeGreaterThan(0);

    const first = await authMigrate(options(target.url), silentProgress);
    const users = await digest(source.adminUrl, 'auth.users', USER_COLUMNS);
    const identities = await digest(source.adminUrl, 'auth.identities', IDENTITY_COLUMNS);
    expect(Number(users.n)).toBeGreaterThan(10);
    expect(await digest(target.adminUrl, 'auth.users', USER_COLUMNS)).toEqual(users);
    expect(await digest(target.adminUrl, 'auth.identities', IDENTITY_COLUMNS)).toEqual(identities);
    expect(first.users.inserted).toBe(Number(users.n));
    expect(first.leftBehindColumns).toEqual(LEFT_BEHIND_USER_COLUMNS);
    // GoTrue's constraints that matter are there
    const [constraints] = await sql<{ list: string[] }>(target.adminUrl, `SELECT array_agg(conname::text ORDER BY conname) AS list FROM pg_constraint
      WHERE conrelid IN ('auth.users'::regclass, 'auth.identities'::regclass)`);
    expect(constraints!.list).toEqual(expect.arrayContaining(['users_pkey', 'identities_pkey', 'identities_provider_id_provider_unique', 'identities_user_id_fkey']));
    const [fk] = await sql<{ action: string }>(target.adminUrl, `SELECT confdeltype::text AS action FROM pg_constraint WHERE conname = 'identities_user_id_fkey'`);
    expect(fk!.action).toBe('c');

    // Second run: a no-op, down to the row versions.
    const before = await xmins(target.adminUrl, 'auth.users');
    const identitiesBefore = await xmins(target.adminUrl, 'auth.identities');
    const second = await authMigrate(options(target.url), silentProgress);
    expect(second.users).toMatchObject({ inserted: 0, updated: 0, unchanged: Number(users.n) });
    expect(second.identities).toMatchObject({ inserted: 0, updated: 0, removed: 0 });
    expect(second.migrationsApplied).toEqual([]);
    expect(await xmins(target.adminUrl, 'auth.users')).toEqual(before);
    expect(await xmins(target.adminUrl, 'auth.identities')).toEqual(identitiesBefore);

    // A sign-up and a profile change on the source (as GoTrue would, as the source's admin).
    const newId = '11111111-2222-4333-8444-555555555555';
    await sql(source.adminUrl, `
      INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_sso_user, is_anonymous)
      VALUES ('00000000-0000-0000-0000-000000000000', '${newId}', 'authenticated', 'authenticated', 'late.signup@example.com',
              '$2a$10$abcdefghijklmnopqrstuuVvS8y0i7eK1m4JH8p2cXQy0Zp3h6d2e', '{"provider":"email","providers":["email"]}', '{}', now(), now(), false, false);
      INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
      VALUES ('${newId}', '${newId}', '{"sub":"${newId}","email":"late.signup@example.com"}', 'email', now(), now());
      UPDATE auth.users SET raw_user_meta_data = raw_user_meta_data || '{"display_name":"changed"}', banned_until = now() + interval '1 day'
       WHERE id = (SELECT id FROM auth.users WHERE NOT is_anonymous AND id <> '${newId}' ORDER BY id LIMIT 1);`);
    const third = await authMigrate(options(target.url), silentProgress);
    expect(third.users).toMatchObject({ inserted: 1, updated: 1 });
    expect(third.identities).toMatchObject({ inserted: 1, updated: 0 });
    expect(await digest(target.adminUrl, 'auth.users', USER_COLUMNS)).toEqual(await digest(source.adminUrl, 'auth.users', USER_COLUMNS));
    expect(await digest(target.adminUrl, 'auth.identities', IDENTITY_COLUMNS)).toEqual(await digest(source.adminUrl, 'auth.identities', IDENTITY_COLUMNS));

    // Deleted on the source: reported and kept without --yes, deleted with it.
    await sql(source.adminUrl, `DELETE FROM auth.users WHERE id = '${newId}'`);
    const kept = await authMigrate(options(target.url), silentProgress);
    expect(kept.users).toMatchObject({ onlyOnTarget: 1, onlyOnTargetIds: [newId], deleted: 0 });
    expect(await sql(target.adminUrl, `SELECT 1 FROM auth.users WHERE id = '${newId}'`)).toHaveLength(1);
    const removed = await authMigrate(options(target.url, { yes: true }), silentProgress);
    expect(removed.users).toMatchObject({ onlyOnTarget: 1, deleted: 1 });
    expect(await sql(target.adminUrl, `SELECT 1 FROM auth.users WHERE id = '${newId}'`)).toHaveLength(0);
    expect(await digest(target.adminUrl, 'auth.users', USER_COLUMNS)).toEqual(await digest(source.adminUrl, 'auth.users', USER_COLUMNS));
  }, 300_000);

  it('table layout (public.users, a renamed column): the same rows under the user\'s names; sessions and MFA factors with the flags', async () => {
    const target = await copiedTarget();
    const layout = tableLayout({ schema: 'public', name: 'users' }, { schema: 'public', name: 'identities' }, ['raw_user_meta_data=user_metadata']);
    const map = { raw_user_meta_data: 'user_metadata' };
    const first = await authMigrate(options(target.url, { layout, includeSessions: true, includeMfa: true }), silentProgress);
    expect(first.usersTable).toBe('public.users');
    expect(await digest(target.adminUrl, 'public.users', USER_COLUMNS, map)).toEqual(await digest(source.adminUrl, 'auth.users', USER_COLUMNS));
    expect(await digest(target.adminUrl, 'public.identities', IDENTITY_COLUMNS)).toEqual(await digest(source.adminUrl, 'auth.identities', IDENTITY_COLUMNS));
    // no `auth` schema was made for this layout (copy left the platform's behind too)
    expect(await sql(target.adminUrl, `SELECT 1 FROM pg_namespace WHERE nspname = 'auth'`)).toHaveLength(0);

    const sessionCols = ['id', 'user_id', 'created_at', 'updated_at', 'factor_id', 'aal', 'not_after', 'refreshed_at', 'user_agent', 'ip', 'tag'];
    const tokenCols = ['id', 'token', 'user_id', 'revoked', 'created_at', 'updated_at', 'parent', 'session_id'];
    const factorCols = ['id', 'user_id', 'friendly_name', 'factor_type', 'status', 'created_at', 'updated_at', 'secret', 'phone', 'last_challenged_at'];
    const sessions = await digest(source.adminUrl, 'auth.sessions', sessionCols.map((c) => (c === 'aal' ? 'aal' : c)));
    expect(Number(sessions.n)).toBeGreaterThan(0);
    expect(await digest(target.adminUrl, 'public.users_sessions', sessionCols)).toEqual(sessions);
    expect(await digest(target.adminUrl, 'public.users_refresh_tokens', tokenCols)).toEqual(await digest(source.adminUrl, 'auth.refresh_tokens', tokenCols));
    expect(await digest(target.adminUrl, 'public.users_mfa_factors', factorCols)).toEqual(await digest(source.adminUrl, 'auth.mfa_factors', factorCols));
    expect(first.mfa.source).toBeGreaterThan(0);
    expect(Object.values(first.mfa.kinds).reduce((a, b) => a + b, 0)).toBe(first.mfa.source);

    const before = await xmins(target.adminUrl, 'public.users');
    const second = await authMigrate(options(target.url, { layout, includeSessions: true, includeMfa: true }), silentProgress);
    expect(second.users).toMatchObject({ inserted: 0, updated: 0 });
    expect(second.sessions.counts).toMatchObject({ inserted: 0, updated: 0, removed: 0 });
    expect(await xmins(target.adminUrl, 'public.users')).toEqual(before);
  }, 300_000);

  it('refuses a foreign-shaped users table before writing anything', async () => {
    const target = await copiedTarget();
    await sql(target.adminUrl, `CREATE TABLE public.users (id integer PRIMARY KEY, name text NOT NULL); INSERT INTO public.users VALUES (1, 'someone else')`);
    const state = async () => sql(target.adminUrl, `SELECT n.nspname || '.' || c.relname AS rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1`);
    const before = await state();
    const layout = tableLayout({ schema: 'public', name: 'users' }, { schema: 'public', name: 'identities' }, []);
    const error = await authMigrate(options(target.url, { layout }), silentProgress).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain('public.users');
    expect((error as UsageError).exitCode).toBe(2);
    expect(await state()).toEqual(before);
    expect(await sql(target.adminUrl, `SELECT * FROM public.users`)).toEqual([{ id: 1, name: 'someone else' }]);
    expect(await sql(target.adminUrl, `SELECT 1 FROM pg_namespace WHERE nspname = 'offramp'`)).toHaveLength(0);
  }, 300_000);
});
