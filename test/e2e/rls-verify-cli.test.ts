/**
 * `offramp rls verify` as a user runs it (the built CLI): exit 0 when every check is equal, exit 3
 * with the differing table/principal/command in the JSON when one policy on the target is weaker,
 * exit 2 for a principal with malformed claims (from auth.users or from a principals file), the
 * rolled-back-writes note in the output, and the passwords nowhere.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { emptyTargetDatabase, fixtureDatabase, trackDatabases, type TestDatabase } from '../bed/databases.js';
import { copyWithPolicies, rows } from '../integration/rls-verify-helpers.js';
import { runCli } from './run-cli.js';

const track = trackDatabases();
let source: TestDatabase;
let target: TestDatabase;
let passwords: string[];

beforeAll(async () => {
  source = await track(fixtureDatabase());
  target = await track(emptyTargetDatabase());
  await copyWithPolicies(source.url, target.url);
  passwords = [source.url, target.url].map((u) => decodeURIComponent(new URL(u).password)).filter(Boolean);
  expect(passwords.length).toBeGreaterThan(0);
}, 180_000);

function expectNoPassword(...texts: string[]): void {
  for (const text of texts) for (const p of passwords) expect(text).not.toContain(p);
}

const base = (): string[] => ['rls', 'verify', '--source', source.url, '--target', target.url, '--users', '3', '--sample-rows', '1', '--seed', '3'];

describe('offramp rls verify (built CLI)', () => {
  it('exit 0 when the target enforces what the source does, and says the source is only read', async () => {
    const r = await runCli([...base(), '--tables', 'public.posts,public.follows,public.profiles']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('the source is only read: write probes run in transactions that are rolled back');
    expect(r.stderr).toMatch(/3 tables \(0 skipped\) × 5 principals: 60 checks, \d+ equal, 0 different/);
    expectNoPassword(r.stdout, r.stderr);
  });

  it('exit 3 naming table, principal, command and keys when one policy on the target lost a condition', async () => {
    await rows(target.adminUrl, `
      DROP POLICY "Users can unfollow" ON public.follows;
      CREATE POLICY "Users can unfollow" ON public.follows FOR DELETE TO authenticated USING (true)`);
    const r = await runCli([...base(), '--tables', 'public.follows,public.posts', '--json']);
    expect(r.exitCode, r.stderr).toBe(3);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    const bad = doc.result.checks.filter((c: { status: string }) => c.status === 'different');
    expect(bad.length).toBeGreaterThan(0);
    for (const c of bad) {
      expect(c).toMatchObject({ table: 'public.follows', command: 'DELETE' });
      expect(c.principal).toMatch(/^user:/);
      expect(c.differingKeys[0]).toMatchObject({ target: 'allowed (1 row)' });
      // the key is a follow of somebody else: the source's policy lets only the follower delete it
      const key = JSON.parse(c.differingKeys[0].key) as { follower_id: string };
      expect(key.follower_id).not.toBe(c.principal.slice('user:'.length));
    }
    // the target still holds every follow: the DELETE was rolled back there too
    const [n] = await rows<{ n: string }>(target.adminUrl, 'SELECT count(*) AS n FROM public.follows');
    const [m] = await rows<{ n: string }>(source.adminUrl, 'SELECT count(*) AS n FROM public.follows');
    expect(n!.n).toBe(m!.n);
    expectNoPassword(r.stdout, r.stderr);
  });

  it('exit 2 for a user whose metadata is not a JSON object, and for a principals file that is not JSON', async () => {
    const [user] = await rows<{ id: string }>(source.adminUrl, `SELECT id::text FROM auth.users ORDER BY id LIMIT 1`);
    await rows(source.adminUrl, `UPDATE auth.users SET raw_app_meta_data = '"admin"'::jsonb WHERE id = $1`, [user!.id]);
    const r = await runCli([...base(), '--users', '0', '--user', user!.id, '--tables', 'public.posts']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain(`principal user:${user!.id} has malformed claims: app_metadata (raw_app_meta_data) is not a JSON object`);

    const dir = mkdtempSync(join(tmpdir(), 'offramp-rls-principals-'));
    const file = join(dir, 'principals.json');
    writeFileSync(file, JSON.stringify([{ role: 'authenticated', claims: { sub: user!.id, app_metadata: '{not json' } }]));
    const f = await runCli([...base(), '--principals', file, '--tables', 'public.posts']);
    expect(f.exitCode, f.stderr).toBe(2);
    expect(f.stderr).toContain('app_metadata is not JSON');
    expectNoPassword(r.stdout, r.stderr, f.stdout, f.stderr);
  });

  it('exit 2 when --tables names no table with RLS (nothing compared must not pass)', async () => {
    const r = await runCli([...base(), '--tables', 'public.no_such_table']);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain('no table with row level security on the source matches --tables public.no_such_table');
  });
});
