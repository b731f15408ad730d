/**
 * `offramp auth migrate` as a person or CI runs it (`npm run build` first): exit 0 and the users on
 * the target (queried there), a second run that changes nothing, exit 2 with a hint and nothing
 * written for a source without `auth`, a foreign-shaped table and bad flags; and no password hash
 * or connection password in anything it prints.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyDatabase, copyOptions } from '../../src/core/move/copy.js';
import { silentProgress } from '../../src/output/progress.js';
import { emptySourceDatabase, emptyTargetDatabase, fixtureDatabase, trackDatabases, type TestDatabase } from '../bed/databases.js';
import { sql } from '../integration/move-helpers.js';
import { runCli, type CliRun } from './run-cli.js';

const track = trackDatabases();
let source: TestDatabase;
let secrets: string[];

/** Every schema and relation of a database: what a refused run must leave as it was. */
async function state(url: string): Promise<string[]> {
  return (await sql<{ x: string }>(url, `SELECT n.nspname || '.' || coalesce(c.relname, '') AS x FROM pg_namespace n
    LEFT JOIN pg_class c ON c.relnamespace = n.oid WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1`)).map((r) => r.x);
}

function expectNoSecrets(...runs: CliRun[]): void {
  for (const run of runs) {
    for (const secret of secrets) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }
  }
}

beforeAll(async () => {
  source = await track(fixtureDatabase());
  const hashes = (await sql<{ h: string }>(source.adminUrl, `SELECT encrypted_password AS h FROM auth.users WHERE encrypted_password <> ''`)).map((r) => r.h);
  expect(hashes.length).toBeGreaterThan(10);
  // the TOTP secrets and refresh tokens --include-sessions/--include-mfa carry are secrets too
  const tokens = (await sql<{ t: string }>(source.adminUrl, `SELECT token AS t FROM auth.refresh_tokens WHERE token <> '' UNION ALL SELECT secret FROM auth.mfa_factors WHERE secret <> ''`)).map((r) => r.t);
  secrets = [...hashes, ...tokens, decodeURIComponent(new URL(source.url).password)].filter((s) => s.length >= 3);
}, 180_000);

describe('offramp auth migrate (built CLI)', () => {
  let target: TestDatabase;
  beforeAll(async () => {
    target = await track(emptyTargetDatabase());
    await copyDatabase(copyOptions(source.url, target.url, { workDir: mkdtempSync(join(tmpdir(), 'offramp-authcli-')) }), silentProgress);
  }, 180_000);

  it('exit 0: the users are on the target; a second run inserts and updates nothing; nothing secret is printed', async () => {
    const first = await runCli(['auth', 'migrate', '--source', source.url, '--target', target.url, '--include-sessions', '--include-mfa', '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    const doc = JSON.parse(first.stdout);
    const [n] = await sql<{ users: number; identities: number }>(source.adminUrl, `SELECT (SELECT count(*) FROM auth.users)::int AS users, (SELECT count(*) FROM auth.identities)::int AS identities`);
    expect(doc).toMatchObject({ ok: true, command: 'auth migrate', result: { users: { inserted: n!.users }, identities: { inserted: n!.identities } } });
    const [onTarget] = await sql<{ users: number; same: number }>(target.url, `SELECT count(*)::int AS users,
      count(*) FILTER (WHERE encrypted_password LIKE '$2%')::int AS same FROM auth.users`);
    expect(onTarget!.users).toBe(n!.users);
    expect(onTarget!.same).toBe(secrets.filter((s) => s.startsWith('$2')).length);

    const second = await runCli(['auth', 'migrate', '--source', source.url, '--target', target.url, '--include-sessions', '--include-mfa', '--json']);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).result.users).toMatchObject({ inserted: 0, updated: 0, unchanged: n!.users });
    const text = await runCli(['auth', 'migrate', '--source', source.url, '--target', target.url, '--verbose']);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stderr).toContain('0 inserted, 0 updated');
    expect(text.stderr).toContain('reauthentication_token');
    expectNoSecrets(first, second, text);
  }, 300_000);

  it('exit 2 for a source without an auth schema, and the target is untouched', async () => {
    const plain = await track(emptySourceDatabase());
    const fresh = await track(emptyTargetDatabase());
    const before = await state(fresh.url);
    const run = await runCli(['auth', 'migrate', '--source', plain.url, '--target', fresh.url]);
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr).toContain('no Supabase Auth tables');
    expect(run.stderr).toMatch(/hint/i);
    expect(await state(fresh.url)).toEqual(before);
    expectNoSecrets(run);
  }, 120_000);

  it('exit 2 for a foreign-shaped users table, nothing written; exit 2 for bad flags', async () => {
    const fresh = await track(emptyTargetDatabase());
    await sql(fresh.url, `CREATE TABLE public.users (id bigint PRIMARY KEY, email text NOT NULL, password text NOT NULL)`);
    const before = await state(fresh.url);
    const run = await runCli(['auth', 'migrate', '--source', source.url, '--target', fresh.url, '--layout', 'table', '--users-table', 'public.users', '--identities-table', 'public.identities', '--json']);
    expect(run.exitCode, run.stderr).toBe(2);
    const doc = JSON.parse(run.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.error.message).toContain('public.users');
    expect(doc.error.hint).toContain('--users-table');
    expect(await state(fresh.url)).toEqual(before);

    const layout = await runCli(['auth', 'migrate', '--source', source.url, '--target', fresh.url, '--layout', 'elsewhere']);
    expect(layout.exitCode).toBe(2);
    const stray = await runCli(['auth', 'migrate', '--source', source.url, '--target', fresh.url, '--users-table', 'public.people']);
    expect(stray.exitCode).toBe(2);
    expect(stray.stderr).toContain('--layout table');
    const badMap = await runCli(['auth', 'migrate', '--source', source.url, '--target', fresh.url, '--layout', 'table', '--map-column', 'no_such_column=x']);
    expect(badMap.exitCode).toBe(2);
    expect(await state(fresh.url)).toEqual(before);
    expectNoSecrets(run, layout, stray, badMap);
  }, 120_000);
});

