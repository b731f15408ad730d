/**
 * Issue 9: `restore --from FILE` for the backups Supabase users already have. Each kind of file is
 * made from the fixture with the real tools (test/bed/backup-files.ts), restored into a fresh
 * target through a scratch server, and the target is validated against the very database the file
 * was made from: ok, with the same expected differences as a live copy of that database, and the
 * same rows (count + md5, computed by the servers). Damaged files are refused with the line, the
 * target untouched and the scratch server gone; a newer server's file is refused before anything
 * starts; a SIGTERM'd restore leaves no scratch server behind.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { Chalk } from 'chalk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectBackup } from '../../src/core/backup/detect.js';
import { renderRestoreFromText } from '../../src/core/backup/render.js';
import { restoreFrom, type BackupRestoreResult, type RestoreFromOptions } from '../../src/core/backup/restore-backup.js';
import { withScratchSource } from '../../src/core/backup/scratch.js';
import { copyDatabase, copyOptions } from '../../src/core/move/copy.js';
import { validate, type ValidateReport } from '../../src/core/validate/index.js';
import { silentProgress } from '../../src/output/progress.js';
import { makeBackupFiles, withServerVersion, type BackupFiles } from '../bed/backup-files.js';
import { emptyTargetDatabase, trackDatabases } from '../bed/databases.js';
import { runCli } from '../e2e/run-cli.js';
import { cliEnv, waitFor } from './fault-helpers.js';
import { sql, tableStates } from './move-helpers.js';

const BIN = fileURLToPath(new URL('../../bin/offramp.js', import.meta.url));
const track = trackDatabases();
let files: BackupFiles;
let liveExpected: string[];
let fixtureTables: Record<string, { rows: number; hash: string }>;
let fixtureCounts: { users: number; objects: number };

const workDir = (): string => mkdtempSync(join(tmpdir(), 'offramp-restore-backup-'));

function options(from: string[], target: string, extra: Partial<RestoreFromOptions> = {}): RestoreFromOptions {
  return { from, target, jobs: 2, extensionsSchema: 'extensions', ownerMap: {}, workDir: workDir(), yes: false, connectTimeoutSeconds: 10, analyze: true, ...extra };
}

/** The intended differences validate lists, comparable across targets. */
const expectedOf = (r: ValidateReport): string[] =>
  r.schema!.differences.filter((d) => d.severity === 'expected').map((d) => `${d.category} ${d.object}`).sort();

async function userTables(url: string): Promise<number> {
  const [row] = await sql(url, `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%'`);
  return (row as { n: number }).n;
}

/** A directory the scratch server can be made in (the server's OS user must traverse it when we run as root). */
function scratchParent(): string {
  const dir = mkdtempSync(join(tmpdir(), 'offramp-scratch-parent-'));
  chmodSync(dir, 0o755);
  return dir;
}

/** Process ids whose command line names the directory (a postgres server of that data directory). */
async function processesFor(dir: string): Promise<string[]> {
  const ps = await execa('ps', ['-eo', 'pid=,args='], { reject: false });
  return String(ps.stdout).split('\n').filter((l) => l.includes(dir) && !l.includes('ps -eo'));
}

beforeAll(async () => {
  files = await makeBackupFiles();
  // The reference: a live copy of the very database the files were made from, and what validate says of it.
  const live = await track(emptyTargetDatabase());
  await copyDatabase(copyOptions(files.fixtureUserUrl, live.url, { workDir: workDir(), jobs: 2 }), silentProgress);
  const report = await validate({ source: files.fixtureUrl, target: live.url, mode: 'full', jobs: 2 }, silentProgress);
  expect(report.summary.ok).toBe(true);
  liveExpected = expectedOf(report);
  fixtureTables = await tableStates(files.fixtureUrl, ['public']);
  const [c] = await sql(files.fixtureUrl, `SELECT (SELECT count(*)::int FROM auth.users) AS users, (SELECT count(*)::int FROM storage.objects) AS objects`);
  fixtureCounts = c as { users: number; objects: number };
}, 300_000);

