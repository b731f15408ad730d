/**
 * Issue 9: `inspect --source FILE` and `doctor --source FILE` through the built CLI, on backup
 * files made from the fixture with the real tools (test/bed/backup-files.ts). doctor judges the
 * file without starting anything (a newer server's file: exit 5 with the Debian install hint);
 * inspect loads the file into a scratch server, reports the same inventory a live inspect gives
 * (checked against the fixture database itself) plus what the file was, and leaves no server behind.
 */
import { chmodSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBackupFiles, withServerVersion, type BackupFiles } from '../bed/backup-files.js';
import { emptyTargetDatabase, trackDatabases } from '../bed/databases.js';
import { sql } from '../integration/move-helpers.js';
import { runCli } from './run-cli.js';

const track = trackDatabases();
let files: BackupFiles;
let newer: string;

/** A TMPDIR of its own for one run: where the scratch server's data directory goes (0755: the server's OS user traverses it when tests run as root). */
function ownTmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'offramp-e9-tmp-'));
  chmodSync(dir, 0o755);
  return dir;
}

/** What is left in a run's TMPDIR besides the cached server installation (links to the system's binaries). */
const leftovers = (dir: string): string[] => readdirSync(dir).filter((f) => f !== 'offramp-pg-installs');

async function processesUnder(dir: string): Promise<string[]> {
  const ps = await execa('ps', ['-eo', 'pid=,args='], { reject: false });
  return String(ps.stdout).split('\n').filter((l) => l.includes(dir) && !l.includes('ps -eo'));
}

/** A connection URL that still carries a password: must never be printed. */
const UNMASKED_URL = /postgres(?:ql)?:\/\/[^\s:@/]+:(?!\*)[^\s@/]+@/;
/** A role password hash as pg_dumpall writes it. */
const PASSWORD_HASH = /SCRAM-SHA-256\$|md5[0-9a-f]{32}/;

beforeAll(async () => {
  files = await makeBackupFiles();
  newer = withServerVersion(files.plain, '19.2', join(files.dir, 'from-a-newer-server.sql'));
}, 300_000);

afterAll(async () => {
  await files?.cleanup();
});

