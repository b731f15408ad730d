/**
 * The auth facts of inspect and doctor, each asserted against what the source really holds
 * (independent SQL as the superuser): hash kinds with bcrypt cost, users per provider, anonymous,
 * banned, deleted, MFA factors by kind, triggers on auth tables; doctor's `target.auth-layout`:
 * pass on an empty target and on a keep-shaped one, fail on a foreign-shaped auth.users and for a
 * role that may not create the schema (with the administrator SQL).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { doctor } from '../../src/core/doctor/index.js';
import { inspect, type InspectReport } from '../../src/core/inspect/index.js';
import { emptyTargetDatabase, fixtureDatabase, trackDatabases, type TestDatabase } from '../bed/databases.js';
import { migrateAuth } from './auth-helpers.js';

const track = trackDatabases();
let source: TestDatabase;
let report: InspectReport;

async function rows<T>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  return withClient(url, { role: 'admin' }, async (c) => (await c.query(sql, values)).rows as T[]);
}

beforeAll(async () => {
  source = await track(fixtureDatabase());
  report = await inspect({ source: source.url });
});

describe('inspect: auth facts', () => {
  it('counts password hashes by kind and bcrypt cost as the source holds them', async () => {
    const expected = await rows<{ kind: string; cost: number | null; n: number }>(source.adminUrl, `
      SELECT CASE WHEN coalesce(encrypted_password, '') = '' THEN 'none' WHEN encrypted_password LIKE '$2a$%' THEN 'bcrypt' ELSE 'other' END AS kind,
             CASE WHEN encrypted_password LIKE '$2a$%' THEN substr(encrypted_password, 5, 2)::int END AS cost, count(*)::int AS n
        FROM auth.users GROUP BY 1, 2 ORDER BY 1, 2`);
    expect(expected.length).toBeGreaterThanOrEqual(2);
    expect(report.auth.hashKinds!.map((k) => ({ kind: k.kind, cost: k.cost, n: k.users }))).toEqual(expected);
    expect(report.auth.hashKinds!.find((k) => k.kind === 'bcrypt')!.variant).toBe('2a');
  });

  it('counts users per provider, anonymous, banned and deleted users', async () => {
    const perProvider = await rows<{ provider: string; n: number }>(source.adminUrl,
      'SELECT provider, count(DISTINCT user_id)::int AS n FROM auth.identities GROUP BY 1 ORDER BY 1');
    expect(report.auth.usersByProvider).toEqual(Object.fromEntries(perProvider.map((r) => [r.provider, r.n])));
    expect(Object.keys(report.auth.usersByProvider)).toEqual(expect.arrayContaining(['email', 'github', 'google']));
    const [s] = await rows<{ anonymous: number; banned: number; deleted: number }>(source.adminUrl, `
      SELECT count(*) FILTER (WHERE is_anonymous)::int AS anonymous, count(*) FILTER (WHERE banned_until > now())::int AS banned,
             count(*) FILTER (WHERE deleted_at IS NOT NULL)::int AS deleted FROM auth.users`);
    expect(s!.banned).toBeGreaterThan(0);
    expect({ anonymous: report.auth.anonymous, banned: report.auth.banned, deleted: report.auth.deleted }).toEqual(s);
  });

  it('counts MFA factors by kind and status, and lists the triggers on auth tables', async () => {
    const mfa = await rows<{ k: string; n: number }>(source.adminUrl,
      "SELECT factor_type || '/' || status AS k, count(*)::int AS n FROM auth.mfa_factors GROUP BY 1 ORDER BY 1");
    expect(mfa.length).toBeGreaterThan(0);
    expect(report.auth.mfaByKind).toEqual(Object.fromEntries(mfa.map((r) => [r.k, r.n])));
    expect(report.auth.mfaFactors).toBe(mfa.reduce((a, r) => a + r.n, 0));
    const triggers = await rows<{ name: string }>(source.adminUrl, `
      SELECT t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'auth' AND NOT t.tgisinternal ORDER BY 1`);
    const reported = [...report.authUserTriggers, ...report.platformTableTriggers.filter((t) => t.table.startsWith('auth.'))].map((t) => t.name).sort();
    expect(reported).toEqual(triggers.map((t) => t.name));
    expect(reported).toContain('on_auth_user_created');
  });
});

describe('doctor: target.auth-layout', () => {
  const layoutCheck = async (targetUrl: string) => {
    const r = await doctor({ source: source.url, target: targetUrl, connectTimeoutSeconds: 10, skipDisk: true });
    return r.checks.find((c) => c.id === 'target.auth-layout')!;
  };
  const roles: string[] = [];
  afterAll(async () => {
    for (const r of roles) await rows(inject('targetAdminUrl'), `DROP ROLE IF EXISTS ${r}`);
  });

  it('passes on an empty target and on one whose auth.users has offramp\'s shape', async () => {
    const empty = await track(emptyTargetDatabase());
    const a = await layoutCheck(empty.url);
    expect(a.status, a.detail).toBe('pass');
    expect(a.detail).toContain('can create schema auth');
    const keep = await track(emptyTargetDatabase());
    await migrateAuth(source.url, keep.adminUrl);
    const b = await layoutCheck(keep.url);
    expect(b.status, b.detail).toBe('pass');
    expect(b.detail).toContain("offramp's shape");
  });

  it('fails on an auth.users of a foreign shape, naming the missing columns', async () => {
    const foreign = await track(emptyTargetDatabase());
    await rows(foreign.adminUrl, 'CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY, mail text)');
    const c = await layoutCheck(foreign.url);
    expect(c.status).toBe('fail');
    expect(c.detail).toContain('encrypted_password');
    // the check only read: the foreign table is as it was
    expect(await rows<{ n: number }>(foreign.adminUrl, "SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'auth.users'::regclass AND attnum > 0")).toEqual([{ n: 2 }]);
  });

  it('fails for a role that may not create the schema, with the administrator SQL', async () => {
    const db = await track(emptyTargetDatabase());
    const role = `offramp_noauth_${randomBytes(3).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    roles.push(role);
    await rows(db.adminUrl, `CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    const url = new URL(db.url);
    url.username = role;
    url.password = password;
    const d = await layoutCheck(url.toString());
    expect(d.status).toBe('fail');
    expect(d.adminSql).toEqual([`CREATE SCHEMA auth AUTHORIZATION "${role}";`]);
    expect(await rows(db.adminUrl, "SELECT 1 FROM pg_namespace WHERE nspname = 'auth'")).toEqual([]);
  });
});
