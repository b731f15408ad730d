/**
 * rls verify over rls translate's own output: the compat translation installed with --apply on a
 * plain copy, and the app-mode predicates applied as WHERE clauses, both equal to the source for
 * every principal.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyDatabase, copyOptions } from '../../src/core/move/copy.js';
import { translateRls } from '../../src/core/rls/translate.js';
import { verifyRls } from '../../src/core/rls/verify.js';
import { silentProgress } from '../../src/output/progress.js';
import { emptyTargetDatabase, fixtureDatabase, trackDatabases } from '../bed/databases.js';
import { copyWithPolicies, rows } from './rls-verify-helpers.js';

const track = trackDatabases();

describe('rls verify over rls translate', () => {
  it('app mode: the emitted predicates as WHERE clauses show every principal the rows the source shows', async () => {
    const source = await track(fixtureDatabase());
    const target = await track(emptyTargetDatabase());
    await copyWithPolicies(source.url, target.url);
    const workDir = mkdtempSync(join(tmpdir(), 'offramp-rls-app-'));
    const translation = await translateRls({
      source: source.url, mode: 'app', authLayout: { kind: 'keep' }, apply: false, force: false, disableRls: false, yes: false, workDir,
    }, silentProgress);
    expect(translation.tables!.length).toBeGreaterThan(5);
    const report = await verifyRls({
      source: source.url, target: target.url, mode: 'app', predicates: { parameters: translation.parameters!, tables: translation.tables! },
      principals: { anon: true, serviceRole: true, users: 4 }, seed: 11, sampleRows: 2, workDir,
    }, silentProgress);
    const selects = report.checks.filter((c) => c.command === 'SELECT');
    expect(selects.length).toBe(report.summary.tables * 6);
    expect(selects.filter((c) => c.status !== 'equal')).toEqual([]);
    // the proof is not vacuous: some user sees rows that anon does not
    const posts = selects.filter((c) => c.table === 'public.posts');
    expect(new Set(posts.map((c) => c.source)).size).toBeGreaterThan(1);
    expect(report.summary).toMatchObject({ ok: true, different: 0 });

    // A predicate that lost its condition is caught: posts' SELECT rule replaced by "true".
    const weakened = translation.tables!.map((t) => (t.table === 'posts' ? { ...t, using: { ...t.using, SELECT: { ...t.using.SELECT!, sql: 'true' } } } : t));
    const caught = await verifyRls({
      source: source.url, target: target.url, mode: 'app', predicates: { parameters: translation.parameters!, tables: weakened },
      principals: { anon: true, serviceRole: true, users: 4 }, tables: ['public.posts'], seed: 11, sampleRows: 0, workDir,
    }, silentProgress);
    const bad = caught.checks.filter((c) => c.status === 'different');
    expect(bad.map((c) => c.principal)).toContain('anon');
    expect(bad.every((c) => c.table === 'public.posts' && c.command === 'SELECT' && c.differingKeys!.every((k) => k.source === 'not visible' && k.target === 'visible'))).toBe(true);
    const hidden = JSON.parse(bad.find((c) => c.principal === 'anon')!.differingKeys![0]!.key) as { id: string };
    const [post] = await rows<{ visibility: string }>(source.adminUrl, 'SELECT visibility::text FROM public.posts WHERE id::text = $1', [hidden.id]);
    expect(post!.visibility).not.toBe('public');
  });

  it('compat mode: the translation installed by rls translate --apply is equal to the source', async () => {
    const source = await track(fixtureDatabase());
    const target = await track(emptyTargetDatabase());
    const workDir = mkdtempSync(join(tmpdir(), 'offramp-rls-compat-'));
    await copyDatabase(copyOptions(source.url, target.url, { workDir }), silentProgress);
    // The local users table the auth work (issue 10) creates; here only what translate looks for.
    await rows(target.adminUrl, 'CREATE SCHEMA IF NOT EXISTS auth; CREATE TABLE auth.users (id uuid PRIMARY KEY)');
    const translation = await translateRls({
      source: source.url, target: target.url, mode: 'compat', authLayout: { kind: 'keep' }, apply: true, force: false, disableRls: false, yes: true, workDir,
    }, silentProgress);
    expect(translation.counts.installed).toBeGreaterThan(20);
    const report = await verifyRls({
      source: source.url, target: target.url, mode: 'compat', principals: { anon: true, serviceRole: true, users: 3 }, seed: 5, sampleRows: 2, workDir,
    }, silentProgress);
    expect(report.summary).toMatchObject({ ok: true, different: 0, inconclusive: 0 });
    expect(report.summary.tables).toBeGreaterThan(10);
  });
});