describe('doctor --source FILE', () => {
  it('a file from a newer server than the local binaries: FAIL with the install hint, exit 5, nothing started', async () => {
    const tmp = ownTmp();
    const text = await runCli(['doctor', '--source', newer], { env: { TMPDIR: tmp } });
    expect(text.exitCode).toBe(5);
    expect(text.stderr).toContain('apt-get install postgresql-19 postgresql-19-postgis-3');
    expect(text.stderr).toMatch(/FAIL\s+Local PostgreSQL for the file/);

    const json = await runCli(['doctor', '--source', newer, '--json'], { env: { TMPDIR: tmp } });
    expect(json.exitCode).toBe(5);
    const doc = JSON.parse(json.stdout) as { ok: boolean; result: { backup: { kind: string; neededMajor: number; localMajor: number }; checks: Array<{ id: string; status: string; hint?: string }> } };
    expect(doc.ok).toBe(false);
    expect(doc.result.backup).toMatchObject({ kind: 'pg-dump-plain', neededMajor: 19 });
    expect(doc.result.backup.localMajor).toBeLessThan(19);
    expect(doc.result.checks.find((c) => c.id === 'backup-server-binaries')).toMatchObject({ status: 'fail', hint: expect.stringContaining('postgresql-19-postgis-3') });
    // Nothing heavy: no scratch server, not even the installation a server would need.
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a dashboard backup the local binaries can load: ok, the kind, size and needed major named', async () => {
    const r = await runCli(['doctor', '--source', files.dashboard, '--json']);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; result: { backup: { kind: string; bytes: number; neededMajor: number; localMajor: number; files: Array<{ gzip: boolean }> }; checks: Array<{ id: string; status: string }> } };
    expect(doc.ok).toBe(true);
    expect(doc.result.backup).toMatchObject({ kind: 'dashboard', bytes: statSync(files.dashboard).size });
    expect(doc.result.backup.files[0]!.gzip).toBe(true);
    const [server] = await sql(files.fixtureUrl, `SELECT current_setting('server_version_num')::int / 10000 AS major`);
    expect(doc.result.backup.neededMajor).toBe((server as { major: number }).major);
    expect(doc.result.checks.map((c) => `${c.id}:${c.status}`)).toEqual(['backup-file:pass', 'backup-server-binaries:pass']);
    expect(r.stdout).not.toMatch(PASSWORD_HASH);

    const text = await runCli(['doctor', '--source', files.dashboard]);
    expect(text.exitCode).toBe(0);
    expect(text.stderr).toMatch(/PASS\s+Backup file\s+dashboard backup db_cluster-/);
  });

  it('the supabase db dump trio (three --source): named as such; its files carry no server version, which is a warning, not a failure', async () => {
    const r = await runCli(['doctor', '--source', files.trio.roles, '--source', files.trio.schema, '--source', files.trio.data, '--json']);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as { result: { backup: { kind: string; files: unknown[] }; checks: Array<{ id: string; status: string }> } };
    expect(doc.result.backup.kind).toBe('supabase-cli');
    expect(doc.result.backup.files).toHaveLength(3);
    expect(doc.result.checks[0]).toMatchObject({ id: 'backup-file', status: 'pass' });
    expect(['pass', 'warn']).toContain(doc.result.checks[1]!.status);
  });

  it('with --target: the file\'s checks first, then the target\'s as ever; no source database is connected', async () => {
    const target = await track(emptyTargetDatabase());
    const r = await runCli(['doctor', '--source', files.plain, '--target', target.url, '--skip-disk', '--json']);
    const doc = JSON.parse(r.stdout) as { result: { backup: { kind: string }; target: { reachable: boolean }; source?: unknown; checks: Array<{ id: string; status: string }> } };
    expect(doc.result.backup.kind).toBe('pg-dump-plain');
    expect(doc.result.source).toBeUndefined();
    expect(doc.result.target.reachable).toBe(true);
    const ids = doc.result.checks.map((c) => c.id);
    expect(ids.slice(0, 2)).toEqual(['backup-file', 'backup-server-binaries']);
    expect(ids).toContain('target.connect');
    expect(doc.result.checks.find((c) => c.id === 'target.connect')!.status).toBe('pass');
    expect(doc.result.checks.find((c) => c.id === 'source.connect')?.status ?? 'skip').toBe('skip');
    expect(r.exitCode).toBe(doc.result.checks.some((c) => c.status === 'fail') ? 5 : 0);
    expect(r.stdout).not.toContain(new URL(target.url).password || 'no-password-in-url');
  });

  it('a URL and a file together is a usage error', async () => {
    const r = await runCli(['doctor', '--source', 'postgresql://u@127.0.0.1:1/x', '--source', files.plain]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/either a connection URL or backup files/);
  });
});

