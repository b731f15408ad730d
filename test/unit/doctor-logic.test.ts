/**
 * The pure decisions inside doctor's checks: which pg_dump wins, how extensions are classified,
 * how many connections a copy may open.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionBudget } from '../../src/core/doctor/checks/connections.js';
import { compareVersions, extensionPackageHint, planExtensions, type AvailableExtension, type InstalledExtension } from '../../src/core/doctor/checks/extensions.js';
import type { ServerFacts } from '../../src/core/doctor/context.js';
import { compareTools, findClientTools, parseToolVersion, type ClientTool } from '../../src/db/pg-tools.js';

describe('client tools', () => {
  it('parses the version lines pg_dump prints', () => {
    expect(parseToolVersion('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n')).toEqual({ version: '15.18', major: 15, minor: 18 });
    expect(parseToolVersion('pg_restore (PostgreSQL) 17.2\n')).toEqual({ version: '17.2', major: 17, minor: 2 });
    expect(parseToolVersion('pg_dump (PostgreSQL) 9.6.24\n')).toEqual({ version: '9.6.24', major: 9, minor: 24 });
    expect(parseToolVersion('pg_dump (PostgreSQL) 18beta1\n')).toMatchObject({ major: 18 });
    expect(parseToolVersion('command not found')).toBeUndefined();
  });

  it('orders newest first and prefers a versioned directory over a wrapper on a tie', () => {
    const t = (path: string, major: number, minor: number): ClientTool => ({ name: 'pg_dump', path, version: `${major}.${minor}`, major, minor });
    const list = [t('/usr/bin/pg_dump', 15, 18), t('/usr/lib/postgresql/14/bin/pg_dump', 14, 9), t('/usr/lib/postgresql/15/bin/pg_dump', 15, 18), t('/opt/pg/bin/pg_dump', 15, 2)];
    expect(list.sort(compareTools).map((x) => x.path)).toEqual([
      '/usr/lib/postgresql/15/bin/pg_dump', '/usr/bin/pg_dump', '/opt/pg/bin/pg_dump', '/usr/lib/postgresql/14/bin/pg_dump',
    ]);
  });

  it('finds executables in the given directories, runs --version, and picks the newest', async () => {
    const older = mkdtempSync(join(tmpdir(), 'offramp-tools-'));
    const newer = mkdtempSync(join(tmpdir(), 'offramp-tools-'));
    const empty = mkdtempSync(join(tmpdir(), 'offramp-tools-'));
    const script = (dir: string, name: string, version: string): void => {
      writeFileSync(join(dir, name), `#!/bin/sh\necho "${name} (PostgreSQL) ${version}"\n`);
      chmodSync(join(dir, name), 0o755);
    };
    script(older, 'pg_dump', '14.11');
    script(newer, 'pg_dump', '17.2');
    script(older, 'pg_restore', '14.11');
    const tools = await findClientTools([empty, older, newer]);
    expect(tools.best.pg_dump).toMatchObject({ path: join(newer, 'pg_dump'), major: 17, version: '17.2' });
    expect(tools.found.pg_dump).toHaveLength(2);
    expect(tools.best.pg_restore).toMatchObject({ major: 14 });
    expect((await findClientTools([empty])).best.pg_dump).toBeUndefined();
  });
});

describe('extension planning', () => {
  const ext = (name: string, version: string, user_dependents = 0): InstalledExtension => ({ name, version, schema: 'extensions', user_dependents, examples: user_dependents ? ['column location of table public.beacons'] : [] });
  const avail = (name: string, default_version: string, trusted = false, installed_version: string | null = null): AvailableExtension => ({ name, default_version, installed_version, trusted, superuser: !trusted });

  it('splits source extensions into missing, platform-only, to create, installed, and older on the target', () => {
    const plan = planExtensions(
      [ext('plpgsql', '1.0'), ext('postgis', '3.3.2', 4), ext('pg_graphql', '1.5.1'), ext('pgjwt', '0.2.0'), ext('pg_trgm', '1.6'), ext('uuid-ossp', '1.1'), ext('vector', '0.8.0')],
      [avail('plpgsql', '1.0'), avail('pg_trgm', '1.6', true), avail('uuid-ossp', '1.1', true, '1.1'), avail('vector', '0.5.1')],
    );
    expect(plan.missing.map((e) => e.name)).toEqual(['postgis']);
    expect(plan.skipped.map((e) => e.name)).toEqual(['pg_graphql', 'pgjwt']);
    expect(plan.toCreate.map((e) => [e.name, e.trusted])).toEqual([['pg_trgm', true], ['vector', false]]);
    expect(plan.alreadyInstalled.map((e) => e.name)).toEqual(['uuid-ossp']);
    expect(plan.older).toEqual([{ name: 'vector', source: '0.8.0', target: '0.5.1' }]);
  });

  it('does not require what the platform installs for itself: nothing copied uses it and the role may not create it', () => {
    const source = [ext('pg_stat_statements', '1.10'), ext('postgis', '3.3.2', 2), ext('pgcrypto', '1.3'), ext('hypopg', '1.4')];
    const target = [avail('pg_stat_statements', '1.10'), avail('postgis', '3.3.2'), avail('pgcrypto', '1.3', true)];
    const owner = planExtensions(source, target, false);
    expect(owner.unused.map((e) => e.name)).toEqual(['pg_stat_statements', 'hypopg']);
    expect(owner.missing).toEqual([]);
    expect(owner.toCreate.map((e) => [e.name, e.trusted])).toEqual([['postgis', false], ['pgcrypto', true]]);
    // A superuser creates what it can; what the target does not offer and nothing uses is still not required.
    const superuser = planExtensions(source, target, true);
    expect(superuser.toCreate.map((e) => e.name)).toEqual(['pg_stat_statements', 'postgis', 'pgcrypto']);
    expect(superuser.unused.map((e) => e.name)).toEqual(['hypopg']);
  });

  it('names the package to install', () => {
    expect(extensionPackageHint('postgis', 15)).toBe('apt-get install postgresql-15-postgis-3');
    expect(extensionPackageHint('postgis_topology', 16)).toBe('apt-get install postgresql-16-postgis-3');
    expect(extensionPackageHint('vector', 15)).toBe('apt-get install postgresql-15-pgvector');
    expect(extensionPackageHint('pg_cron', 15)).toMatch(/postgresql-15-cron and add pg_cron to shared_preload_libraries/);
    expect(extensionPackageHint('weird', 15)).toMatch(/"weird" for PostgreSQL 15/);
  });

  it('compares extension versions numerically', () => {
    expect(compareVersions('3.3.2', '3.10.0')).toBeLessThan(0);
    expect(compareVersions('1.10', '1.9')).toBeGreaterThan(0);
    expect(compareVersions('1.1', '1.1')).toBe(0);
    expect(compareVersions('1.0', '1')).toBe(0);
  });
});

describe('connection budget', () => {
  const base: Partial<ServerFacts> = {
    max_connections: 100, reserved_connections: 3, connections_in_use: 5, is_superuser: false,
    role_conn_limit: -1, database_conn_limit: -1, role_connections_in_use: 1, database_connections_in_use: 2,
    current_user: 'app', database: 'app',
  };
  const facts = (over: Partial<ServerFacts>): ServerFacts => ({ ...base, ...over }) as ServerFacts;

  it('subtracts reserved slots for ordinary roles and counts doctor\'s own connection as free', () => {
    expect(connectionBudget(facts({}), 4)).toMatchObject({ need: 5, capacity: 97, free: 93 });
    expect(connectionBudget(facts({ is_superuser: true }), 4)).toMatchObject({ capacity: 100, free: 96 });
  });

  it('is bounded by the role\'s and the database\'s CONNECTION LIMIT', () => {
    const b = connectionBudget(facts({ role_conn_limit: 3, role_connections_in_use: 1 }), 4);
    expect(b).toMatchObject({ need: 5, capacity: 3, free: 3 });
    expect(b.limitedBy).toMatch(/CONNECTION LIMIT 3 on role app/);
    expect(connectionBudget(facts({ database_conn_limit: 10, database_connections_in_use: 9 }), 2).limitedBy).toMatch(/on database app/);
  });
});

describe('doctor without a server', () => {
  it('a malformed URL is a source.connect FAIL (invalid-url) with a hint, password masked, nothing else failing', async () => {
    const { doctor } = await import('../../src/core/doctor/index.js');
    const report = await doctor({ source: 'postgresql://user:pw-in-bad-url@[::1/db' });
    const connect = report.checks.find((c) => c.id === 'source.connect');
    expect(connect).toMatchObject({ status: 'fail', evidence: { diagnosis: 'invalid-url' }, hint: expect.stringMatching(/postgresql:\/\/USER:PASSWORD@HOST/) });
    expect(report.summary.fail).toBe(1);
    expect(report.checks.find((c) => c.id === 'target.connect')).toMatchObject({ status: 'skip', detail: 'no target given' });
    expect(JSON.stringify(report)).not.toContain('pw-in-bad-url');
  });
});
