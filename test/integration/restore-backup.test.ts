/**
 * Issue 9: `restore --from FILE` for the backups Supabase users already have. Each kind of file is
 * made from the fixture with the real tools (test/bed/backup-files.ts), restored into a fresh
 * target through a scratch server, and the target is validated against the very database the file
 * was made from: ok, with the same expected differences as a live copy of that database, and the
 * same rows (count + md5, computed by the servers). Damaged files are refused with the line, the
 * target untouched and the scratch server gone; a newer server's file is refused before anything
 * starts; a SIGTERM'd restore leaves no scratch server behind.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectBackup } from '../../src/core/backup/detect.js';
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
    // Nothing names the scratch server: it is gone once the restore returns.
    expect(result.copy.source).toContain(kind);
    expect(result.copy.deferredFile ?? '').not.toMatch(/127\.0\.0\.1|offramp-pg-/);
    if (kind === 'dashboard') {
      // pg_dumpall carries role passwords: counted, never applied or shown.
      expect(result.load.roles.passwordsFound).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(result)).not.toMatch(/SCRAM-SHA-256\$|md5[0-9a-f]{32}/);
    }
  }, 300_000);
});