describe('inspect --source FILE', () => {
  it('a file from a newer server: refused before any server starts, exit 5 with the install hint', async () => {
    const tmp = ownTmp();
    const r = await runCli(['inspect', '--source', newer, '--json'], { env: { TMPDIR: tmp } });
    expect(r.exitCode).toBe(5);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'PREFLIGHT_FAILED', hint: expect.stringContaining('apt-get install postgresql-19 postgresql-19-postgis-3') } });
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a dashboard backup: the fixture\'s inventory, the file facts, no password, and the scratch server gone', async () => {
    const tmp = ownTmp();
    const r = await runCli(['inspect', '--source', files.dashboard, '--json'], { env: { TMPDIR: tmp } });
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      ok: boolean;
      result: {
        source: string; platform: { kind: string }; tables: Array<{ schema: string; name: string; rows: number | null }>; auth: { users: number | null };
        backup: { kind: string; serverVersion: string; load: { applied: number; roles: { passwordsFound: number }; deferred: unknown[] } };
      };
    };
    expect(doc.ok).toBe(true);
    expect(doc.result.backup.kind).toBe('dashboard');
    expect(doc.result.backup.load.applied).toBeGreaterThan(100);
    expect(doc.result.backup.load.roles.passwordsFound).toBeGreaterThanOrEqual(1);
    expect(doc.result.platform.kind).toBe('supabase');
    // The report names the file, never the scratch server.
    expect(doc.result.source).toContain('db_cluster-');
    expect(doc.result.source).not.toMatch(/127\.0\.0\.1|localhost/);

    // The inventory is the fixture's: the same public tables and auth users, read from the fixture itself.
    const tables = await sql(files.fixtureUrl, `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`);
    expect(doc.result.tables.filter((t) => t.schema === 'public').map((t) => t.name).sort()).toEqual((tables as Array<{ name: string }>).map((t) => t.name));
    const [users] = await sql(files.fixtureUrl, 'SELECT count(*)::int AS n FROM auth.users');
    expect(doc.result.auth.users).toBe((users as { n: number }).n);

    expect(r.stdout + r.stderr).not.toMatch(UNMASKED_URL);
    expect(r.stdout + r.stderr).not.toMatch(PASSWORD_HASH);
    // The scratch server ran under this TMPDIR (its installation is there), was stopped, and its data directory removed.
    expect(readdirSync(tmp)).toContain('offramp-pg-installs');
    expect(leftovers(tmp)).toEqual([]);
    expect(await processesUnder(tmp)).toEqual([]);
  }, 300_000);

  it('the trio in text mode, with --markdown: the file named in both', async () => {
    const tmp = ownTmp();
    const md = join(tmp, 'plan.md');
    const r = await runCli(['inspect', '--source', files.trio.schema, '--source', files.trio.roles, '--source', files.trio.data, '--markdown', md], { env: { TMPDIR: tmp } });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/file: supabase-cli backup — roles\.sql \(roles, .*schema\.sql \(schema, .*data\.sql \(data, /);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(md, 'utf8')).toMatch(/## The backup file\n\n- file: supabase-cli backup/);
    expect(r.stderr).not.toMatch(UNMASKED_URL);
    expect(leftovers(tmp).filter((f) => f !== 'plan.md')).toEqual([]);
    expect(await processesUnder(tmp)).toEqual([]);
  }, 300_000);
});

describe('auth migrate --source FILE', () => {
  it('a dashboard backup: after restore --from, the users come from the same file, equal to the fixture\'s, and the scratch servers are gone', async () => {
    const tmp = ownTmp();
    const target = await track(emptyTargetDatabase());
    const work = mkdtempSync(join(tmpdir(), 'offramp-e9-work-'));
    const restored = await runCli(['restore', '--from', files.dashboard, '--target', target.url, '--work-dir', work, '--json'], { env: { TMPDIR: tmp } });
    expect(restored.exitCode, restored.stderr).toBe(0);
    const migrated = await runCli(['auth', 'migrate', '--source', files.dashboard, '--target', target.url, '--work-dir', work, '--json'], { env: { TMPDIR: tmp } });
    expect(migrated.exitCode, migrated.stderr).toBe(0);
    expect(JSON.parse(migrated.stdout).result.users.inserted).toBeGreaterThan(0);
    // Independent: the same users with the same hashes, digested on each server.
    const digest = `SELECT count(*)::int AS n, md5(string_agg(id::text || coalesce(email, '') || coalesce(encrypted_password, ''), ',' ORDER BY id)) AS h FROM auth.users`;
    expect(await sql(target.adminUrl, digest)).toEqual(await sql(files.fixtureUrl, digest));
    expect(`${migrated.stdout}${migrated.stderr}`).not.toMatch(PASSWORD_HASH);
    expect(`${migrated.stdout}${migrated.stderr}`).not.toMatch(/\$2[ab]\$/);
    expect(await processesUnder(tmp)).toEqual([]);
    expect(leftovers(tmp)).toEqual([]);
  }, 300_000);
});
