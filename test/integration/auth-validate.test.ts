/**
 * validate with the auth mapping: source auth.users / auth.identities ↔ the target's keep-layout
 * tables compared like table pairs (counts and content hashes over the kept columns), detected on
 * the target or given with --auth-layout; a changed e-mail of one migrated user is found (exit 3);
 * a foreign key into auth.users that auth migrate brings home is no longer an expected difference.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../../src/core/validate/index.js';
import { emptyTargetDatabase, fixtureDatabase, trackDatabases, type TestDatabase } from '../bed/databases.js';
import { runCli } from '../e2e/run-cli.js';
import { tableLayout } from '../../src/core/auth/layout.js';
import { bringHomeForeignKeys, migrateAuth, fixtureUsers } from './auth-helpers.js';
import { copyForValidation, mutate, sqlRows } from './validate-helpers.js';

const track = trackDatabases();
let source: TestDatabase;
let fks: string[];

async function migratedTarget(): Promise<TestDatabase> {
  const target = await track(emptyTargetDatabase());
  await copyForValidation(source.url, target.adminUrl);
  await migrateAuth(source.url, target.adminUrl);
  fks = await bringHomeForeignKeys(source.adminUrl, target.adminUrl);
  return target;
}

beforeAll(async () => {
  source = await track(fixtureDatabase());
});

describe('validate with the auth mapping', () => {
  let target: TestDatabase;
  beforeAll(async () => {
    target = await migratedTarget();
  });

  it('compares auth.users and auth.identities with the local tables: exit 0 after the migration', async () => {
    const run = await runCli(['validate', '--source', source.url, '--target', target.url, '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout).result;
    expect(r.auth).toMatchObject({ how: 'detected', layout: { kind: 'keep' } });
    const [n] = await sqlRows<{ users: number; identities: number }>(source.adminUrl,
      'SELECT (SELECT count(*) FROM auth.users)::int AS users, (SELECT count(*) FROM auth.identities)::int AS identities');
    const users = r.tables.find((t: any) => t.table === 'auth.users');
    const identities = r.tables.find((t: any) => t.table === 'auth.identities');
    expect(users).toMatchObject({ status: 'ok', key: ['id'], rows: { source: n!.users, target: n!.users } });
    expect(identities).toMatchObject({ status: 'ok', rows: { source: n!.identities, target: n!.identities } });
    expect(users.hash).toMatchObject({ equal: true });
    expect(users.columns).toEqual(expect.arrayContaining(['id', 'email', 'encrypted_password', 'banned_until', 'deleted_at', 'raw_app_meta_data', 'raw_user_meta_data']));
    // the kept columns are compared, including the password hash and the ban/deletion state
    const pair = r.auth.pairs.find((p: any) => p.source === 'auth.users');
    expect(pair.columns).toBeGreaterThanOrEqual(18);
    expect(fks.length).toBeGreaterThan(0);
  });

  it('exit 3 when one migrated user\'s e-mail is changed on the target, naming the user', async () => {
    const other = await migratedTarget();
    const user = (await fixtureUsers(source.adminUrl)).get(5)!;
    await mutate(other.adminUrl, "UPDATE auth.users SET email = 'someone.else@example.com' WHERE id = $1", [user.id]);
    const run = await runCli(['validate', '--source', source.url, '--target', other.url, '--auth-layout', 'keep', '--json']);
    expect(run.exitCode, run.stderr).toBe(3);
    const r = JSON.parse(run.stdout).result;
    expect(r.auth).toMatchObject({ how: 'given' });
    const users = r.tables.find((t: any) => t.table === 'auth.users');
    expect(users.status).not.toBe('ok');
    expect(JSON.stringify(users.differences)).toContain(user.id);
    expect(JSON.stringify(users.differences)).toContain('email');
    expect(r.tables.filter((t: any) => t.status !== 'ok').map((t: any) => t.table)).toEqual(['auth.users']);
  });

  it('a foreign key into auth.users missing on the target fails instead of being expected', async () => {
    const other = await migratedTarget();
    const [tbl, name] = [fks[0]!.slice(0, fks[0]!.lastIndexOf('.')), fks[0]!.slice(fks[0]!.lastIndexOf('.') + 1)];
    await mutate(other.adminUrl, `ALTER TABLE ${tbl} DROP CONSTRAINT ${name}`);
    const r = await validate({ source: source.url, target: other.url, mode: 'counts' });
    const d = r.schema!.differences.find((x) => x.object === fks[0]);
    expect(d).toMatchObject({ change: 'missing_on_target', severity: 'fail' });
    expect(d!.reason).toContain('auth migrate');
    expect(r.summary.ok).toBe(false);
    // without the mapping (no users on the target) the same absence is what copy intends
    const off = await validate({ source: source.url, target: other.url, mode: 'counts', authLayout: 'off' });
    expect(off.schema!.differences.find((x) => x.object === fks[0])).toMatchObject({ severity: 'expected' });
  });

  it('--auth-layout table: auth.users ↔ public.users over the mapped columns, exit 0; a changed e-mail there, exit 3', async () => {
    const t = await track(emptyTargetDatabase());
    await copyForValidation(source.url, t.adminUrl);
    const layout = tableLayout({ schema: 'public', name: 'users' }, { schema: 'public', name: 'identities' }, ['email=email_address']);
    await migrateAuth(source.url, t.adminUrl, layout);
    const args = ['validate', '--source', source.url, '--target', t.url, '--json', '--skip-schema',
      '--auth-layout', 'table', '--users-table', 'public.users', '--identities-table', 'public.identities', '--map-column', 'email=email_address'];
    const ok = await runCli(args);
    expect(ok.exitCode, ok.stderr).toBe(0);
    const r = JSON.parse(ok.stdout).result;
    const [n] = await sqlRows<{ users: number }>(t.adminUrl, 'SELECT count(*)::int AS users FROM public.users');
    expect(r.tables.find((x: any) => x.table === 'auth.users')).toMatchObject({ targetTable: 'public.users', status: 'ok', rows: { source: n!.users, target: n!.users } });
    expect(r.tables.find((x: any) => x.table === 'auth.identities')).toMatchObject({ targetTable: 'public.identities', status: 'ok' });
    const user = (await fixtureUsers(source.adminUrl)).get(6)!;
    await mutate(t.adminUrl, "UPDATE public.users SET email_address = 'changed@example.com' WHERE id = $1", [user.id]);
    const bad = await runCli(args);
    expect(bad.exitCode, bad.stderr).toBe(3);
    expect(JSON.stringify(JSON.parse(bad.stdout).result.tables.find((x: any) => x.table === 'auth.users').differences)).toContain(user.id);
  });
});
