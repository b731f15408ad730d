/**
 * A throwaway "scratch" server holding a backup file, shaped as the platform is, so that every
 * stage that reads a live Supabase database (copy, inspect, doctor, auth, RLS) can read a file
 * through it: `withScratchSource(backup, …, (scratch) => copyDatabase(scratch.url → target))`.
 *
 * The server is the `supabase` flavour of startCluster (bootstrap superuser supabase_admin,
 * stand-ins for platform-only extensions), as the demo and the test bed use. What it starts with
 * depends on what the file lacks:
 *  - dashboard (pg_dumpall): nothing: the file makes its roles and databases itself;
 *  - plain pg_dump: the platform's roles (a pg_dump has no roles; its objects name them);
 *  - supabase db dump trio: the whole platform layer (roles, auth, storage…), as the new project
 *    the platform's docs restore the trio into (the schema file leaves those schemas out).
 * The server is always stopped and its directory removed: on success, on failure, and on ^C or
 * kill (startCluster's exit hook stops it synchronously when the process is ending).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withClient } from '../../db/connect.js';
import { startCluster, type LocalCluster } from '../../db/local-cluster.js';
import { query } from '../../db/sql.js';
import { FIXTURE_LAYERS, loadFixture } from '../../fixture/load.js';
import { inStep, type Progress } from '../../output/progress.js';
import { registerSecret } from '../../secrets.js';
import { PACKAGE_ROOT } from '../../version.js';
import { refuseNewerServer, type DetectedBackup } from './detect.js';
import { loadBackupFiles, type LoadReport } from './load.js';

export interface ScratchSource {
  /** The project database as the non-superuser `postgres`, as a user connects on the platform. */
  url: string;
  /** The same database as the scratch server's superuser (supabase_admin). */
  adminUrl: string;
  database: string;
  /** The scratch server's data directory (removed with the server). */
  dataDir: string;
  load: LoadReport;
}

export interface ScratchOptions {
  progress: Progress;
  /** Directory under which the scratch server's data directory is made (default: the OS temp dir). */
  workDir?: string;
}

/** The project database of a hosted Supabase project. */
const PROJECT_DATABASE = 'postgres';

async function prepare(cluster: LocalCluster, backup: DetectedBackup): Promise<void> {
  if (backup.kind === 'supabase-cli') {
    await loadFixture(cluster.urlFor(PROJECT_DATABASE), { platformOnly: true });
  } else if (backup.kind === 'pg-dump-plain') {
    const roles = readFileSync(join(PACKAGE_ROOT, FIXTURE_LAYERS.platform, '010-roles.sql'), 'utf8');
    await withClient(cluster.urlFor(PROJECT_DATABASE), { role: 'admin' }, (c) => c.query(roles));
  }
}

/** Counts the auth and storage stages will read: users and stored objects (when the file has them). */
async function platformCounts(adminUrl: string): Promise<Pick<LoadReport, 'authUsers' | 'storageObjects'>> {
  return withClient(adminUrl, { role: 'admin' }, async (c) => {
    const [row] = await query<{ users: string | null; objects: string | null }>(c, `
      SELECT CASE WHEN to_regclass('auth.users') IS NOT NULL THEN (xpath('/row/n/text()', query_to_xml('SELECT count(*) AS n FROM auth.users', false, true, '')))[1]::text END AS users,
             CASE WHEN to_regclass('storage.objects') IS NOT NULL THEN (xpath('/row/n/text()', query_to_xml('SELECT count(*) AS n FROM storage.objects', false, true, '')))[1]::text END AS objects`);
    return {
      ...(row?.users != null ? { authUsers: Number(row.users) } : {}),
      ...(row?.objects != null ? { storageObjects: Number(row.objects) } : {}),
    };
  });
}

/** Populate what the files left unpopulated (see LoadReport.refreshedViews); one that fails is deferred with the reason. */
async function refreshUnpopulatedViews(adminUrl: string, load: LoadReport): Promise<void> {
  await withClient(adminUrl, { role: 'admin' }, async (c) => {
    // Dependency order is not known here: views over views are retried until no more succeed.
    let pending = (await query<{ name: string }>(c, `SELECT format('%I.%I', schemaname, matviewname) AS name FROM pg_matviews WHERE NOT ispopulated ORDER BY 1`)).map((r) => r.name);
    const reasons = new Map<string, string>();
    for (let progress = true; pending.length > 0 && progress;) {
      progress = false;
      for (const name of [...pending]) {
        try {
          await c.query(`REFRESH MATERIALIZED VIEW ${name}`);
          load.refreshedViews.push(name);
          pending = pending.filter((p) => p !== name);
          progress = true;
        } catch (error) {
          reasons.set(name, (error as Error).message);
        }
      }
    }
    for (const name of pending) load.deferred.push({ file: '(after loading)', line: 0, kind: 'RefreshMatViewStmt', object: name, reason: reasons.get(name) ?? 'not refreshed' });
  });
}

/** postgres gets a fresh password (the file's are never applied) and can log in, as on the platform. */
async function userUrl(cluster: LocalCluster, database: string): Promise<string> {
  const password = randomBytes(16).toString('hex');
  registerSecret(password);
  await withClient(cluster.urlFor(database), { role: 'admin' }, async (c) => {
    await c.query(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'postgres') THEN CREATE ROLE postgres NOSUPERUSER CREATEDB CREATEROLE BYPASSRLS; END IF; END $$`);
    await c.query(`ALTER ROLE postgres WITH LOGIN PASSWORD '${password}'`);
  });
  const u = new URL(cluster.urlFor(database));
  u.username = 'postgres';
  u.password = password;
  return u.toString();
}

export async function withScratchSource<T>(backup: DetectedBackup, options: ScratchOptions, fn: (scratch: ScratchSource) => Promise<T>): Promise<T> {
  if (backup.kind === 'offramp-dump') throw new Error('an offramp dump is restored directly, not through a scratch server');
  // Before any server starts: a newer server's file may hold syntax the local one rejects.
  refuseNewerServer(backup);
  const { progress } = options;
  const cluster = await inStep(progress, 'start a scratch server shaped as the platform', () =>
    startCluster({ flavour: 'supabase', ...(options.workDir ? { baseDir: options.workDir } : {}) }));
  try {
    await prepare(cluster, backup);
    const load = await loadBackupFiles({ urlFor: (d) => cluster.urlFor(d), database: PROJECT_DATABASE }, backup.files, progress);
    const adminUrl = cluster.urlFor(PROJECT_DATABASE);
    await refreshUnpopulatedViews(adminUrl, load);
    Object.assign(load, await platformCounts(adminUrl));
    const url = await userUrl(cluster, PROJECT_DATABASE);
    return await fn({ url, adminUrl, database: PROJECT_DATABASE, dataDir: cluster.dataDir, load });
  } finally {
    await cluster.stop();
  }
}
