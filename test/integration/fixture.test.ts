/**
 * The Supabase-shaped fixture (fixtures/platform + fixtures/app) against real servers: the
 * platform roles, the auth and storage tables as hosted projects have them (column order,
 * generated columns), the auth helpers' exact semantics, the storage path helpers, the
 * extensions in schema "extensions", the sample app's RLS actually filtering rows, the seed
 * counts at scale 1 and 2, determinism, and the loader refusing a non-empty database.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { findSystemInstallation } from '../../src/db/local-cluster.js';
import { loadFixture } from '../../src/fixture/load.js';
import { emptySourceDatabase, emptyTargetDatabase, fixtureDatabase, type TestDatabase } from '../bed/databases.js';

/** auth.users as hosted dumps show it (supabase-facts.md §4.2), in column order. */
const AUTH_USERS_COLUMNS: Array<[string, string]> = [
  ['instance_id', 'uuid'], ['id', 'uuid'], ['aud', 'character varying(255)'], ['role', 'character varying(255)'],
  ['email', 'character varying(255)'], ['encrypted_password', 'character varying(255)'],
  ['email_confirmed_at', 'timestamp with time zone'], ['invited_at', 'timestamp with time zone'],
  ['confirmation_token', 'character varying(255)'], ['confirmation_sent_at', 'timestamp with time zone'],
  ['recovery_token', 'character varying(255)'], ['recovery_sent_at', 'timestamp with time zone'],
  ['email_change_token_new', 'character varying(255)'], ['email_change', 'character varying(255)'],
  ['email_change_sent_at', 'timestamp with time zone'], ['last_sign_in_at', 'timestamp with time zone'],
  ['raw_app_meta_data', 'jsonb'], ['raw_user_meta_data', 'jsonb'], ['is_super_admin', 'boolean'],
  ['created_at', 'timestamp with time zone'], ['updated_at', 'timestamp with time zone'], ['phone', 'text'],
  ['phone_confirmed_at', 'timestamp with time zone'], ['phone_change', 'text'], ['phone_change_token', 'character varying(255)'],
  ['phone_change_sent_at', 'timestamp with time zone'], ['confirmed_at', 'timestamp with time zone'],
  ['email_change_token_current', 'character varying(255)'], ['email_change_confirm_status', 'smallint'],
  ['banned_until', 'timestamp with time zone'], ['reauthentication_token', 'character varying(255)'],
  ['reauthentication_sent_at', 'timestamp with time zone'], ['is_sso_user', 'boolean'],
  ['deleted_at', 'timestamp with time zone'], ['is_anonymous', 'boolean'],
];

const IDENTITIES_COLUMNS = ['provider_id', 'user_id', 'identity_data', 'provider', 'last_sign_in_at', 'created_at', 'updated_at', 'email', 'id'];
const OBJECTS_COLUMNS = ['id', 'bucket_id', 'name', 'owner', 'created_at', 'updated_at', 'last_accessed_at', 'metadata', 'path_tokens', 'version', 'owner_id', 'user_metadata',
  'archived_at', 'is_delete_marker', 'is_versioned'];

async function rows<T extends pg.QueryResultRow>(c: pg.Client, text: string, values: unknown[] = []): Promise<T[]> {
  return (await c.query<T>(text, values)).rows;
}

async function one<T extends pg.QueryResultRow>(c: pg.Client, text: string, values: unknown[] = []): Promise<T> {
  const [row] = await rows<T>(c, text, values);
  if (!row) throw new Error(`no row from: ${text}`);
  return row;
}

/** Live columns of a table in attnum order, with type and generated flag. */
function columnsOf(c: pg.Client, table: string): Promise<Array<{ name: string; type: string; generated: string; notnull: boolean }>> {
  return rows(c, `SELECT attname AS name, format_type(atttypid, atttypmod) AS type, attgenerated AS generated, attnotnull AS notnull
                    FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, [table]);
}

/**
 * Run `fn` inside a transaction impersonating a PostgREST request (facts sheet §7): SET LOCAL
 * ROLE plus request.jwt.claims, rolled back afterwards.
 */
async function asRequest<T>(c: pg.Client, role: 'anon' | 'authenticated', claims: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
  await c.query('BEGIN');
  try {
    await c.query(`SET LOCAL ROLE ${role}`);
    await c.query(`SELECT set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ role, ...claims })]);
    return await fn();
  } finally {
    await c.query('ROLLBACK');
  }
}

