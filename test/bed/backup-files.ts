/**
 * Backup files made from the fixture with the real tools, the way Supabase users get them:
 *  - dashboard: `pg_dumpall` of a cluster holding the fixture, gzip-compressed (db_cluster-*.backup);
 *  - plain: `pg_dump` of the fixture database (plain format);
 *  - trio: what `supabase db dump` writes (roles / schema / data), with the flags the CLI passes and
 *    its post-processing where it changes what a restore sees (../shared/reference/peer-tools.md §1):
 *    reserved roles commented out, `--` lines and `\restrict` dropped from the schema, the data file
 *    wrapped in `SET session_replication_role = replica` … `RESET ALL`, COPY rows (--use-copy).
 *
 * The fixture lives on its own platform-shaped server (bootstrap superuser supabase_admin, fixture
 * in the `postgres` database as on a hosted project), because pg_dumpall takes every database of a
 * cluster and the shared test-bed source holds every test's databases. Tests validate restores
 * against `fixtureUrl` (the very database the files were made from).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { withClient } from '../../src/db/connect.js';
import { startCluster, type LocalCluster } from '../../src/db/local-cluster.js';
import { loadFixture } from '../../src/fixture/load.js';
import { registerSecret } from '../../src/secrets.js';

/** `supabase db dump` schema exclusions (peer-tools.md §1). */
export const CLI_EXCLUDED_SCHEMAS = [
  'information_schema', 'pg_*', '_analytics', '_realtime', '_supavisor', 'auth', 'etl', 'extensions', 'pgbouncer', 'realtime',
  'storage', 'supabase_functions', 'supabase_migrations', 'cron', 'dbdev', 'graphql', 'graphql_public', 'net', 'pgmq', 'pgsodium',
  'pgsodium_masks', 'pgtle', 'repack', 'tiger', 'tiger_data', 'timescaledb_*', '_timescaledb_*', 'topology', 'vault',
];
/** The data dump keeps these schemas' data on purpose ("for migrating to new project"). */
const CLI_DATA_KEPT = ['auth', 'storage', 'supabase_functions', 'cron', 'net', 'pgmq', 'dbdev'];
const CLI_DATA_EXCLUDED_TABLES = ['auth.schema_migrations', 'storage.migrations', 'supabase_functions.migrations'];
/** Roles whose CREATE/ALTER the CLI comments out (supautils blocks them on the platform). */
const RESERVED_ROLE = /^(anon|authenticated|authenticator|cli_login_.*|dashboard_user|pgbouncer|postgres|service_role|supabase_.*|pgsodium_key.*|pgtle_admin)$/;

export interface BackupFiles {
  dir: string;
  /** The fixture database the files were made from (superuser URL): validate against it. */
  fixtureUrl: string;
  /** The same database as the non-superuser postgres (what a user's tools connect as). */
  fixtureUserUrl: string;
  dashboard: string;
  plain: string;
  trio: { roles: string; schema: string; data: string };
  cleanup(): Promise<void>;
}

function withUser(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

async function tool(cluster: LocalCluster, user: string, password: string, file: string, args: string[]): Promise<string> {
  const r = await execa(file, ['-h', '127.0.0.1', '-p', String(cluster.port), '-U', user, ...args], {
    env: { PGPASSWORD: password }, reject: false, maxBuffer: 1 << 30,
  });
  if (r.exitCode !== 0) throw new Error(`${file} failed (exit ${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}

/** The CLI's role-file rewrite: a role statement or GRANT naming a reserved role becomes a comment. */
function commentOutReserved(roles: string): string {
  return roles.split('\n').map((line) => {
    const named = /^(?:CREATE|ALTER) ROLE "([^"]+)"/.exec(line)?.[1] ?? /^GRANT .* TO "([^"]+)"/.exec(line)?.[1];
    return named && RESERVED_ROLE.test(named) ? `-- ${line}` : line;
  }).join('\n');
}

/** Start a platform-shaped server with the fixture and make every kind of backup file of it. */
export async function makeBackupFiles(): Promise<BackupFiles> {
  const cluster = await startCluster({ flavour: 'supabase' });
  const dir = mkdtempSync(join(tmpdir(), 'offramp-backups-'));
  try {
    await loadFixture(cluster.url, { scale: 1 });
    const userPassword = randomBytes(12).toString('hex');
    registerSecret(userPassword);
    await withClient(cluster.url, { role: 'admin' }, (c) => c.query(`ALTER ROLE postgres PASSWORD '${userPassword}'`));
    const admin = cluster.superuser;

    const dashboard = join(dir, 'db_cluster-01-12-2026@03-00-00.backup');
    writeFileSync(dashboard, gzipSync(await tool(cluster, admin, cluster.password, 'pg_dumpall', ['--quote-all-identifiers'])));

    const plain = join(dir, 'plain.sql');
    writeFileSync(plain, await tool(cluster, admin, cluster.password, 'pg_dump', ['-d', 'postgres', '--quote-all-identifiers']));

    const roles = join(dir, 'roles.sql');
    writeFileSync(roles, commentOutReserved(await tool(cluster, 'postgres', userPassword, 'pg_dumpall', [
      '-l', 'postgres', '--roles-only', '--role', 'postgres', '--quote-all-identifiers', '--no-role-passwords', '--no-comments',
    ])));
    const schema = join(dir, 'schema.sql');
    const schemaSql = await tool(cluster, 'postgres', userPassword, 'pg_dump', [
      '-d', 'postgres', '--schema-only', '--quote-all-identifiers', '--role', 'postgres', ...CLI_EXCLUDED_SCHEMAS.flatMap((s) => ['--exclude-schema', s]),
    ]);
    // The CLI deletes `--` lines and comments out \restrict / \unrestrict (older psql rejects them).
    writeFileSync(schema, schemaSql.split('\n').filter((l) => !l.startsWith('--')).map((l) => (/^\\(un)?restrict /.test(l) ? `-- ${l}` : l)).join('\n'));
    const data = join(dir, 'data.sql');
    const dataSql = await tool(cluster, 'postgres', userPassword, 'pg_dump', [
      '-d', 'postgres', '--data-only', '--quote-all-identifiers', '--role', 'postgres', '--schema', '*',
      ...CLI_EXCLUDED_SCHEMAS.filter((s) => !CLI_DATA_KEPT.includes(s)).flatMap((s) => ['--exclude-schema', s]),
      ...CLI_DATA_EXCLUDED_TABLES.flatMap((t) => ['--exclude-table', t]),
    ]);
    writeFileSync(data, `SET session_replication_role = replica;\n\n${dataSql.split('\n').map((l) => (/^\\restrict /.test(l) ? `-- ${l}` : l)).join('\n')}\nRESET ALL;\n`);

    return {
      dir,
      fixtureUrl: cluster.url,
      fixtureUserUrl: withUser(cluster.url, 'postgres', userPassword),
      dashboard,
      plain,
      trio: { roles, schema, data },
      async cleanup() {
        await cluster.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A copy of a file with its pg_dump header claiming another server version (the newer-major test). */
export function withServerVersion(file: string, version: string, out: string): string {
  const text = readFileSync(file, 'utf8').replace(/^-- Dumped from database version .*$/m, `-- Dumped from database version ${version}`);
  writeFileSync(out, text);
  return out;
}
