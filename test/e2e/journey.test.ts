/**
 * The built CLI against the test bed's Supabase-shaped fixture, as an engineer would run it:
 * inspect (JSON envelope), doctor, copy (JSON, password never shown), and the demo itself.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyTargetDatabase, fixtureDatabase, type TestDatabase } from '../bed/databases.js';
import { expectSameContents, explainedByDeferred } from '../integration/compare-helpers.js';
import { sql } from '../integration/move-helpers.js';
import { runCli } from './run-cli.js';


const made: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(made.map((d) => d.drop()));
});

describe('the built CLI on a Supabase-shaped source', () => {
  it('inspect --json reports tables, policies, extensions, the auth.users trigger, 72 users, buckets and findings', async () => {
    const source = await fixtureDatabase();
    made.push(source);
    const r = await runCli(['inspect', '--source', source.url, '--json']);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: true, command: 'inspect', version: expect.any(String), warnings: expect.any(Array) });
    const result = doc.result;
    expect(result.platform.kind).toBe('supabase');
    expect(result.tables.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['profiles', 'posts', 'follows', 'beacons', 'media', 'device_tokens']));
    expect(result.tables.find((t: { name: string }) => t.name === 'posts')).toMatchObject({ rows: 298, rowsExact: true, hasPrimaryKey: true, rlsEnabled: true });
    expect(result.policies.length).toBeGreaterThan(10);
    const ext = Object.fromEntries(result.extensions.map((e: { name: string; schema: string; platformOnly: boolean }) => [e.name, e]));
    expect(ext.postgis).toMatchObject({ schema: 'extensions', platformOnly: false });
    expect(ext.pgcrypto).toMatchObject({ schema: 'extensions' });
    expect(ext.pgjwt).toMatchObject({ platformOnly: true });
    expect(result.authUserTriggers).toEqual([expect.objectContaining({ name: 'on_auth_user_created', function: 'public.handle_new_user()' })]);
    expect(result.auth).toMatchObject({ users: 72, identities: 72 });
    expect(result.storage.buckets.map((b: { id: string }) => b.id).sort()).toEqual(['avatars', 'media']);
    const ids = new Set(result.findings.map((f: { id: string }) => f.id));
    for (const id of ['table-without-primary-key', 'trigger-on-auth-users', 'platform-only-extension', 'policy-calls-missing-function', 'fk-to-auth-users']) expect(ids).toContain(id);
    expect(r.stdout).not.toContain(new URL(source.url).password);
  });

  it('inspect --markdown writes a migration plan', async () => {
    const source = await fixtureDatabase();
    made.push(source);
    const file = join(mkdtempSync(join(tmpdir(), 'offramp-plan-')), 'plan.md');
    const r = await runCli(['inspect', '--source', source.url, '--markdown', file]);
    expect(r.exitCode).toBe(0);
    const md = readFileSync(file, 'utf8');
    expect(md).toMatch(/^# /m);
    expect(md).toContain('on_auth_user_created');
    expect(md).toMatch(/offramp (copy|doctor)/);
  });

  it('copy --json moves the project and lists what it deferred; the target password is never printed', async () => {
    const source = await fixtureDatabase();
    const target = await emptyTargetDatabase();
    made.push(source, target);
    const r = await runCli(['copy', '--source', source.url, '--target', target.url, '--json', '--work-dir', mkdtempSync(join(tmpdir(), 'offramp-'))]);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: true, command: 'copy', result: { platform: 'supabase', consistent: true, resumed: false } });
    expect(doc.result.tables.find((t: { table: string }) => t.table === 'public.posts').rows).toBe(298);
    expect(doc.result.deferred.length).toBeGreaterThan(0);
    // What the target really holds, asked of the servers: every table of public equal to the source,
    // every schema object there except exactly what the JSON lists as deferred.
    await expectSameContents(source.url, target.url, ['public'], explainedByDeferred(doc.result.deferred));
    expect((await sql<{ n: number }>(target.url, 'SELECT count(*)::int AS n FROM public.posts'))[0]!.n).toBe(298);
    for (const secret of [new URL(source.url).password, new URL(target.url).password]) {
      expect(r.stdout).not.toContain(secret);
      expect(r.stderr).not.toContain(secret);
    }
  });

  it('ndjson streams progress events and ends with the result', async () => {
    const source = await fixtureDatabase();
    const target = await emptyTargetDatabase();
    made.push(source, target);
    const r = await runCli(['copy', '--source', source.url, '--target', target.url, '--output', 'ndjson', '--work-dir', mkdtempSync(join(tmpdir(), 'offramp-'))]);
    expect(r.exitCode).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.some((e) => e.type === 'progress')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'result', ok: true, command: 'copy' });
    await expectSameContents(source.url, target.url, ['public'], explainedByDeferred(events.at(-1).result.deferred));
  });
});

describe('offramp demo', () => {
  it('runs every stage on throwaway servers and writes the report', async () => {
    const report = join(mkdtempSync(join(tmpdir(), 'offramp-demo-')), 'report.md');
    const r = await runCli(['demo', '--report', report, '--json']);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.result.stages.map((s: { name: string }) => s.name)).toEqual(expect.arrayContaining(['fixture', 'inspect', 'doctor', 'copy', 'rls translate', 'validate', 'cutover']));
    expect(doc.result.stages.every((s: { ok: boolean }) => s.ok)).toBe(true);
    // The demo's servers are gone afterwards: its own validate stage (server-computed counts and
    // hashes on both sides, a code path apart from copy) is the independent check of what copy wrote.
    expect(doc.result.validate.summary).toMatchObject({ ok: true, tablesDiffering: 0 });
    expect(doc.result.validate.tables.length).toBeGreaterThan(5);
    // rls translate: every policy classified (installed once the auth stage gives the target its users table)
    expect(doc.result.rls.counts.total).toBe(doc.result.rls.policies.length);
    expect(doc.result.rls.counts.total).toBeGreaterThan(25);
    expect(doc.result.validate.tables.find((t: { table: string }) => t.table === 'public.posts'))
      .toMatchObject({ status: 'ok', rows: { source: 298, target: 298 }, hash: { equal: true } });
    // The cutover stage: `cutover plan` of the shipped runbook, and a `cutover run --dry-run` over
    // local endpoints where the checks really ran and every change was only described.
    const cutover = doc.result.cutover;
    expect(cutover.plan.phases.flatMap((p: { steps: Array<{ id: string }> }) => p.steps.map((s) => s.id))).toEqual(['endpoints-tested', 'data-validated', 'ssl-configured',
      'monitoring-active', 'rollback-ready', 'new-server-health', 'new-server-tls', 'new-server-cors', 'lower-ttl', 'old-ttl-expired', 'ttl-visible', 'final-validation',
      'switch-dns', 'propagation', 'health', 'error-rate', 'row-counts']);
    expect(cutover.dryRun).toMatchObject({ ok: true, dryRun: true, journal: null });
    expect(Object.fromEntries(cutover.dryRun.steps.map((s: { id: string; status: string }) => [s.id, s.status]))).toEqual({
      'monitoring-active': 'dry-run', 'new-server-health': 'passed', 'new-server-cors': 'passed', 'lower-ttl': 'dry-run', 'old-ttl-expired': 'dry-run',
      'final-validation': 'passed', 'posts-copied': 'passed', 'switch-dns': 'dry-run',
    });
    const md = readFileSync(report, 'utf8');
    expect(md).toMatch(/# offramp demo report/);
    expect(md).toMatch(/Dry run: nothing was changed and no journal was written/);
    expect(md).toMatch(/## Copy \(offramp copy\)/);
    expect(md).not.toMatch(/postgresql:\/\/postgres:[0-9a-f]{24}@/);
  }, 180_000);
});