afterAll(async () => {
  await files?.cleanup();
});

describe('restore --from a backup file', () => {
  const kinds = [
    { kind: 'dashboard', from: () => [files.dashboard] },
    { kind: 'pg-dump-plain', from: () => [files.plain] },
    // Given in any order, as a user might: detection orders them roles, schema, data.
    { kind: 'supabase-cli', from: () => [files.trio.data, files.trio.schema, files.trio.roles] },
  ] as const;

  it.each(kinds)('$kind: restored into a fresh target, validate ok with the same expected differences as a live copy', async ({ kind, from }) => {
    const target = await track(emptyTargetDatabase());
    const result = (await restoreFrom(options(from(), target.url), silentProgress)) as BackupRestoreResult;
    expect(result.kind).toBe(kind);
    expect(result.ok).toBe(true);

    const report = await validate({ source: files.fixtureUrl, target: target.url, mode: 'full', jobs: 2 }, silentProgress);
    expect(report.summary).toMatchObject({ ok: true, schemaFailures: 0, tablesDiffering: 0 });
    expect(expectedOf(report)).toEqual(liveExpected);
    // Independently of validate: every public table's count and content hash, read by the servers.
    const restored = await tableStates(target.url, ['public']);
    expect(Object.keys(restored).length).toBeGreaterThan(5);
    expect(restored).toEqual(fixtureTables);

    // What was in the file: the auth users and storage objects the later stages read, per schema and extension.
    expect(result.load.authUsers).toBe(fixtureCounts.users);
    expect(result.load.storageObjects).toBe(fixtureCounts.objects);
    expect(result.load.schemas.find((s) => s.name === 'public')).toMatchObject({ tables: expect.any(Number), rows: expect.any(Number) });
    expect(result.load.schemas.find((s) => s.name === 'public')!.rows).toBe(Object.values(fixtureTables).reduce((n, t) => n + t.rows, 0));
    expect(result.load.extensions.map((e) => e.name)).toEqual(expect.arrayContaining(['pgcrypto', 'postgis']));
    expect(result.leftBehind.schemasNotCopied).toEqual(expect.arrayContaining(['storage']));
    expect(result.leftBehind.databasesNotCopied).toEqual([]);
    // Nothing names the scratch server: it is gone once the restore returns.
    expect(result.copy.source).toContain(kind);
    expect(result.copy.deferredFile ?? '').not.toMatch(/127\.0\.0\.1|offramp-pg-/);
    // The trio's schema file creates materialized views WITH NO DATA and its data file never refreshes them.
    if (kind === 'supabase-cli') expect(result.load.refreshedViews).toContain('public.author_stats');
    else expect(result.load.refreshedViews).toEqual([]);
    // The text report says what the file held and what was left behind.
    const text = renderRestoreFromText(result, new Chalk({ level: 0 }));
    expect(text).toContain('in the file:');
    expect(text).toContain(`auth users: ${fixtureCounts.users}`);
    expect(text).toMatch(/copy finished: \d+ tables/);
    if (kind === 'dashboard') {
      // pg_dumpall carries role passwords: counted, never applied or shown.
      expect(result.load.roles.passwordsFound).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(result)).not.toMatch(/SCRAM-SHA-256\$|md5[0-9a-f]{32}/);
    }
  }, 300_000);
});

