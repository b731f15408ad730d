/**
 * inspect() against the fixture's Supabase platform layer plus a small app written here, so each
 * detection has an object made for it: references found only in function bodies, an extension
 * in public, a partitioned table, passwords of three kinds, a policy on storage.objects, counts
 * hidden by RLS from a non-owner, estimates above the exact-count limit, and --platform.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspect, type InspectReport } from '../../src/core/inspect/index.js';
import { withClient } from '../../src/db/connect.js';
import { loadFixture } from '../../src/fixture/load.js';
import { emptySourceDatabase, type TestDatabase } from '../bed/databases.js';

const APP = `
CREATE EXTENSION citext WITH SCHEMA public;
CREATE TABLE public.profiles (
  id uuid PRIMARY KEY REFERENCES auth.users ON DELETE CASCADE,
  username public.citext,
  home extensions.geography(Point, 4326)
);
ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY "own profile" ON public.profiles FOR UPDATE TO authenticated USING ((SELECT auth.uid()) = id);
CREATE POLICY "anyone reads" ON public.profiles FOR SELECT USING (true);
CREATE TABLE public.posts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id uuid NOT NULL DEFAULT auth.uid() REFERENCES public.profiles (id),
  body text,
  body_len int GENERATED ALWAYS AS (length(body)) STORED
);
ALTER TABLE public.posts ENABLE ROW LEVEL SECURITY;
CREATE POLICY "admins read" ON public.posts FOR SELECT TO authenticated USING ((auth.jwt() -> 'app_metadata' ->> 'role') = 'admin');
CREATE POLICY "authors write" ON public.posts FOR INSERT TO authenticated WITH CHECK (auth.uid() = user_id);
CREATE TABLE public.audit_log (at timestamptz DEFAULT now(), what text);
ALTER TABLE public.audit_log ENABLE ROW LEVEL SECURITY;
CREATE TABLE public.events (id bigint, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO public.events SELECT g, date '2024-11-01' + g FROM generate_series(1, 100) g;

CREATE FUNCTION public.handle_new_user() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  INSERT INTO public.profiles (id, username) VALUES (new.id, new.raw_user_meta_data ->> 'username');
  RETURN new;
END $$;
CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users FOR EACH ROW EXECUTE PROCEDURE public.handle_new_user();
CREATE FUNCTION public.is_admin() RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN RETURN coalesce(auth.jwt() -> 'app_metadata' ->> 'role', '') = 'admin'; END $$;
CREATE POLICY "admins update" ON public.profiles FOR UPDATE TO authenticated USING (public.is_admin());
CREATE FUNCTION public.new_token() RETURNS uuid LANGUAGE plpgsql AS $$ BEGIN RETURN extensions.uuid_generate_v4(); END $$;
CREATE VIEW public.user_emails AS SELECT u.id, u.email FROM auth.users u;
CREATE POLICY "own folder" ON storage.objects FOR INSERT TO authenticated
  WITH CHECK (bucket_id = 'avatars' AND (storage.foldername(name))[1] = (SELECT auth.uid()::text));
ALTER PUBLICATION supabase_realtime ADD TABLE public.posts;

INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, raw_user_meta_data, is_anonymous, created_at)
SELECT '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated', 'u' || g || '@example.com',
       CASE WHEN g <= 3 THEN '$2a$10$' || repeat('x', 53) WHEN g = 4 THEN '' ELSE '$argon2id$v=19$m=65536,t=3,p=4$abc$def' END,
       jsonb_build_object('username', 'user' || g), g = 4, now()
  FROM generate_series(1, 5) g;
INSERT INTO auth.identities (provider_id, user_id, identity_data, provider)
SELECT id::text, id, jsonb_build_object('sub', id, 'email', email), CASE WHEN email = 'u1@example.com' THEN 'google' ELSE 'email' END FROM auth.users;
INSERT INTO public.posts (user_id, body) SELECT id, 'post ' || g FROM public.profiles, generate_series(1, 4) g;
INSERT INTO storage.buckets (id, name, public) VALUES ('avatars', 'avatars', true), ('media', 'media', false);
INSERT INTO storage.objects (bucket_id, name, metadata)
SELECT CASE WHEN g <= 2 THEN 'avatars' ELSE 'media' END, 'u/' || g || '.png', jsonb_build_object('size', 1000)
  FROM generate_series(1, 5) g;
SELECT vault.create_secret('s3cr3t-value', 'api_key');
ANALYZE;
`;

describe('inspect: detection on the platform layer plus a hand-written app', () => {
  let db: TestDatabase;
  let report: InspectReport;

  beforeAll(async () => {
    db = await emptySourceDatabase();
    await loadFixture(db.url, { platformOnly: true });
    await withClient(db.url, { role: 'admin' }, (c) => c.query(APP));
    report = await inspect({ source: db.url, platform: 'auto' });
  });

  afterAll(async () => {
    await db?.drop();
  });

  const table = (name: string) => report.tables.find((t) => `${t.schema}.${t.name}` === name);
  const findings = (id: string) => report.findings.filter((f) => f.id === id);

  it('detects Supabase from the catalogs and reads the server as a superuser', () => {
    expect(report.platform).toMatchObject({ kind: 'supabase', detected: 'supabase', requested: 'auto' });
    expect(report.platform.signals.platformRoles).toEqual(expect.arrayContaining(['anon', 'authenticated', 'service_role', 'supabase_admin']));
    expect(report.server.superuser).toBe(true);
    expect(report.unreadable).toEqual([]);
  });

  it('counts rows exactly, rolls partitions up into their parent, and reads keys, RLS and columns', () => {
    expect(table('public.posts')).toMatchObject({ rows: 20, rowsExact: true, hasPrimaryKey: true, rlsEnabled: true, policies: 2, generatedColumns: ['body_len'], identityColumns: ['id'], inRealtimePublication: true });
    expect(table('public.profiles')).toMatchObject({ rows: 5, policies: 3, fksToAuthUsers: [{ constraint: 'profiles_id_fkey', columns: ['id'], onDelete: 'CASCADE' }] });
    expect(table('public.events')).toMatchObject({ kind: 'partitioned', rows: 100, rowsExact: true });
    expect(table('public.events_2024')).toMatchObject({ partitionOf: 'public.events', rows: 60 });
    expect(table('public.audit_log')).toMatchObject({ hasPrimaryKey: false, rlsEnabled: true, policies: 0 });
    expect(report.totals.rows).toBe(20 + 5 + 100);
    expect(report.managedTables.find((t) => t.schema === 'auth' && t.name === 'users')).toMatchObject({ rows: 5, rowsExact: true });
  });

  it('finds references through pg_depend and, for function bodies, through their text', () => {
    const ref = (kind: string, name: string) => report.references.find((r) => r.kind === kind && r.name === name);
    expect(ref('default', 'posts.user_id')).toMatchObject({ references: ['auth.uid'], functions: ['auth.uid'] });
    expect(ref('default', 'posts.user_id')!.via).toContain('depend');
    expect(ref('function', 'is_admin()')).toMatchObject({ references: ['auth.jwt'], via: ['text'] });
    expect(ref('view', 'user_emails')!.references).toEqual(['auth.users']);
    expect(ref('policy', 'own folder')).toMatchObject({ table: 'storage.objects', functions: ['auth.uid', 'storage.foldername'] });
    expect(ref('constraint', 'profiles_id_fkey')!.references).toEqual(['auth.users']);
    // one hop through a project function whose body uses auth.jwt()
    expect(ref('policy', 'admins update')).toMatchObject({ functions: ['auth.jwt'], through: ['public.is_admin()'] });
    expect(ref('trigger', 'on_auth_user_created')).toMatchObject({ table: 'auth.users' });
    const policy = report.policies.find((p) => p.name === 'admins read')!;
    expect(policy).toMatchObject({ table: 'posts', command: 'SELECT', roles: ['authenticated'], references: ['auth.jwt'] });
  });

  it('names what depends on each extension: column types, defaults, function bodies', () => {
    const ext = (name: string) => report.extensions.find((e) => e.name === name)!;
    expect(ext('postgis')).toMatchObject({ schema: 'extensions', platformOnly: false });
    expect(ext('postgis').dependents).toContainEqual({ kind: 'column', object: 'public.profiles.home' });
    expect(ext('citext')).toMatchObject({ schema: 'public' });
    expect(ext('citext').dependents).toContainEqual({ kind: 'column', object: 'public.profiles.username' });
    expect(ext('uuid-ossp').dependents).toContainEqual({ kind: 'function', object: 'public.new_token()' });
    expect(findings('extension-in-public').map((f) => f.object)).toEqual(['citext']);
  });

  it('reads the trigger on auth.users with its function', () => {
    expect(report.authUserTriggers).toEqual([expect.objectContaining({
      name: 'on_auth_user_created', function: 'public.handle_new_user()', timing: 'AFTER', events: ['INSERT'],
      level: 'ROW', securityDefiner: true, searchPath: '""',
    })]);
    // the platform's own storage triggers are not the project's
    expect(report.platformTableTriggers).toEqual([]);
  });

  it('summarises auth users by password kind, identities by provider, storage by bucket, vault', () => {
    expect(report.auth).toMatchObject({ present: true, readable: true, users: 5, passwords: { bcrypt: 3, empty: 1, other: 1 }, anonymous: 1, identities: 5, identitiesByProvider: { email: 4, google: 1 } });
    expect(report.storage).toMatchObject({ readable: true, objects: 5, bytes: 5000 });
    expect(report.storage.buckets).toEqual([
      { id: 'avatars', name: 'avatars', public: true, objects: 2, bytes: 2000 },
      { id: 'media', name: 'media', public: false, objects: 3, bytes: 3000 },
    ]);
    expect(report.vault).toEqual({ present: true, readable: true, secrets: 1 });
  });

  it('raises the findings with the objects they are about', () => {
    expect(findings('table-without-primary-key').map((f) => f.object)).toEqual(['public.audit_log']);
    expect(findings('policy-calls-missing-function').map((f) => f.object).sort()).toEqual(['public.posts', 'public.profiles', 'storage.objects']);
    expect(findings('security-definer-without-search-path').map((f) => f.object)).toEqual(['public.is_admin()']);
    expect(findings('auth-non-bcrypt-passwords')[0]!.message).toMatch(/^1 user has/);
    expect(findings('realtime-publication')[0]!.message).toContain('public.posts');
    expect(findings('vault-secrets-present')).toHaveLength(1);
    expect(findings('storage-objects-present')[0]!.message).toMatch(/^5 files/);
    expect(findings('event-triggers')[0]!.message).toContain('pgrst_ddl_watch');
    for (const id of ['trigger-on-auth-users', 'fk-to-auth-users', 'default-references-auth', 'function-references-platform', 'view-references-platform', 'rls-enabled-without-policies', 'partitioned-table']) {
      expect(findings(id).length, id).toBeGreaterThan(0);
    }
  });

  it('never puts a secret into the report', () => {
    const json = JSON.stringify(report);
    expect(json).not.toContain('s3cr3t-value');
    expect(json).not.toContain(decodeURIComponent(new URL(db.url).password));
  });

  it('keeps the planner estimate above the exact-count limit', async () => {
    const r = await inspect({ source: db.url, exactCountLimit: 10 });
    expect(r.tables.find((t) => t.name === 'posts')).toMatchObject({ rows: 20, rowsExact: false });
    expect(r.tables.find((t) => t.name === 'profiles')).toMatchObject({ rows: 5, rowsExact: true });
    expect(r.totals.rowsExact).toBe(false);
  });

  it('honours --platform postgres: no auth or storage section, and says it overrode the detection', async () => {
    const r = await inspect({ source: db.url, platform: 'postgres' });
    expect(r.platform).toMatchObject({ kind: 'postgres', detected: 'supabase' });
    expect(r.auth.present).toBe(false);
    expect(r.tables.some((t) => t.schema === 'auth')).toBe(true); // on plain PostgreSQL auth is just a schema
    expect(r.findings.map((f) => f.id)).toContain('platform-override');
    expect(r.findings.map((f) => f.id)).not.toContain('trigger-on-auth-users');
  });

  it('as a role that RLS filters, keeps estimates instead of filtered counts and says why', async () => {
    const role = `insp_${Math.random().toString(36).slice(2, 8)}`;
    await withClient(db.url, { role: 'admin' }, (c) => c.query(
      `CREATE ROLE ${role} LOGIN PASSWORD 'Pw-${role}'; GRANT CONNECT ON DATABASE ${db.name} TO ${role};
       GRANT USAGE ON SCHEMA public TO ${role}; GRANT SELECT ON public.posts, public.audit_log TO ${role};`,
    ));
    try {
      const u = new URL(db.url);
      u.username = role;
      u.password = `Pw-${role}`;
      const r = await inspect({ source: u.toString() });
      expect(r.server).toMatchObject({ currentUser: role, superuser: false });
      // RLS would show this role no rows: the count must not claim 0 exactly
      expect(r.tables.find((t) => t.name === 'posts')).toMatchObject({ rowsExact: false, rows: 20 });
      expect(r.unreadable.find((u2) => u2.startsWith('public.posts:'))).toMatch(/row-level security/);
      expect(r.auth).toMatchObject({ present: true, readable: false, users: null });
      expect(r.findings.map((f) => f.id)).toContain('not-readable');
      // the catalog-based parts are complete
      expect(r.policies.length).toBe(report.policies.length);
      expect(r.authUserTriggers.map((t) => t.name)).toEqual(['on_auth_user_created']);
    } finally {
      await withClient(db.url, { role: 'admin' }, (c) => c.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`));
    }
  });
});
