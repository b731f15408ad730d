/**
 * rls verify on the fixture: a copy with the policies on the target is equal for every table ×
 * principal × command; one weakened policy is caught with the table, principal, command and keys;
 * the source is left exactly as it was; malformed claims are refused.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyRls, type RlsVerifyOptions } from '../../src/core/rls/verify.js';
import { silentProgress } from '../../src/output/progress.js';
import { emptyTargetDatabase, fixtureDatabase, trackDatabases, type TestDatabase } from '../bed/databases.js';
import { copyWithPolicies, rows, untouchedState } from './rls-verify-helpers.js';

const track = trackDatabases();
let source: TestDatabase;
let target: TestDatabase;

function options(extra: Partial<RlsVerifyOptions> = {}): RlsVerifyOptions {
  return {
    source: source.url,
    target: target.url,
    mode: 'compat',
    principals: { anon: true, serviceRole: true, users: 4 },
    seed: 7,
    sampleRows: 2,
    workDir: mkdtempSync(join(tmpdir(), 'offramp-rls-verify-')),
    ...extra,
  };
}

beforeAll(async () => {
  source = await track(fixtureDatabase());
  target = await track(emptyTargetDatabase());
  await copyWithPolicies(source.url, target.url);
}, 180_000);

describe('offramp rls verify (compat)', () => {
  it('is equal for every RLS table × principal × command of a faithful copy, and leaves the source as it was', async () => {
    const before = await untouchedState(source.adminUrl, ['public']);
    const report = await verifyRls(options(), silentProgress);
    const after = await untouchedState(source.adminUrl, ['public']);
    expect(after).toEqual(before);

    // Every table with RLS on the source is in the report, counted independently.
    const rlsTables = (await rows<{ t: string }>(source.adminUrl,
      `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relrowsecurity AND c.relkind IN ('r', 'p') ORDER BY 1`)).map((r) => r.t);
    expect(rlsTables.length).toBeGreaterThan(20);
    expect(report.tables.map((t) => t.table).sort()).toEqual([...rlsTables].sort());
    // Those the target has are verified; the others (left behind by copy) are skipped with the reason.
    const onTarget = new Set((await rows<{ t: string }>(target.adminUrl,
      `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')`)).map((r) => r.t));
    const verified = rlsTables.filter((t) => onTarget.has(t));
    expect(verified).toEqual(expect.arrayContaining(['public.posts', 'public.profiles', 'public.follows', 'public.direct_messages', 'public."Order"']));
    expect(report.tables.filter((t) => t.status === 'verified').map((t) => t.table).sort()).toEqual([...verified].sort());
    for (const t of report.tables.filter((x) => x.status === 'skipped')) expect(t.reason).toMatch(/not on the target/);

    // Principals: anon, service_role and 4 users with their ids.
    const names = report.principals.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['anon', 'service_role']));
    const users = report.principals.filter((p) => p.kind === 'user');
    expect(users).toHaveLength(4);
    const known = new Set((await rows<{ id: string }>(source.adminUrl, 'SELECT id::text FROM auth.users')).map((r) => r.id));
    for (const u of users) expect(known.has(u.id!)).toBe(true);

    // table × principal × command, every one compared, none different.
    expect(report.checks).toHaveLength(verified.length * report.principals.length * 4);
    const bad = report.checks.filter((c) => c.status === 'different');
    expect(bad).toEqual([]);
    expect(report.summary).toMatchObject({ ok: true, different: 0, tables: verified.length, principals: 6 });
    // The probes really ran: writes were tried on posts for every principal, and some user could insert a post of their own.
    const postsInsert = report.checks.filter((c) => c.table === 'public.posts' && c.command === 'INSERT');
    expect(postsInsert.every((c) => c.status === 'equal' && c.probes === 2)).toBe(true);
    expect(postsInsert.some((c) => c.principal.startsWith('user:') && /allowed/.test(c.source ?? ''))).toBe(true);
  });

  it('catches a translated policy with a condition dropped: exit-3 report names table, principal, command and keys', async () => {
    const weakened = await track(emptyTargetDatabase());
    await copyWithPolicies(source.url, weakened.url);
    await rows(weakened.adminUrl, `
      DROP POLICY "Followers see followers-only posts" ON public.posts;
      CREATE POLICY "Followers see followers-only posts" ON public.posts FOR SELECT TO authenticated USING (visibility = 'followers')`);
    const report = await verifyRls(options({ target: weakened.url, tables: ['public.posts'], principals: { anon: true, serviceRole: true, users: 'all' } }), silentProgress);
    expect(report.summary.ok).toBe(false);
    const bad = report.checks.filter((c) => c.status === 'different');
    expect(bad.length).toBeGreaterThan(0);
    for (const c of bad) {
      expect(c).toMatchObject({ table: 'public.posts', command: 'SELECT' });
      expect(c.principal).toMatch(/^user:/);
      expect(c.differingKeys!.length).toBeGreaterThan(0);
    }
    // anon and service_role are not affected by an authenticated-only policy
    expect(report.checks.filter((c) => ['anon', 'service_role'].includes(c.principal) && c.status === 'different')).toEqual([]);
    // Each differing key is a followers-only post the user does not follow the author of, seen only on the target.
    const first = bad[0]!;
    const key = JSON.parse(first.differingKeys![0]!.key) as { id: string };
    expect(first.differingKeys![0]).toMatchObject({ source: 'not visible', target: 'visible' });
    const userId = first.principal.slice('user:'.length);
    const [post] = await rows<{ visibility: string; author_id: string; follows: boolean }>(source.adminUrl,
      `SELECT p.visibility::text, p.author_id::text, EXISTS (SELECT 1 FROM public.follows f WHERE f.follower_id = $2 AND f.followee_id = p.author_id) AS follows
         FROM public.posts p WHERE p.id::text = $1::text`, [key.id, userId]);
    expect(post).toMatchObject({ visibility: 'followers', follows: false });
    expect(post!.author_id).not.toBe(userId);
  });
});