describe('offramp restore --from FILE (the CLI)', () => {
  it('--output ndjson: load progress in bytes of the file and statements, the result, and no password anywhere', async () => {
    const target = await track(emptyTargetDatabase());
    const r = await runCli(['restore', '--from', files.dashboard, '--target', target.url, '--output', 'ndjson', '--work-dir', workDir()]);
    expect(r.exitCode).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const load = events.filter((e) => e.type === 'progress' && String(e.step).startsWith('load db_cluster-') && e.status === 'update');
    expect(load.length).toBeGreaterThan(0);
    expect(load.at(-1)).toMatchObject({ unit: 'bytes', total: readFileSync(files.dashboard).length, current: readFileSync(files.dashboard).length, message: expect.stringMatching(/\d+ statements applied/) });
    expect(events.at(-1)).toMatchObject({ type: 'result', ok: true, command: 'restore', result: { kind: 'dashboard', load: { roles: { passwordsFound: expect.any(Number) } } } });
    // The fixture's own password and the file's password hashes never come out; nor does the scratch server's URL.
    const out = r.stdout + r.stderr;
    expect(out).not.toContain(new URL(files.fixtureUserUrl).password);
    expect(out).not.toMatch(/SCRAM-SHA-256\$|md5[0-9a-f]{32}/);
    expect(await tableStates(target.url, ['public'])).toEqual(fixtureTables);
  }, 300_000);
});

