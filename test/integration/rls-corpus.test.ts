/**
 * Issue 11, the corpus: each of the 31 files of ../shared/corpus/rls is loaded onto the platform
 * layer with generated rows and principals, copied to a fresh target, translated in compat mode with
 * --apply, and verified (rls verify: every RLS table × principal × command). The targets of the
 * issue are asserted over all 318 policies: every loaded policy classified with a reason, ≥ 95 %
 * installed automatically, and every installed one verified equal (all its table's cells equal).
 *
 * With OFFRAMP_CORPUS_REPORT=<file> (npm run corpus:rls) the measured table is written there.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { emptySourceDatabase, emptyTargetDatabase } from '../bed/databases.js';
import { corpusFiles, loadCorpusFile } from '../bed/rls-corpus.js';
import { generateCorpusData } from '../bed/rls-corpus-data.js';
import { corpusMarkdown, corpusTotals } from '../bed/rls-corpus-report.js';
import { runCorpusFile, type FileRun } from '../bed/rls-corpus-run.js';

const runs: FileRun[] = [];

afterAll(() => {
  const out = process.env.OFFRAMP_CORPUS_REPORT;
  if (out && runs.length > 0) writeFileSync(out, corpusMarkdown(runs, corpusFiles().length));
});

/** A digest of every user table's rows: the source must be exactly as it was after translate and verify. */
async function sourceDigest(url: string, tables: string[]): Promise<Record<string, string>> {
  return withClient(url, { role: 'admin' }, async (c) => {
    const out: Record<string, string> = {};
    for (const t of tables) {
      const { rows } = await c.query<{ h: string | null; n: string }>(`SELECT count(*) AS n, md5(string_agg(md5(r::text), ',' ORDER BY md5(r::text))) AS h FROM ${t} r`);
      out[t] = `${rows[0]!.n}:${rows[0]!.h ?? ''}`;
    }
    return out;
  });
}

describe('RLS corpus: translate (compat) and verify, 318 policies', () => {
  for (const file of corpusFiles()) {
    it(`${file}`, async () => {
      const source = await emptySourceDatabase();
      const target = await emptyTargetDatabase();
      try {
        const load = await loadCorpusFile(source.adminUrl, file);
        await generateCorpusData(source.adminUrl, load.createdTables);
        const tables = [...load.createdTables, 'auth.users', 'storage.objects'];
        const before = await sourceDigest(source.adminUrl, tables);
        const run = await runCorpusFile(load, source.adminUrl, target.adminUrl);
        runs.push(run);
        expect(run.failure, 'copy, translate or verify threw').toBeUndefined();
        expect(await sourceDigest(source.adminUrl, tables)).toEqual(before);
        // Independently of the tool's report: what it says it installed is on the target.
        const installed = run.policies.filter((p) => p.installed);
        const onTarget = await withClient(target.adminUrl, { role: 'admin' }, async (c) =>
          (await c.query<{ k: string }>(`SELECT schemaname || '.' || tablename || ' ' || policyname AS k FROM pg_policies`)).rows.map((r) => r.k));
        expect(installed.map((p) => `${p.table} ${p.name}`).filter((k) => !onTarget.includes(k))).toEqual([]);
      } finally {
        await Promise.all([source.drop(), target.drop()]);
      }
    }, 300_000);
  }

  it('meets the targets: all classified with a reason, ≥ 95 % installed, 100 % of those verified equal', () => {
    expect(runs).toHaveLength(corpusFiles().length);
    const all = runs.flatMap((r) => r.policies);
    const totals = corpusTotals(all);
    expect(totals.statements).toBe(318);
    expect(totals.loaded).toBe(318);
    expect(all.filter((p) => !p.class || p.reasons.length === 0).map((p) => `${p.file} ${p.table} ${p.name}: ${p.why}`)).toEqual([]);
    expect(totals.installed / totals.statements).toBeGreaterThanOrEqual(0.95);
    expect(all.filter((p) => p.installed && !p.verifiedEqual).map((p) => `${p.file} ${p.table} ${p.name}: ${p.why}`)).toEqual([]);
  });
});
