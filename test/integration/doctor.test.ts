/**
 * doctor() against real servers: the test bed's Supabase-shaped source and PostGIS target, plus
 * servers and roles made here for the failure cases (a target without PostGIS, a closed port, a
 * wrong password, a restricted role).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CheckResult } from '../../src/checks/types.js';
import { doctor, type DoctorReport } from '../../src/core/doctor/index.js';
import { withClient } from '../../src/db/connect.js';
import { freePort, startCluster, type LocalCluster } from '../../src/db/local-cluster.js';
import { emptySourceDatabase, emptyTargetDatabase, fixtureDatabase, type TestDatabase } from '../bed/databases.js';

function byId(report: DoctorReport, id: string): CheckResult {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
}

function failures(report: DoctorReport): string[] {
  return report.checks.filter((c) => c.status === 'fail').map((c) => `${c.id}: ${c.detail}`);
}

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

function withUser(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

const made: TestDatabase[] = [];
async function track(db: Promise<TestDatabase>): Promise<TestDatabase> {
  const d = await db;
  made.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(made.map((d) => d.drop().catch(() => {})));
});

describe('doctor: fixture source → empty PostGIS target', () => {
  let source: TestDatabase;
  let target: TestDatabase;
  let report: DoctorReport;

  beforeAll(async () => {
    [source, target] = await Promise.all([track(fixtureDatabase()), track(emptyTargetDatabase())]);
    report = await doctor({ source: source.url, target: target.url, connectTimeoutSeconds: 10, jobs: 4 });
  });

  it('has no FAIL', () => {
    expect(failures(report)).toEqual([]);
    expect(report.summary.fail).toBe(0);
    expect(report.summary.pass).toBeGreaterThan(10);
  });

  it('runs every check with an id, a title and a detail', () => {
    expect(report.checks.length).toBe(23);
    for (const c of report.checks) {
      expect(c.id).toMatch(/^[a-z]+\.[a-z0-9-]+$/);
      expect(c.detail.length).toBeGreaterThan(0);
      expect(['pass', 'warn', 'fail', 'skip']).toContain(c.status);
    }
    expect(new Set(report.checks.map((c) => c.id)).size).toBe(report.checks.length);
  });

  it('connects to both, sees two different servers, and an empty target', () => {
    expect(byId(report, 'source.connect').status).toBe('pass');
    expect(byId(report, 'target.connect').status).toBe('pass');
    expect(byId(report, 'pair.same-database')).toMatchObject({ status: 'pass', detail: 'different servers' });
    expect(byId(report, 'target.empty').status).toBe('pass');
    expect(byId(report, 'source.snapshot').status).toBe('pass');
    expect(byId(report, 'source.wal-level').status).toBe('pass');
    expect(byId(report, 'target.disk').status).toBe('pass');
    expect(report.source).toMatchObject({ reachable: true });
  });

  it('names the platform-only extensions it will skip, and finds the rest on the target', async () => {
    const ext = byId(report, 'target.extensions');
    const skipped = (ext.evidence?.skippedPlatformOnly as Array<{ name: string }>).map((e) => e.name).sort();
    const toCreate = ext.evidence?.toCreate as string[];
    // What the plain target lacks, asked of the servers themselves (not of doctor): the source's
    // extensions that the target's installation does not offer. On the supabase flavour: the stand-ins.
    const installed = await withClient(source.url, { role: 'admin' }, async (c) =>
      (await c.query<{ n: string }>(`SELECT extname AS n FROM pg_extension WHERE extname <> 'plpgsql'`)).rows.map((r) => r.n));
    const available = await withClient(target.url, { role: 'admin' }, async (c) =>
      (await c.query<{ n: string }>('SELECT name AS n FROM pg_available_extensions')).rows.map((r) => r.n));
    const lacking = installed.filter((n) => !available.includes(n)).sort();
    expect(skipped).toEqual(lacking);
    expect(toCreate.length + skipped.length).toBeGreaterThan(0);
    for (const name of skipped) expect(ext.detail).toContain(name);
    expect(ext.status).toBe(skipped.length > 0 ? 'warn' : 'pass');
    expect(skipped).not.toContain('postgis');
  });

  // A skipped test (not a silently passing `if`) on servers of one's own.
  it.runIf(inject('sourceFlavour') === 'supabase')('on the test bed, skips the pgjwt stand-in with a warning', () => {
    const ext = byId(report, 'target.extensions');
    expect((ext.evidence?.skippedPlatformOnly as Array<{ name: string }>).map((e) => e.name)).toContain('pgjwt');
    expect(ext.status).toBe('warn');
  });

  it('never puts the password in the report', () => {
    const json = JSON.stringify(report);
    for (const url of [source.url, target.url]) expect(json).not.toContain(new URL(url).password);
    expect(report.source?.url).toContain('****');
  });
});

describe('doctor: failures, each with the right diagnosis and hint', () => {
  it('a wrong target password → target.connect FAIL bad-password; target checks SKIP', async () => {
    const [source, target] = await Promise.all([track(emptySourceDatabase()), track(emptyTargetDatabase())]);
    const report = await doctor({ source: source.url, target: withPassword(target.url, 'not-the-password-7'), connectTimeoutSeconds: 10 });
    const c = byId(report, 'target.connect');
    expect(c).toMatchObject({ status: 'fail', evidence: { diagnosis: 'bad-password' } });
    expect(c.detail).toMatch(/password authentication failed for user "postgres"/);
    expect(c.detail).toContain('postgresql://postgres:****@');
    expect(c.hint).toMatch(/password was rejected/);
    expect(JSON.stringify(report)).not.toContain('not-the-password-7');
    // One cause, one FAIL: everything that needs the target is skipped with the reason.
    expect(failures(report)).toHaveLength(1);
    for (const id of ['target.extensions', 'target.empty', 'target.can-create-schemas', 'server.versions']) {
      expect(byId(report, id)).toMatchObject({ status: 'skip', detail: expect.stringMatching(/^target not reachable/) });
    }
    expect(byId(report, 'source.snapshot').status).toBe('pass');
  });

  it('a closed source port → source.connect FAIL refused; source checks SKIP "source not reachable"', async () => {
    const target = await track(emptyTargetDatabase());
    const port = await freePort();
    const report = await doctor({ source: `postgresql://postgres:pw-closed-port@127.0.0.1:${port}/postgres`, target: target.url, connectTimeoutSeconds: 5 });
    expect(byId(report, 'source.connect')).toMatchObject({ status: 'fail', evidence: { diagnosis: 'refused' }, hint: expect.stringMatching(/nothing listens/) });
    expect(failures(report)).toHaveLength(1);
    for (const id of ['source.snapshot', 'source.timeouts', 'source.wal-level', 'source.read-access', 'target.extensions', 'client.pg-dump', 'target.disk']) {
      expect(byId(report, id)).toMatchObject({ status: 'skip', detail: expect.stringMatching(/^source not reachable/) });
    }
    expect(byId(report, 'target.connect').status).toBe('pass');
    expect(report.source).toMatchObject({ reachable: false });
  });

  it('a port-6543 URL → FAIL transaction-pooler, hint to use 5432', async () => {
    const report = await doctor({ source: 'postgresql://postgres.abcdefgh:pw-pooler@127.0.0.1:6543/postgres', connectTimeoutSeconds: 5 });
    expect(byId(report, 'source.connect')).toMatchObject({ status: 'fail', evidence: { diagnosis: 'transaction-pooler' }, hint: expect.stringMatching(/5432/) });
    expect(byId(report, 'target.connect')).toMatchObject({ status: 'skip', detail: 'no target given' });
  });

  it('the same database as source and target → pair.same-database FAIL', async () => {
    const db = await track(emptyTargetDatabase());
    const report = await doctor({ source: db.url, target: db.url, connectTimeoutSeconds: 10 });
    expect(byId(report, 'pair.same-database')).toMatchObject({ status: 'fail', hint: expect.stringMatching(/never copies a database onto itself/) });
  });

  it('another database of the same server is not the same database', async () => {
    const [a, b] = await Promise.all([track(emptyTargetDatabase()), track(emptyTargetDatabase())]);
    const report = await doctor({ source: a.url, target: b.url, connectTimeoutSeconds: 10 });
    expect(byId(report, 'pair.same-database')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/same server/) });
  });

  it('more jobs than the target has connection slots → target.connections FAIL with a --jobs hint', async () => {
    const [source, target] = await Promise.all([track(emptySourceDatabase()), track(emptyTargetDatabase())]);
    const report = await doctor({ source: source.url, target: target.url, jobs: 500 });
    expect(byId(report, 'target.connections')).toMatchObject({ status: 'fail', hint: expect.stringMatching(/--jobs \d+/) });
  });

  it('--skip-disk skips the disk check; a non-empty target is a WARN that names its tables', async () => {
    const [source, target] = await Promise.all([track(emptySourceDatabase()), track(emptyTargetDatabase())]);
    await withClient(target.url, { role: 'admin' }, (c) => c.query('CREATE TABLE leftover (id int); CREATE SCHEMA app; CREATE TABLE app.posts (id int)'));
    const report = await doctor({ source: source.url, target: target.url, skipDisk: true });
    expect(byId(report, 'target.disk')).toMatchObject({ status: 'skip', detail: expect.stringMatching(/skip-disk/) });
    expect(byId(report, 'target.empty')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/2 user tables \(app\.posts, public\.leftover\)/), hint: expect.stringMatching(/--yes/) });
  });
});

describe('doctor: a target without PostGIS', () => {
  let bare: LocalCluster;
  beforeAll(async () => {
    bare = await startCluster({ flavour: 'bare' });
  });
  afterAll(async () => {
    await bare?.stop();
  });

  it('FAILs target.extensions for postgis, with the package to install', async () => {
    const source = await track(emptySourceDatabase());
    await withClient(source.url, { role: 'admin' }, (c) =>
      c.query('CREATE SCHEMA extensions; CREATE EXTENSION postgis WITH SCHEMA extensions; CREATE TABLE beacons (id int PRIMARY KEY, location extensions.geography(Point, 4326))'),
    );
    const target = await bare.createDatabase(`bare_${randomBytes(3).toString('hex')}`);
    const report = await doctor({ source: source.url, target, connectTimeoutSeconds: 10 });
    const c = byId(report, 'target.extensions');
    const major = Number(/^(\d+)/.exec(report.target?.serverVersion ?? '')?.[1]);
    expect(c.status).toBe('fail');
    expect(c.detail).toMatch(/not available on the target: postgis \S+ \(1 user object, e\.g\. column location of table (public\.)?beacons\)/);
    expect(c.hint).toContain(`apt-get install postgresql-${major}-postgis-3`);
    expect(c.evidence?.missing).toEqual([expect.objectContaining({ name: 'postgis', userDependents: 1 })]);
  });
});

describe('doctor: restricted roles', () => {
  const suffix = randomBytes(3).toString('hex');
  const reader = `doctor_reader_${suffix}`;
  const app = `doctor_app_${suffix}`;
  const readerPw = `reader-pw-${suffix}`;
  const appPw = `app-pw-${suffix}`;
  let source: TestDatabase;
  let target: TestDatabase;
  let report: DoctorReport;

  beforeAll(async () => {
    [source, target] = await Promise.all([track(emptySourceDatabase()), track(emptyTargetDatabase())]);
    await withClient(source.url, { role: 'admin' }, async (c) => {
      await c.query(`CREATE ROLE ${reader} LOGIN PASSWORD '${readerPw}'`);
      await c.query(`CREATE EXTENSION postgis`);
      await c.query(`CREATE TABLE public.posts (id int PRIMARY KEY, body text)`);
      await c.query(`CREATE TABLE public.secrets (id int)`);
      await c.query(`GRANT SELECT ON public.posts TO ${reader}`);
      await c.query(`CREATE ROLE ${app}_api NOLOGIN`);
      await c.query(`ALTER TABLE public.posts ENABLE ROW LEVEL SECURITY`);
      await c.query(`CREATE POLICY read_all ON public.posts FOR SELECT TO ${app}_api USING (true)`);
      await c.query(`ALTER ROLE ${reader} IN DATABASE ${source.name} SET statement_timeout = '2min'`);
    });
    // The target role owns nothing and has no CREATE on the database, no CREATEROLE, no superuser.
    await withClient(target.url, { role: 'admin' }, async (c) => {
      await c.query(`CREATE ROLE ${app} LOGIN PASSWORD '${appPw}'`);
    });
    report = await doctor({ source: withUser(source.url, reader, readerPw), target: withUser(target.url, app, appPw), connectTimeoutSeconds: 10 });
  });

  afterAll(async () => {
    await Promise.all(made.map((d) => d.drop().catch(() => {})));
    made.length = 0;
    await withClient(inject('sourceAdminUrl'), { role: 'admin' }, (c) => c.query(`DROP ROLE IF EXISTS ${reader}; DROP ROLE IF EXISTS ${app}_api`)).catch(() => {});
    await withClient(inject('targetAdminUrl'), { role: 'admin' }, (c) => c.query(`DROP ROLE IF EXISTS ${app}`)).catch(() => {});
  });

  it('connects as the restricted roles', () => {
    expect(byId(report, 'source.connect')).toMatchObject({ status: 'pass', evidence: { user: reader } });
    expect(byId(report, 'target.connect')).toMatchObject({ status: 'pass', evidence: { user: app } });
  });

  it('FAILs read access to a table the source role may not SELECT', () => {
    expect(byId(report, 'source.read-access')).toMatchObject({ status: 'fail', detail: expect.stringContaining('public.secrets'), evidence: { unreadable: ['public.secrets'] } });
  });

  it('WARNs about the role\'s statement_timeout, says where it comes from, and that offramp can override it', () => {
    const c = byId(report, 'source.timeouts');
    expect(c.status).toBe('warn');
    expect(c.detail).toContain(`statement_timeout = 2min (ALTER ROLE ${reader} IN DATABASE ${source.name})`);
    expect(c.detail).toMatch(/sets them to 0 in its own sessions \(checked\)/);
    expect(c.hint).toContain(`ALTER ROLE "${reader}" SET statement_timeout = 0`);
  });

  it('FAILs schema creation without CREATE on the database', () => {
    expect(byId(report, 'target.can-create-schemas')).toMatchObject({ status: 'fail', hint: expect.stringContaining(`GRANT CREATE ON DATABASE "${target.name}" TO "${app}"`) });
  });

  it('FAILs creating PostGIS without superuser, naming it', () => {
    const c = byId(report, 'target.can-create-extensions');
    expect(c.status).toBe('fail');
    expect(c.detail).toMatch(/^postgis \(.*\): only a superuser may create it/);
    expect(c.hint).toMatch(/administrator/);
    expect(c.adminSql).toEqual(['CREATE EXTENSION IF NOT EXISTS "postgis" WITH SCHEMA "public";']);
    expect(report.adminSql).toContain('CREATE EXTENSION IF NOT EXISTS "postgis" WITH SCHEMA "public";');
  });

  it('FAILs a custom role named by a policy that the target cannot create', () => {
    const c = byId(report, 'target.can-create-roles');
    expect(c.status).toBe('fail');
    // The policy's role, and the source role itself (it was granted SELECT on posts).
    expect(c.evidence?.missing).toEqual([`${app}_api`, reader]);
    expect(c.evidence?.needed).toContainEqual({ role: `${app}_api`, via: ['policy'] });
    expect(c.adminSql).toContain(`CREATE ROLE "${app}_api" NOLOGIN NOINHERIT;`);
    expect(report.adminSql).toContain(`CREATE ROLE "${app}_api" NOLOGIN NOINHERIT;`);
  });

  it('skips the disk check when the target role may not read data_directory', () => {
    expect(byId(report, 'target.disk')).toMatchObject({ status: 'skip', detail: expect.stringMatching(/data_directory/) });
  });

  it('leaks neither password', () => {
    const json = JSON.stringify(report);
    expect(json).not.toContain(readerPw);
    expect(json).not.toContain(appPw);
  });
});