describe('restore --from a damaged or unusable file', () => {
  /** Restore a damaged file: refused with the file and line, the target untouched, no scratch server left. */
  async function expectRefused(file: string, message: RegExp): Promise<void> {
    const target = await track(emptyTargetDatabase());
    const parent = scratchParent();
    const error = await restoreFrom(options([file], target.url, { scratchDir: parent }), silentProgress).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'ARTIFACT_INVALID', message: expect.stringMatching(message), hint: expect.stringMatching(/nothing was written to the target/) });
    expect((error as { exitCode: number }).exitCode).toBe(1);
    expect(await userTables(target.url)).toBe(0);
    // The scratch server was made under `parent`; stopped and removed, no process left for it.
    expect(readdirSync(parent)).toEqual([]);
    expect(await processesFor(parent)).toEqual([]);
  }

  it('a truncated gzip dashboard backup is refused with the line where it broke', async () => {
    const whole = readFileSync(files.dashboard);
    const cut = join(workDir(), 'db_cluster-truncated.backup');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    // The head still reads: detection takes it for what it claims to be; the load finds the break.
    expect((await detectBackup([cut])).kind).toBe('dashboard');
    await expectRefused(cut, /db_cluster-truncated\.backup: line \d+: cannot read the file: unexpected end of file/);
  }, 120_000);

  it('a file cut inside a COPY block is refused with the line of the block', async () => {
    const lines = readFileSync(files.plain, 'utf8').split('\n');
    const copyAt = lines.findIndex((l) => l.startsWith('COPY "public"."posts"'));
    expect(copyAt).toBeGreaterThan(0);
    const cut = join(workDir(), 'cut-in-copy.sql');
    writeFileSync(cut, `${lines.slice(0, copyAt + 4).join('\n')}\n`);
    await expectRefused(cut, new RegExp(`cut-in-copy\\.sql: line ${copyAt + 4}: the file ends inside the COPY block that starts at line ${copyAt + 1}`));
  }, 120_000);

  it('a file cut in the middle of a statement is refused with the line where the statement starts', async () => {
    const lines = readFileSync(files.plain, 'utf8').split('\n');
    const createAt = lines.findIndex((l) => l.startsWith('CREATE TABLE "public"."posts"'));
    expect(createAt).toBeGreaterThan(0);
    const cut = join(workDir(), 'cut-in-statement.sql');
    writeFileSync(cut, `${lines.slice(0, createAt + 3).join('\n')}\n`);
    await expectRefused(cut, new RegExp(`cut-in-statement\\.sql: line \\d+: the file ends inside a statement that starts at line ${createAt + 1}`));
  }, 120_000);

  it('a file from a newer server than the local binaries is refused before anything starts, with the install hint (exit 5)', async () => {
    const newer = withServerVersion(files.plain, '99.1 (Debian 99.1-1.pgdg120+1)', join(workDir(), 'from-pg99.sql'));
    const target = await track(emptyTargetDatabase());
    const parent = scratchParent();
    const r = await runCli(['restore', '--from', newer, '--target', target.url, '--json'], { env: { TMPDIR: parent } });
    expect(r.exitCode).toBe(5);
    const doc = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; message: string; hint: string } };
    expect(doc).toMatchObject({ ok: false, error: { code: 'PREFLIGHT_FAILED', message: expect.stringMatching(/PostgreSQL 99\.1.*local server binaries are PostgreSQL 1\d/) } });
    expect(doc.error.hint).toMatch(/apt-get install postgresql-99 postgresql-99-postgis-3/);
    // Nothing started: no server directory (not even the flavour's installation) under the temp dir.
    expect(readdirSync(parent)).toEqual([]);
    expect(await userTables(target.url)).toBe(0);
  }, 120_000);

  it('unknown content is a usage error (exit 2) that lists what is accepted', async () => {
    const junk = join(workDir(), 'notes.txt');
    writeFileSync(junk, 'just some notes\n');
    const target = await track(emptyTargetDatabase());
    const r = await runCli(['restore', '--from', junk, '--target', target.url, '--json']);
    expect(r.exitCode).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE', hint: expect.stringMatching(/dashboard backup.*supabase db dump trio.*pg_dump/) } });
    // Text the parser rejects from its first statement on is not a damaged backup either.
    writeFileSync(junk, 'dear team; please find attached; thanks;\n');
    const prose = await runCli(['restore', '--from', junk, '--target', target.url, '--json']);
    expect(prose.exitCode).toBe(2);
    expect(JSON.parse(prose.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE', message: expect.stringMatching(/notes\.txt is not a backup offramp can read/) } });
    // A custom-format archive: told how to make plain SQL of it.
    const archive = join(workDir(), 'nightly.dump');
    writeFileSync(archive, Buffer.concat([Buffer.from('PGDMP'), Buffer.alloc(64, 1)]));
    const custom = await runCli(['restore', '--from', archive, '--target', target.url, '--json']);
    expect(custom.exitCode).toBe(2);
    expect(JSON.parse(custom.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE', hint: expect.stringMatching(/pg_restore -f backup\.sql/) } });
    expect(await userTables(target.url)).toBe(0);
  }, 60_000);
});

describe('an interrupted restore from a backup file', () => {
  it('SIGTERM while copying from the scratch server: exit 143, and the scratch server is stopped and removed', async () => {
    const target = await track(emptyTargetDatabase());
    const parent = scratchParent();
    const marker = join(workDir(), 'paused');
    const child = execa(process.execPath, [BIN, 'restore', '--from', files.plain, '--target', target.url, '--jobs', '2', '--json'], {
      env: cliEnv({ OFFRAMP_FAULT_PAUSE: 'table-done', OFFRAMP_FAULT_MARKER: marker, TMPDIR: parent }), extendEnv: false, reject: false, timeout: 240_000,
    });
    await waitFor('the copy from the scratch server to reach its first finished table', () => existsSync(marker) || child.exitCode !== null);
    expect(existsSync(marker)).toBe(true);
    const scratch = readdirSync(parent).filter((d) => d.startsWith('offramp-pg-') && d !== 'offramp-pg-installs');
    expect(scratch).toHaveLength(1);
    const dataDir = join(parent, scratch[0]!);
    expect((await processesFor(dataDir)).length).toBeGreaterThan(0);

    child.kill('SIGTERM');
    const r = await child;
    expect(r.exitCode).toBe(143);
    expect(JSON.parse(String(r.stdout))).toMatchObject({ ok: false, error: { code: 'INTERRUPTED' } });
    await waitFor('the scratch server to be gone', async () => (await processesFor(dataDir)).length === 0 && !existsSync(dataDir));
    expect(await processesFor(dataDir)).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
    rmSync(parent, { recursive: true, force: true });
  }, 300_000);
});