describe('Supabase-shaped fixture at scale 1', () => {
  let db: TestDatabase;
  const q = <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) => withClient(db.url, { role: 'admin' }, (c) => rows<T>(c, text, values));
  /**
   * The fixture gives postgres the platform's search_path ("\$user", public, extensions), under
   * which pg_catalog's deparsers leave out those schemas; this runs a query with names in full.
   */
  const qualified = <T extends pg.QueryResultRow>(text: string) =>
    withClient(db.url, { role: 'admin' }, async (c) => {
      await c.query('SET search_path = pg_catalog');
      return rows<T>(c, text);
    });

  beforeAll(async () => {
    db = await fixtureDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe('platform roles', () => {
    it('API roles cannot log in, service_role bypasses RLS, authenticator is NOINHERIT and a member of all three', async () => {
      const roles = await q<{ rolname: string; rolcanlogin: boolean; rolinherit: boolean; rolbypassrls: boolean; rolsuper: boolean }>(
        `SELECT rolname, rolcanlogin, rolinherit, rolbypassrls, rolsuper FROM pg_roles
          WHERE rolname IN ('anon','authenticated','service_role','authenticator','supabase_admin','supabase_auth_admin','supabase_storage_admin')`,
      );
      const byName = Object.fromEntries(roles.map((r) => [r.rolname, r]));
      expect(Object.keys(byName).sort()).toEqual(['anon', 'authenticated', 'authenticator', 'service_role', 'supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin']);
      for (const api of ['anon', 'authenticated', 'service_role']) expect(byName[api]!.rolcanlogin).toBe(false);
      expect(byName.service_role!.rolbypassrls).toBe(true);
      expect(byName.anon!.rolbypassrls).toBe(false);
      expect(byName.authenticated!.rolbypassrls).toBe(false);
      expect(byName.authenticator).toMatchObject({ rolcanlogin: true, rolinherit: false, rolsuper: false });
      expect(byName.supabase_admin!.rolsuper).toBe(true);
      expect(byName.supabase_auth_admin).toMatchObject({ rolcanlogin: true, rolinherit: false, rolsuper: false });
      expect(byName.supabase_storage_admin).toMatchObject({ rolcanlogin: true, rolinherit: false, rolsuper: false });

      const memberOf = await q<{ role: string }>(
        `SELECT r.rolname AS role FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
          WHERE m.member = 'authenticator'::regrole ORDER BY 1`,
      );
      expect(memberOf.map((m) => m.role)).toEqual(['anon', 'authenticated', 'service_role']);
    });

    it('as on the platform: supabase_admin is the bootstrap superuser, postgres a non-superuser owning the database', async () => {
      const roles = await q<{ rolname: string; rolsuper: boolean; rolcanlogin: boolean; rolcreaterole: boolean; rolcreatedb: boolean; rolreplication: boolean; rolbypassrls: boolean; bootstrap: boolean }>(
        `SELECT rolname, rolsuper, rolcanlogin, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, oid = 10 AS bootstrap
           FROM pg_roles WHERE rolname IN ('postgres', 'supabase_admin') ORDER BY rolname`,
      );
      expect(roles).toEqual([
        { rolname: 'postgres', rolsuper: false, rolcanlogin: true, rolcreaterole: true, rolcreatedb: true, rolreplication: true, rolbypassrls: true, bootstrap: false },
        { rolname: 'supabase_admin', rolsuper: true, rolcanlogin: true, rolcreaterole: true, rolcreatedb: true, rolreplication: true, rolbypassrls: true, bootstrap: true },
      ]);
      const memberOf = await q<{ role: string }>(
        `SELECT r.rolname AS role FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = 'postgres'::regrole ORDER BY 1`,
      );
      expect(memberOf.map((m) => m.role)).toEqual(['anon', 'authenticated', 'pg_monitor', 'pg_read_all_data', 'pg_signal_backend', 'service_role', 'supabase_realtime_admin']);
      // The tests connect as postgres itself, which owns the database (so schema public) and the app.
      const [me] = await q<{ user: string; super: string; db_owner: string; app_owner: string }>(
        `SELECT current_user AS user, current_setting('is_superuser') AS super,
                (SELECT datdba::regrole::text FROM pg_database WHERE datname = current_database()) AS db_owner,
                (SELECT relowner::regrole::text FROM pg_class WHERE oid = 'public.posts'::regclass) AS app_owner`,
      );
      expect(me).toEqual({ user: 'postgres', super: 'off', db_owner: 'postgres', app_owner: 'postgres' });
    });

    it('per-role settings: statement timeouts of the API roles, search_path of the service admins', async () => {
      const settings = await q<{ role: string; setconfig: string[] }>(
        `SELECT r.rolname AS role, s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE s.setdatabase = 0`,
      );
      const of = (role: string) => settings.find((s) => s.role === role)?.setconfig ?? [];
      expect(of('anon')).toContain('statement_timeout=3s');
      expect(of('authenticated')).toContain('statement_timeout=8s');
      expect(of('supabase_auth_admin')).toContain('search_path=auth');
      expect(of('supabase_storage_admin')).toContain('search_path=storage');
    });
  });

  describe('auth schema', () => {
    it('auth.users has the hosted column list in order, with confirmed_at generated', async () => {
      const cols = await withClient(db.url, { role: 'admin' }, (c) => columnsOf(c, 'auth.users'));
      expect(cols.map((c) => [c.name, c.type])).toEqual(AUTH_USERS_COLUMNS);
      expect(cols.find((c) => c.name === 'confirmed_at')!.generated).toBe('s');
      expect(cols.filter((c) => c.generated !== '').map((c) => c.name)).toEqual(['confirmed_at']);
      expect(cols.filter((c) => c.notnull).map((c) => c.name)).toEqual(['id', 'is_sso_user', 'is_anonymous']);
    });

    it('auth.identities.email is generated (lower-cased from identity_data), id is the primary key', async () => {
      const cols = await withClient(db.url, { role: 'admin' }, (c) => columnsOf(c, 'auth.identities'));
      expect(cols.map((c) => c.name)).toEqual(IDENTITIES_COLUMNS);
      expect(cols.find((c) => c.name === 'email')!.generated).toBe('s');
      const [mismatch] = await q<{ n: string }>(`SELECT count(*) AS n FROM auth.identities WHERE email IS DISTINCT FROM lower(identity_data ->> 'email')`);
      expect(Number(mismatch!.n)).toBe(0);
      const [mixed] = await q<{ n: string }>(`SELECT count(*) AS n FROM auth.identities WHERE identity_data ->> 'email' <> email`);
      expect(Number(mixed!.n)).toBeGreaterThan(0); // the GitHub identities carry a mixed-case address
    });

    it('constraint and index names are the hosted ones', async () => {
      const names = (await q<{ name: string }>(
        `SELECT conname AS name FROM pg_constraint WHERE connamespace = 'auth'::regnamespace
         UNION SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid::regclass::text LIKE 'auth.%'`,
      )).map((r) => r.name);
      for (const n of ['users_pkey', 'users_phone_key', 'users_email_change_confirm_status_check', 'auth.users_email_partial_key',
        'auth.confirmation_token_idx', 'identities_provider_id_provider_unique', 'identities_user_id_fkey', 'amr_id_pk',
        'mfa_amr_claims_session_id_authentication_method_pkey', 'refresh_tokens_token_unique', 'auth.one_time_tokens_token_hash_hash_idx']) {
        expect(names).toContain(n);
      }
      const [partial] = await q<{ def: string }>(`SELECT pg_get_indexdef('auth.users_email_partial_key'::regclass) AS def`);
      expect(partial!.def).toMatch(/UNIQUE INDEX users_email_partial_key ON auth\.users USING btree \(email\) WHERE \(is_sso_user = false\)/);
      const [cascade] = await q<{ action: string }>(`SELECT confdeltype AS action FROM pg_constraint WHERE conname = 'identities_user_id_fkey'`);
      expect(cascade!.action).toBe('c');
    });

    it('auth tables belong to supabase_auth_admin, have RLS on and give the API roles nothing', async () => {
      const tables = await q<{ name: string; owner: string; rls: boolean; anon: boolean; authenticated: boolean }>(
        `SELECT c.relname AS name, c.relowner::regrole::text AS owner, c.relrowsecurity AS rls,
                has_table_privilege('anon', c.oid, 'SELECT') AS anon, has_table_privilege('authenticated', c.oid, 'SELECT') AS authenticated
           FROM pg_class c WHERE c.relnamespace = 'auth'::regnamespace AND c.relkind = 'r'`,
      );
      // The 16 classic tables have RLS on; the 2025-26 ones (OAuth server, custom providers, WebAuthn) off.
      const newer = ['custom_oauth_providers', 'oauth_authorizations', 'oauth_client_states', 'oauth_clients', 'oauth_consents', 'webauthn_challenges', 'webauthn_credentials'];
      expect(tables).toHaveLength(16 + newer.length);
      for (const t of tables) expect(t).toMatchObject({ owner: 'supabase_auth_admin', rls: !newer.includes(t.name), anon: false, authenticated: false });
    });

    it('72 users written the way GoTrue writes them, each with a profile made by the on_auth_user_created trigger', async () => {
      const [u] = await q<{ users: string; profiles: string; orphans: string; moderators: string; banned: string; deleted: string; nil: string; empty_tokens: string }>(
        `SELECT (SELECT count(*) FROM auth.users) AS users, (SELECT count(*) FROM public.profiles) AS profiles,
                (SELECT count(*) FROM auth.users a WHERE NOT EXISTS (SELECT 1 FROM public.profiles p WHERE p.id = a.id)) AS orphans,
                (SELECT count(*) FROM auth.users WHERE raw_app_meta_data ->> 'role' = 'moderator') AS moderators,
                (SELECT count(*) FROM auth.users WHERE banned_until > now()) AS banned,
                (SELECT count(*) FROM auth.users WHERE deleted_at IS NOT NULL) AS deleted,
                (SELECT count(*) FROM auth.users WHERE instance_id = '00000000-0000-0000-0000-000000000000' AND aud = 'authenticated' AND role = 'authenticated') AS nil,
                (SELECT count(*) FROM auth.users WHERE email_change_token_current = '' AND reauthentication_token = '' AND phone_change = '') AS empty_tokens`,
      );
      expect(u).toEqual({ users: '72', profiles: '72', orphans: '0', moderators: '3', banned: '1', deleted: '1', nil: '72', empty_tokens: '72' });
      const [email] = await q<{ n: string }>(`SELECT count(*) AS n FROM auth.users WHERE email <> lower(email)`);
      expect(email!.n).toBe('0');
      const [mods] = await q<{ n: string }>(`SELECT count(*) AS n FROM public.profiles WHERE is_moderator`);
      expect(mods!.n).toBe('3');
      const [trigger] = await qualified<{ def: string }>(`SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgname = 'on_auth_user_created'`);
      expect(trigger!.def).toMatch(/AFTER INSERT ON auth\.users FOR EACH ROW EXECUTE FUNCTION public\.handle_new_user\(\)/);
      const [fn] = await q<{ secdef: boolean; config: string[] }>(`SELECT prosecdef AS secdef, proconfig AS config FROM pg_proc WHERE oid = 'public.handle_new_user'::regproc`);
      expect(fn).toEqual({ secdef: true, config: ['search_path=""'] });
    });

    it('passwords are bcrypt (cost 10) hashes that extensions.crypt verifies', async () => {
      const [p] = await q<{ ok: boolean; hash: string }>(
        `SELECT extensions.crypt('fixture-password-1', encrypted_password) = encrypted_password AS ok, encrypted_password AS hash
           FROM auth.users WHERE email = 'ana.nowak1@example.org'`,
      );
      expect(p).toMatchObject({ ok: true, hash: expect.stringMatching(/^\$2a\$10\$.{53}$/) });
    });
  });

  describe('auth helper functions (§4.7 semantics)', () => {
    const sub = '8d0f4d8c-2b1e-4a61-9f2c-3c1a5b9e7d10';

    it('auth.uid() returns the sub of request.jwt.claims inside a request transaction', async () => {
      await withClient(db.url, { role: 'admin' }, async (c) => {
        const r = await asRequest(c, 'authenticated', { sub, email: 'a@b.c' }, () =>
          one<{ uid: string; role: string; email: string; jwt: Record<string, unknown>; who: string }>(
            c, `SELECT auth.uid() AS uid, auth.role() AS role, auth.email() AS email, auth.jwt() AS jwt, current_user AS who`,
          ),
        );
        expect(r).toEqual({ uid: sub, role: 'authenticated', email: 'a@b.c', jwt: { role: 'authenticated', sub, email: 'a@b.c' }, who: 'authenticated' });
      });
    });

    it('all four are NULL when the claims are unset, and when they are \'\' (after the request transaction)', async () => {
      await withClient(db.url, { role: 'admin' }, async (c) => {
        const sql = `SELECT auth.uid() AS uid, auth.role() AS role, auth.email() AS email, auth.jwt() AS jwt,
                            current_setting('request.jwt.claims', true) AS raw`;
        expect(await one(c, sql)).toEqual({ uid: null, role: null, email: null, jwt: null, raw: null });
        await asRequest(c, 'authenticated', { sub }, async () => undefined);
        expect(await one(c, sql)).toEqual({ uid: null, role: null, email: null, jwt: null, raw: '' });
      });
    });

    it('the legacy per-claim GUC wins over request.jwt.claims; a non-uuid sub is a cast error', async () => {
      await withClient(db.url, { role: 'admin' }, async (c) => {
        const legacy = '11111111-2222-4333-8444-555555555555';
        const r = await asRequest(c, 'authenticated', { sub }, async () => {
          await c.query(`SELECT set_config('request.jwt.claim.sub', $1, true), set_config('request.jwt.claim.role', 'service_role', true)`, [legacy]);
          return one<{ uid: string; role: string }>(c, `SELECT auth.uid() AS uid, auth.role() AS role`);
        });
        expect(r).toEqual({ uid: legacy, role: 'service_role' });
        await expect(asRequest(c, 'authenticated', { sub: 'not-a-uuid' }, () => c.query('SELECT auth.uid()'))).rejects.toThrow(/invalid input syntax for type uuid/);
      });
    });

    it('they are STABLE sql functions owned by supabase_auth_admin, not SECURITY DEFINER, marked deprecated', async () => {
      const fns = await q<{ name: string; lang: string; vol: string; secdef: boolean; owner: string; comment: string | null }>(
        `SELECT p.proname AS name, l.lanname AS lang, p.provolatile AS vol, p.prosecdef AS secdef, p.proowner::regrole::text AS owner,
                obj_description(p.oid, 'pg_proc') AS comment
           FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
          WHERE p.pronamespace = 'auth'::regnamespace ORDER BY 1`,
      );
      expect(fns.map((f) => f.name)).toEqual(['email', 'jwt', 'role', 'uid']);
      for (const f of fns) expect(f).toMatchObject({ lang: 'sql', vol: 's', secdef: false, owner: 'supabase_auth_admin' });
      expect(fns.filter((f) => f.name !== 'jwt').every((f) => /^Deprecated/.test(f.comment ?? ''))).toBe(true);
    });
  });

  describe('storage schema', () => {
    it('objects has the hosted columns, path_tokens generated and equal to the split name, the camel-case FK', async () => {
      const cols = await withClient(db.url, { role: 'admin' }, (c) => columnsOf(c, 'storage.objects'));
      expect(cols.map((c) => c.name)).toEqual(OBJECTS_COLUMNS);
      expect(cols.find((c) => c.name === 'path_tokens')!.generated).toBe('s');
      const [tokens] = await q<{ total: string; wrong: string; sample: string[] }>(
        `SELECT count(*) AS total, count(*) FILTER (WHERE path_tokens IS DISTINCT FROM string_to_array(name, '/')) AS wrong,
                (SELECT path_tokens FROM storage.objects WHERE name LIKE '%/2025/01/%' LIMIT 1) AS sample
           FROM storage.objects`,
      );
      expect(Number(tokens!.total)).toBeGreaterThan(100);
      expect(tokens!.wrong).toBe('0');
      expect(tokens!.sample).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/), '2025', '01', 'avatar.final.v2.png']);
      const fk = await q<{ conname: string }>(`SELECT conname FROM pg_constraint WHERE conrelid = 'storage.objects'::regclass AND contype = 'f'`);
      expect(fk.map((f) => f.conname)).toEqual(['objects_bucketId_fkey']);
      const [dropped] = await q<{ n: string }>(`SELECT count(*) AS n FROM pg_attribute WHERE attrelid = 'storage.objects'::regclass AND attisdropped`);
      expect(dropped!.n).toBe('1');
    });

    it('foldername, filename and extension (current semantics)', async () => {
      const [r] = await q(
        `SELECT storage.foldername('a/b/c.png') AS f1, storage.foldername('file.txt') AS f2,
                storage.filename('a/b/c.png') AS n1, storage.filename('file.txt') AS n2,
                storage.extension('a/b/avatar.tar.gz') AS e1, storage.extension('folder/README') AS e2, storage.extension('x/photo.PNG') AS e3`,
      );
      expect(r).toEqual({ f1: ['a', 'b'], f2: [], n1: 'c.png', n2: 'file.txt', e1: 'gz', e2: 'README', e3: 'PNG' });
    });

    it('plain DELETE on storage.objects is refused unless storage.allow_delete_query is set', async () => {
      await withClient(db.url, { role: 'admin' }, async (c) => {
        await expect(c.query(`DELETE FROM storage.objects WHERE bucket_id = 'avatars'`)).rejects.toMatchObject({ code: '42501' });
        await c.query('BEGIN');
        await c.query(`SET LOCAL storage.allow_delete_query = 'true'`);
        const del = await c.query(`DELETE FROM storage.objects WHERE bucket_id = 'avatars'`);
        expect(del.rowCount).toBeGreaterThan(0);
        await c.query('ROLLBACK');
      });
    });

    it('search lists one level of a bucket, folders first (id NULL), then files', async () => {
      const folders = await q<{ name: string; id: string | null }>(`SELECT name, id FROM storage.search('', 'media', 500, 1)`);
      expect(folders.length).toBeGreaterThan(0);
      expect(folders.every((f) => f.id === null)).toBe(true);
      const [owner] = await q<{ owner: string }>(`SELECT owner_id AS owner FROM storage.objects WHERE bucket_id = 'media' ORDER BY name LIMIT 1`);
      const posts = await q<{ name: string }>(`SELECT name FROM storage.search($1, 'media', 100, 3)`, [`${owner!.owner}/posts/`]);
      expect(posts.length).toBeGreaterThan(0);
    });
  });

  describe('extensions and platform objects', () => {
    // On servers without the stand-in this is a skipped test, not assertions behind an `if`.
    it.runIf(inject('sourceFlavour') === 'supabase')('the pgjwt stand-in lives in schema extensions and signs and verifies tokens', async () => {
      const ext = await q<{ schema: string }>(`SELECT extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname = 'pgjwt'`);
      expect(ext).toEqual([{ schema: 'extensions' }]);
      const [jwt] = await q<{ token: string; valid: boolean; payload: Record<string, unknown> }>(
        `SELECT t.token, v.valid, v.payload FROM (SELECT extensions.sign('{"sub":"x","role":"authenticated"}'::json, 'fixture-secret') AS token) AS t
           CROSS JOIN LATERAL extensions.verify(t.token, 'fixture-secret') AS v`,
      );
      expect(jwt).toMatchObject({ valid: true, payload: { sub: 'x', role: 'authenticated' }, token: expect.stringMatching(/^eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\./) });
    });

    it('PostGIS, pgcrypto, uuid-ossp, pg_trgm and pg_stat_statements live in schema extensions', async () => {
      const ext = await q<{ extname: string; schema: string }>(`SELECT extname, extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname <> 'plpgsql'`);
      const map = Object.fromEntries(ext.map((e) => [e.extname, e.schema]));
      for (const name of ['postgis', 'pgcrypto', 'uuid-ossp', 'pg_trgm', 'pg_stat_statements']) expect(map[name]).toBe('extensions');
      const [types] = await qualified<{ geo: string; uuid: string }>(
        `SELECT format_type(atttypid, atttypmod) AS geo, (SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'public.beacons'::regclass AND adnum = 1) AS uuid
           FROM pg_attribute WHERE attrelid = 'public.beacons'::regclass AND attname = 'location'`,
      );
      expect(types).toEqual({ geo: 'extensions.geography(Point,4326)', uuid: 'extensions.uuid_generate_v4()' });
    });

    it('event triggers are in place and later DDL still works on the clone', async () => {
      const evt = await q<{ evtname: string }>(`SELECT evtname FROM pg_event_trigger ORDER BY 1`);
      expect(evt.map((e) => e.evtname)).toEqual(['issue_graphql_placeholder', 'issue_pg_cron_access', 'issue_pg_graphql_access', 'issue_pg_net_access', 'pgrst_ddl_watch', 'pgrst_drop_watch']);
      await q(`CREATE TABLE public.later_ddl (id int PRIMARY KEY); CREATE FUNCTION public.later_fn() RETURNS int LANGUAGE sql AS 'SELECT 1';
               DROP FUNCTION public.later_fn(); DROP TABLE public.later_ddl; CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA extensions`);
    });

    it('default privileges open new public tables to the API roles; the realtime publication carries two app tables', async () => {
      const [p] = await q<{ anon: boolean; auth_users: boolean; vault: boolean }>(
        `SELECT has_table_privilege('anon', 'public.posts', 'INSERT') AS anon, has_table_privilege('anon', 'auth.users', 'SELECT') AS auth_users,
                has_table_privilege('authenticated', 'vault.secrets', 'SELECT') AS vault`,
      );
      expect(p).toEqual({ anon: true, auth_users: false, vault: false });
      const pub = await q<{ t: string }>(`SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = 'supabase_realtime' ORDER BY 1`);
      expect(pub.map((r) => r.t)).toEqual(['public.direct_messages', 'public.posts']);
      const [rt] = await q<{ claims_role: string; generated: string }>(
        `SELECT (SELECT claims_role::text FROM realtime.subscription LIMIT 1) AS claims_role,
                (SELECT attgenerated FROM pg_attribute WHERE attrelid = 'realtime.subscription'::regclass AND attname = 'claims_role') AS generated`,
      );
      expect(rt).toEqual({ claims_role: 'authenticated', generated: 's' });
      const [vault] = await q<{ n: string; plain: string }>(`SELECT count(*) AS n, min(decrypted_secret) AS plain FROM vault.decrypted_secrets`);
      expect(vault).toEqual({ n: '2', plain: 'fixture-not-a-real-push-key' });
    });
  });

  describe('sample app', () => {
    it('298 posts and the hard value types a copy must carry', async () => {
      const [v] = await q(
        `SELECT (SELECT count(*) FROM public.posts)::int AS posts,
                (SELECT count(*) FROM public.posts WHERE score = 'NaN')::int > 0 AS nan,
                (SELECT count(*) FROM public.posts WHERE score = 'Infinity')::int > 0 AS inf,
                (SELECT count(*) FROM public.beacons WHERE expires_at = 'infinity')::int > 0 AS ts_inf,
                (SELECT count(*) FROM public."Order" WHERE "exchangeRate" = 'NaN')::int > 0 AS numeric_nan,
                (SELECT count(*) FROM public.posts WHERE array_position(tags, NULL) IS NOT NULL)::int > 0 AS null_element,
                (SELECT count(*) FROM public.one_time_prekeys WHERE public_key = '\\x')::int > 0 AS empty_bytea,
                (SELECT count(*) FROM public.profiles WHERE bio = '')::int > 0 AND (SELECT count(*) FROM public.profiles WHERE bio IS NULL)::int > 0 AS empty_vs_null,
                (SELECT count(*) - count(DISTINCT (post_id, viewer_id, viewed_at, client_ip, dwell_ms)) FROM public.post_views)::int > 0 AS duplicates,
                (SELECT count(*) FROM public.activity_log_default)::int > 0 AS default_partition,
                (SELECT attgenerated FROM pg_attribute WHERE attrelid = 'public.posts'::regclass AND attname = 'search') AS generated,
                (SELECT attidentity FROM pg_attribute WHERE attrelid = 'public.posts'::regclass AND attname = 'id') AS identity`,
      );
      expect(v).toEqual({
        posts: 298, nan: true, inf: true, ts_inf: true, numeric_nan: true, null_element: true, empty_bytea: true,
        empty_vs_null: true, duplicates: true, default_partition: true, generated: 's', identity: 'a',
      });
      const [nopk] = await q<{ n: string }>(`SELECT count(*) AS n FROM pg_constraint WHERE conrelid = 'public.post_views'::regclass AND contype = 'p'`);
      expect(nopk!.n).toBe('0');
    });

    it('RLS is on for every app table, with the corpus patterns among the policies', async () => {
      const off = await q<{ relname: string }>(
        `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition AND NOT relrowsecurity`,
      );
      expect(off).toEqual([]);
      const policies = await q<{ qual: string | null; with_check: string | null; roles: string[] }>(
        `SELECT qual, with_check, roles::text[] AS roles FROM pg_policies WHERE schemaname IN ('public', 'storage')`,
      );
      const text = policies.map((p) => `${p.qual ?? ''} ${p.with_check ?? ''}`).join('\n');
      expect(text).toMatch(/auth\.uid\(\) = author_id/);
      expect(text).toMatch(/SELECT auth\.uid\(\) AS uid/);
      expect(text).toMatch(/auth\.jwt\(\) -> 'app_metadata'::text\) ->> 'role'::text\) = 'moderator'/);
      expect(text).toMatch(/auth\.role\(\) = 'authenticated'/);
      expect(text).toMatch(/is_moderator\(\)/);
      expect(text).toMatch(/EXISTS \( SELECT 1\s+FROM follows f/);
      expect(text).toMatch(/storage\.foldername\(name\)\)\[1\] = \( SELECT \(auth\.uid\(\)\)::text/);
      expect(text).toMatch(/owner_id = \( SELECT \(auth\.uid\(\)\)::text AS uid\)/);
      expect(policies.some((p) => p.roles.includes('anon'))).toBe(true);
      expect(policies.some((p) => p.roles.length === 1 && p.roles[0] === 'authenticated')).toBe(true);
    });

    it('RLS filters rows: anon sees public posts and avatars; a signed-in author also sees own and followed posts and own media', async () => {
      await withClient(db.url, { role: 'admin' }, async (c) => {
        // A non-moderator with media of their own who may see the most non-public posts.
        const { uid, expected, publicPosts, ownMedia } = await one<{ uid: string; expected: number; publicPosts: number; ownMedia: number }>(
          c,
          `SELECT * FROM (
             SELECT u.id AS uid,
                    (SELECT count(*) FROM public.posts p WHERE p.visibility = 'public' OR p.author_id = u.id
                        OR (p.visibility = 'followers' AND EXISTS (SELECT 1 FROM public.follows f WHERE f.follower_id = u.id AND f.followee_id = p.author_id)))::int AS expected,
                    (SELECT count(*) FROM public.posts WHERE visibility = 'public')::int AS "publicPosts",
                    (SELECT count(*) FROM storage.objects o WHERE o.bucket_id = 'media' AND o.owner_id = u.id::text)::int AS "ownMedia"
               FROM public.profiles u WHERE NOT u.is_moderator) AS candidates
            ORDER BY "ownMedia" > 0 DESC, expected DESC, uid LIMIT 1`,
        );
        const anon = await asRequest(c, 'anon', {}, () =>
          one<{ posts: number; feed: number; objects: number; buckets: string[]; tokens: number }>(
            c, `SELECT (SELECT count(*) FROM public.posts)::int AS posts, (SELECT count(*) FROM public.feed)::int AS feed,
                       (SELECT count(*) FROM storage.objects)::int AS objects,
                       (SELECT array_agg(DISTINCT bucket_id) FROM storage.objects) AS buckets,
                       (SELECT count(*) FROM public.device_tokens)::int AS tokens`,
          ),
        );
        const avatars = await one<{ n: number }>(c, `SELECT count(*)::int AS n FROM storage.objects WHERE bucket_id = 'avatars'`);
        expect(anon).toEqual({ posts: publicPosts, feed: publicPosts, objects: avatars.n, buckets: ['avatars'], tokens: 0 });

        const user = await asRequest(c, 'authenticated', { sub: uid, app_metadata: { provider: 'email' } }, () =>
          one<{ posts: number; foreign_tokens: number; own_media_objects: number; foreign_media_objects: number }>(
            c, `SELECT (SELECT count(*) FROM public.posts)::int AS posts,
                       (SELECT count(*) FROM public.device_tokens WHERE user_id <> auth.uid())::int AS foreign_tokens,
                       (SELECT count(*) FROM storage.objects WHERE bucket_id = 'media' AND owner_id = auth.uid()::text)::int AS own_media_objects,
                       (SELECT count(*) FROM storage.objects WHERE bucket_id = 'media' AND owner_id <> auth.uid()::text)::int AS foreign_media_objects`,
          ),
        );
        expect(expected).toBeGreaterThan(publicPosts);
        expect(user.posts).toBe(expected);
        expect(user.foreign_tokens).toBe(0);
        expect(ownMedia).toBeGreaterThan(0);
        expect(user.own_media_objects).toBe(ownMedia);
        expect(user.foreign_media_objects).toBe(0);

        const moderator = await one<{ uid: string }>(c, `SELECT id AS uid FROM public.profiles WHERE is_moderator ORDER BY id LIMIT 1`);
        const modPosts = await asRequest(c, 'authenticated', { sub: moderator.uid, app_metadata: { role: 'moderator' } }, () =>
          one<{ n: number }>(c, `SELECT count(*)::int AS n FROM public.posts`),
        );
        expect(modPosts.n).toBe(298);

        await expect(
          asRequest(c, 'authenticated', { sub: uid }, () =>
            c.query(`INSERT INTO public.posts (author_id, body) SELECT id, 'impersonation' FROM public.profiles WHERE id <> auth.uid() LIMIT 1`),
          ),
        ).rejects.toThrow(/row-level security/);
      });
    });
  });

  describe('what makes a copy hard (issue 8)', () => {
    it('a materialized view holds data (the posts per author) and has a unique index', async () => {
      const [mv] = await q<{ populated: boolean; rows: string; wrong: string; index: string }>(
        `SELECT (SELECT relispopulated FROM pg_class WHERE oid = 'public.author_stats'::regclass) AS populated,
                (SELECT count(*) FROM public.author_stats) AS rows,
                (SELECT count(*) FROM public.author_stats s FULL JOIN (SELECT author_id, count(*) AS n FROM public.posts GROUP BY 1) p
                    ON p.author_id = s.author_id WHERE s.post_count IS DISTINCT FROM p.n) AS wrong,
                (SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'public.author_stats'::regclass AND indisunique) AS index`,
      );
      expect(mv).toMatchObject({ populated: true, wrong: '0', index: 'author_stats_author_id_idx' });
      expect(Number(mv!.rows)).toBeGreaterThan(5);
    });

    it('a view on auth.users calling auth.uid() carries grants to anon and authenticated, a column grant and a comment', async () => {
      const [v] = await q<{ deps: string[]; anon: boolean; authenticated: boolean; service: boolean; column: boolean; comment: string }>(
        `SELECT ARRAY(SELECT DISTINCT CASE WHEN d.refclassid = 'pg_proc'::regclass THEN d.refobjid::regprocedure::text ELSE d.refobjid::regclass::text END
                        FROM pg_rewrite w JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
                       WHERE w.ev_class = 'public.my_account'::regclass AND (d.refclassid = 'pg_proc'::regclass OR d.refobjid = 'auth.users'::regclass)
                       ORDER BY 1) AS deps,
                has_table_privilege('anon', 'public.my_account', 'SELECT') AS anon,
                has_table_privilege('authenticated', 'public.my_account', 'SELECT') AS authenticated,
                has_table_privilege('service_role', 'public.my_account', 'SELECT') AS service,
                has_column_privilege('authenticated', 'public.my_account', 'username', 'UPDATE') AS column,
                obj_description('public.my_account'::regclass, 'pg_class') AS comment`,
      );
      expect(v).toMatchObject({ anon: true, authenticated: true, service: false, column: true });
      expect(v!.deps).toEqual(expect.arrayContaining(['auth.users', 'auth.uid()']));
      expect(v!.comment).toMatch(/signed-in user/);
    });

    it('a column default and a view call pgjwt\'s extensions.sign() (the test bed\'s source has the stand-in)', async () => {
      const [j] = await qualified<{ default: string; view_calls: string; token: string }>(
        `SELECT (SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'public.api_keys'::regclass
                  AND adnum = (SELECT attnum FROM pg_attribute WHERE attrelid = 'public.api_keys'::regclass AND attname = 'token')) AS default,
                (SELECT string_agg(DISTINCT d.refobjid::regprocedure::text, ',') FROM pg_rewrite w JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
                  WHERE w.ev_class = 'public.anon_token'::regclass AND d.refclassid = 'pg_proc'::regclass
                    AND d.refobjid::regprocedure::text LIKE 'extensions.sign%') AS view_calls,
                (SELECT token FROM public.anon_token) AS token`,
      );
      expect(j!.default).toMatch(/^extensions\.sign\(/);
      expect(j!.view_calls).toBe('extensions.sign(json,text,text)');
      expect(j!.token.split('.')).toHaveLength(3);
    });

    it('pg_dump lists a policy\'s roles in another order than the source catalog holds them', async () => {
      const u = new URL(db.url);
      const { stdout } = await execa(join(findSystemInstallation().bin, 'pg_dump'),
        ['--schema-only', '--table', 'public.api_keys', '--host', u.hostname, '--port', u.port, '--username', decodeURIComponent(u.username), u.pathname.slice(1)],
        { env: { PGPASSWORD: decodeURIComponent(u.password) }, timeout: 60_000 });
      const { parse } = await import('libpg-query');
      const dumped = new Map<string, string[]>();
      // Newer pg_dumps put psql meta-commands (restrict/unrestrict) on lines of their own: not SQL, so not parsed.
      const sql = stdout.split('\n').filter((line) => !line.startsWith('\\')).join('\n');
      for (const { stmt } of (await parse(sql)).stmts ?? []) {
        const p = (stmt as { CreatePolicyStmt?: { policy_name: string; roles: Array<{ RoleSpec: { rolename: string } }> } }).CreatePolicyStmt;
        if (p) dumped.set(p.policy_name, p.roles.map((r) => r.RoleSpec.rolename));
      }
      const catalog = await q<{ name: string; roles: string[] }>(
        `SELECT polname AS name, ARRAY(SELECT r::regrole::text FROM unnest(polroles) WITH ORDINALITY AS u(r, i) ORDER BY i) AS roles
           FROM pg_policy WHERE polrelid = 'public.api_keys'::regclass ORDER BY 1`,
      );
      expect(catalog.map((c) => c.name)).toEqual(['Owners read their keys', 'Owners revoke their keys']);
      for (const c of catalog) expect([...(dumped.get(c.name) ?? [])].sort()).toEqual(['anon', 'authenticated']);
      expect(catalog.some((c) => dumped.get(c.name)?.join() !== c.roles.join())).toBe(true);
    });

    it('the platform\'s default privileges FOR ROLE postgres IN SCHEMA public grant to anon, authenticated and service_role', async () => {
      const acls = await q<{ kind: string; acl: string[] }>(
        `SELECT defaclobjtype AS kind, defaclacl::text[] AS acl FROM pg_default_acl
          WHERE defaclrole = 'postgres'::regrole AND defaclnamespace = 'public'::regnamespace ORDER BY 1`,
      );
      expect(acls.map((a) => a.kind)).toEqual(['S', 'f', 'r']);
      for (const a of acls) {
        for (const role of ['anon', 'authenticated', 'service_role']) expect(a.acl.some((e) => e.startsWith(`${role}=`))).toBe(true);
      }
    });
  });

  it('loading into a database that is not empty is refused', async () => {
    await expect(loadFixture(db.adminUrl, { scale: 1 })).rejects.toThrow(/is not empty/);
  });

  it('loading as a non-superuser is refused before anything is written, with a hint naming supabase_admin', async () => {
    const fresh = await emptySourceDatabase();
    try {
      const asPostgres = new URL(inject('sourceUrl'));
      asPostgres.pathname = `/${fresh.name}`;
      const error = await loadFixture(asPostgres.toString(), { scale: 1 }).then(() => undefined, (e: unknown) => e as { message: string; hint?: string });
      expect(error?.message).toMatch(/role "postgres" is not a superuser/);
      expect(error?.hint).toMatch(/initdb -U supabase_admin/);
      const [left] = await withClient(fresh.adminUrl, { role: 'admin' }, (c) =>
        rows<{ schemas: string }>(c, `SELECT count(*) AS schemas FROM pg_namespace WHERE nspname IN ('auth', 'storage', 'extensions')`));
      expect(Number(left!.schemas)).toBe(0);
    } finally {
      await fresh.drop();
    }
  });

  it('loading into a cluster bootstrapped as postgres is refused: PostgreSQL cannot demote its bootstrap user', async () => {
    const plain = await emptyTargetDatabase(); // the target server is made with initdb -U postgres
    try {
      await expect(loadFixture(plain.adminUrl, { scale: 1 })).rejects.toThrow(/bootstrap superuser is "postgres"/);
      const [left] = await withClient(plain.adminUrl, { role: 'admin' }, (c) =>
        rows<{ n: string }>(c, `SELECT count(*) AS n FROM pg_namespace WHERE nspname IN ('auth', 'storage', 'extensions')`));
      expect(Number(left!.n)).toBe(0);
    } finally {
      await plain.drop();
    }
  });
});

