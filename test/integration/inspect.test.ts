/**
 * inspect() acceptance against the test bed: the Supabase-shaped fixture at scale 1 (72 users,
 * 298 posts), a plain PostgreSQL database on the target server, and the fixture read by a role
 * that is neither superuser nor owner.
 */
import { Chalk } from 'chalk';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { inspect, type InspectReport } from '../../src/core/inspect/index.js';
import { renderInspectMarkdown, renderInspectText } from '../../src/core/inspect/render.js';
import { withClient } from '../../src/db/connect.js';
import { emptyTargetDatabase, fixtureDatabase, type TestDatabase } from '../bed/databases.js';

const plain = new Chalk({ level: 0 });

function ids(report: InspectReport): string[] {
  return report.findings.map((f) => f.id);
}

describe('inspect: the Supabase-shaped fixture', () => {
  let db: TestDatabase;
  let report: InspectReport;

  beforeAll(async () => {
    db = await fixtureDatabase();
    report = await inspect({ source: db.url, platform: 'auto' });
  });

  afterAll(async () => {
    await db?.drop();
  });

  const table = (name: string) => report.tables.find((t) => `${t.schema}.${t.name}` === name);

  it('detects a Supabase project and reads it in one snapshot as postgres, not a superuser (as on the platform)', () => {
    expect(report.platform).toMatchObject({ kind: 'supabase', detected: 'supabase' });
    expect(report.platform.signals).toMatchObject({ hasAuthUsers: true, hasStorageObjects: true, hasRealtimePublication: true, hasExtensionsSchema: true });
    expect(report.server).toMatchObject({ database: db.name, superuser: false });
    expect(report.server.versionNum).toBeGreaterThanOrEqual(150000);
    expect(Date.parse(report.generatedAt)).not.toBeNaN();
    expect(report.unreadable).toEqual([]);
    expect(report.source).not.toContain(decodeURIComponent(new URL(db.url).password));
  });

  it('separates user schemas from managed ones', () => {
    const schema = (name: string) => report.schemas.find((s) => s.name === name);
    expect(schema('public')).toMatchObject({ managed: false });
    expect(schema('public')!.counts.tables).toBeGreaterThanOrEqual(10);
    for (const name of ['auth', 'storage', 'extensions', 'realtime', 'vault']) expect(schema(name), name).toMatchObject({ managed: true });
    expect(schema('auth')!.handledBy).toContain('auth migrate');
  });

  it('lists the app tables with exact rows, size, keys, RLS and policies', () => {
    for (const name of ['public.profiles', 'public.posts', 'public.follows', 'public.beacons', 'public.media', 'public.device_tokens',
      'public.direct_messages', 'public.post_views', 'public.activity_log', 'public.Order']) {
      expect(table(name), name).toBeDefined();
    }
    expect(report.tables.every((t) => t.schema === 'public')).toBe(true);
    expect(table('public.posts')).toMatchObject({ rows: 298, rowsExact: true, hasPrimaryKey: true, rlsEnabled: true, generatedColumns: ['search'], identityColumns: ['id'], inRealtimePublication: true });
    expect(table('public.posts')!.totalBytes).toBeGreaterThan(0);
    expect(table('public.posts')!.policies).toBeGreaterThanOrEqual(5);
    expect(table('public.profiles')).toMatchObject({ rows: 72, fksToAuthUsers: [{ constraint: 'profiles_id_fkey', columns: ['id'], onDelete: 'CASCADE' }] });
    expect(table('public.post_views')).toMatchObject({ hasPrimaryKey: false });
    expect(table('public.activity_log')).toMatchObject({ kind: 'partitioned' });
    const partitions = report.tables.filter((t) => t.partitionOf === 'public.activity_log');
    expect(partitions.length).toBeGreaterThanOrEqual(2);
    expect(table('public.activity_log')!.rows).toBe(partitions.reduce((s, t) => s + (t.rows ?? 0), 0));
    // auth and storage rows are counted, but not as project tables
    expect(report.managedTables.find((t) => t.schema === 'auth' && t.name === 'users')).toMatchObject({ rows: 72, rowsExact: true });
    expect(report.totals.userTables).toBe(report.tables.filter((t) => !t.partitionOf).length);
  });

  it('lists the policies, including those the project put on storage.objects, with what they call', () => {
    expect(report.totals.policies).toBe(report.policies.length);
    const storagePolicies = report.policies.filter((p) => p.schema === 'storage' && p.table === 'objects');
    expect(storagePolicies.length).toBeGreaterThanOrEqual(2);
    expect(storagePolicies.some((p) => p.references.includes('storage.foldername'))).toBe(true);
    expect(report.policies.some((p) => p.schema === 'public' && p.references.includes('auth.uid'))).toBe(true);
    expect(report.policies.some((p) => p.references.includes('auth.jwt'))).toBe(true);
    expect(report.policies.every((p) => Array.isArray(p.roles))).toBe(true);
  });

  it('reports extensions with their schemas', () => {
    const ext = (name: string) => report.extensions.find((e) => e.name === name);
    expect(ext('postgis')).toMatchObject({ schema: 'extensions', platformOnly: false });
    expect(ext('pgcrypto')).toMatchObject({ schema: 'extensions', platformOnly: false });
    expect(ext('postgis')!.dependents).toContainEqual({ kind: 'column', object: 'public.beacons.location' });
    expect(ext('uuid-ossp')!.dependents).toContainEqual({ kind: 'default', object: 'public.beacons.id' });
  });

  // A skipped test on servers without the stand-in, rather than assertions behind an `if`.
  it.runIf(inject('sourceFlavour') === 'supabase')('reports the pgjwt stand-in as platform-only, with a finding', () => {
    expect(report.extensions.find((e) => e.name === 'pgjwt'), 'the supabase flavour has the pgjwt stand-in').toMatchObject({ schema: 'extensions', platformOnly: true });
    expect(report.findings.find((f) => f.id === 'platform-only-extension' && f.object === 'pgjwt')).toBeDefined();
  });

  it('finds the trigger on auth.users and the objects that reference auth.* and storage.*', () => {
    expect(report.authUserTriggers).toContainEqual(expect.objectContaining({
      name: 'on_auth_user_created', table: 'auth.users', function: 'public.handle_new_user()', timing: 'AFTER',
      events: ['INSERT'], securityDefiner: true, functionOwner: 'postgres',
    }));
    const kinds = new Set(report.references.map((r) => r.kind));
    for (const kind of ['policy', 'constraint', 'trigger', 'function'] as const) expect(kinds, kind).toContain(kind);
    expect(report.references.find((r) => r.kind === 'function' && r.name === 'is_moderator()')!.references).toContain('auth.uid');
  });

  it('summarises auth: 72 users, identities by provider, MFA, sessions', () => {
    expect(report.auth).toMatchObject({ present: true, readable: true, users: 72 });
    const pw = report.auth.passwords!;
    expect(pw.bcrypt + pw.empty + pw.other).toBe(72);
    expect(pw.bcrypt).toBeGreaterThan(60);
    expect(report.auth.identities).toBe(Object.values(report.auth.identitiesByProvider).reduce((a, b) => a + b, 0));
    expect(report.auth.identitiesByProvider.email).toBeGreaterThan(0);
    expect(report.auth.mfaFactors).not.toBeNull();
    expect(report.auth.sessions).not.toBeNull();
  });

  it('summarises storage: buckets with objects and bytes', () => {
    expect(report.storage).toMatchObject({ present: true, readable: true });
    expect(report.storage.buckets.map((b) => b.id)).toEqual(expect.arrayContaining(['avatars', 'media']));
    expect(report.storage.buckets.find((b) => b.id === 'avatars')!.public).toBe(true);
    expect(report.storage.objects).toBe(report.storage.buckets.reduce((s, b) => s + b.objects, 0));
    expect(report.storage.bytes).toBeGreaterThan(0);
  });

  it('reads the realtime publication and the platform event triggers', () => {
    expect(report.publications.find((p) => p.name === 'supabase_realtime')!.tables).toContain('public.posts');
    expect(report.eventTriggers.filter((e) => e.platform).map((e) => e.name)).toContain('pgrst_ddl_watch');
  });

  it('raises the findings the migration needs, each with a hint', () => {
    const found = ids(report);
    for (const id of ['table-without-primary-key', 'trigger-on-auth-users', 'policy-calls-missing-function', 'fk-to-auth-users',
      'storage-objects-present', 'realtime-publication', 'event-triggers']) {
      expect(found, id).toContain(id);
    }
    // A platform-only extension is found exactly when the source has one installed.
    expect(found.includes('platform-only-extension')).toBe(report.extensions.some((e) => e.platformOnly));
    expect(report.findings.find((f) => f.id === 'table-without-primary-key')!.object).toBe('public.post_views');
    expect(report.findings.find((f) => f.id === 'trigger-on-auth-users')!.message).toContain('public.handle_new_user()');
    for (const f of report.findings) expect(f.hint.length, f.id).toBeGreaterThan(20);
    const t = report.totals.findings;
    expect(t.error + t.warning + t.info).toBe(report.findings.length);
  });

  it('renders as text and as a Markdown plan, and survives JSON', () => {
    const text = renderInspectText(report, plain);
    expect(text).toContain('public.post_views');
    expect(text).toContain('on_auth_user_created → public.handle_new_user()');
    const md = renderInspectMarkdown(report);
    expect(md).toContain('## Next steps');
    expect(md).toContain('`public.post_views`');
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
});

describe('inspect: a plain PostgreSQL database', () => {
  let db: TestDatabase;
  let report: InspectReport;

  beforeAll(async () => {
    db = await emptyTargetDatabase();
    await withClient(db.url, { role: 'admin' }, (c) => c.query(
      `CREATE TABLE public.events (at timestamptz NOT NULL, payload jsonb); INSERT INTO public.events SELECT now(), '{}' FROM generate_series(1, 7);`,
    ));
    report = await inspect({ source: db.url });
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('is detected as postgres, with no auth or storage and no crash', () => {
    expect(report.platform).toMatchObject({ kind: 'postgres', detected: 'postgres' });
    expect(report.auth).toMatchObject({ present: false, users: null });
    expect(report.storage).toMatchObject({ present: false, buckets: [] });
    expect(report.references).toEqual([]);
    expect(report.schemas.find((s) => s.name === 'public')).toMatchObject({ managed: false });
  });

  it('lists the table and flags its missing primary key', () => {
    expect(report.tables).toEqual([expect.objectContaining({ schema: 'public', name: 'events', rows: 7, rowsExact: true, hasPrimaryKey: false })]);
    expect(ids(report)).toContain('table-without-primary-key');
    expect(ids(report).filter((id) => /auth|storage|realtime|vault/.test(id))).toEqual([]);
  });

  it('renders without auth and storage sections', () => {
    const text = renderInspectText(report, plain);
    expect(text).toContain('(postgres)');
    expect(text).not.toContain('\nAuth\n');
    expect(renderInspectMarkdown(report)).not.toContain('## Auth');
  });
});

describe('inspect: the fixture read by a non-superuser', () => {
  let db: TestDatabase;
  let role: string;
  let report: InspectReport;

  beforeAll(async () => {
    db = await fixtureDatabase();
    role = `inspector_${Math.random().toString(36).slice(2, 8)}`;
    await withClient(db.adminUrl, { role: 'admin' }, (c) => c.query(
      `CREATE ROLE ${role} LOGIN PASSWORD 'Insp-${role}-pw' NOSUPERUSER NOBYPASSRLS;
       GRANT CONNECT ON DATABASE ${db.name} TO ${role};
       GRANT USAGE ON SCHEMA public TO ${role};`,
    ));
    const u = new URL(db.url);
    u.username = role;
    u.password = `Insp-${role}-pw`;
    report = await inspect({ source: u.toString() });
  });

  afterAll(async () => {
    if (db && role) await withClient(db.adminUrl, { role: 'admin' }, (c) => c.query(`DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`));
    await db?.drop();
  });

  it('still produces a report from the catalogs', () => {
    expect(report.server).toMatchObject({ currentUser: role, superuser: false });
    expect(report.platform.kind).toBe('supabase');
    expect(report.tables.find((t) => t.name === 'posts')).toMatchObject({ readable: false, rowsExact: false });
    expect(report.tables.length).toBeGreaterThanOrEqual(10);
    expect(report.policies.length).toBeGreaterThan(0);
    expect(report.extensions.find((e) => e.name === 'postgis')).toMatchObject({ schema: 'extensions' });
    expect(report.authUserTriggers.map((t) => t.name)).toContain('on_auth_user_created');
  });

  it('says what it could not read instead of failing', () => {
    expect(report.auth).toMatchObject({ present: true, readable: false, users: null });
    expect(report.storage).toMatchObject({ present: true, readable: false });
    expect(report.unreadable.some((u) => u.startsWith('auth.users:'))).toBe(true);
    const notReadable = report.findings.find((f) => f.id === 'not-readable');
    expect(notReadable).toMatchObject({ severity: 'info' });
    expect(notReadable!.message).toContain('auth.users');
    expect(ids(report)).toContain('table-without-primary-key');
    expect(() => renderInspectText(report, plain)).not.toThrow();
    expect(renderInspectMarkdown(report)).toContain('not readable');
  });
});