describe('Supabase-shaped fixture at scale 2', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await emptySourceDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('gives 144 users and 596 posts, and its first 72 users are byte-identical to the scale-1 template', async () => {
    const summary = await loadFixture(db.url, { scale: 2 });
    expect(summary.counts).toMatchObject({ 'auth.users': 144, 'public.posts': 596 });
    const digest = (url: string) => withClient(url, { role: 'admin' }, (c) => one<{ users: string; posts: string; n: string }>(
      c, `SELECT md5(string_agg(u::text, '|' ORDER BY u.created_at, u.id)) AS users, count(*) AS n,
                 (SELECT md5(string_agg(p::text, '|' ORDER BY p.id)) FROM (SELECT * FROM public.posts ORDER BY id LIMIT 298) AS p) AS posts
            FROM (SELECT * FROM auth.users ORDER BY created_at, id LIMIT 72) AS u`,
    ));
    const template = await fixtureDatabase();
    try {
      const [two, one1] = await Promise.all([digest(db.url), digest(template.url)]);
      expect(two).toEqual(one1);
    } finally {
      await template.drop();
    }
    await withClient(db.url, { role: 'admin' }, async (c) => {
      const counts = await one(c, `SELECT (SELECT count(*) FROM public.profiles)::int AS profiles, (SELECT count(*) FROM public.follows)::int AS follows,
                                          (SELECT count(*) FROM public.beacons)::int AS beacons, (SELECT count(DISTINCT hash) FROM (SELECT encrypted_password AS hash FROM auth.users WHERE encrypted_password <> '') AS h)::int AS hashes`);
      expect(counts).toEqual({ profiles: 144, follows: 432, beacons: 80, hashes: 70 });
    });
  }, 120_000);
});
