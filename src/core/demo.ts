/**
 * `offramp demo`: the whole journey on throwaway local servers. A Supabase-shaped source (the
 * fixture, on a server that also offers the stand-ins for platform-only extensions) and a plain
 * PostGIS target are started, every stage that exists runs against them, and a Markdown report
 * is written. Later stages (copy, validate, auth, rls, cutover) add themselves here.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startCluster, type LocalCluster } from '../db/local-cluster.js';
import { loadFixture, type FixtureSummary } from '../fixture/load.js';
import { inStep, type Progress } from '../output/progress.js';
import { maskUrl } from '../secrets.js';
import { doctor } from './doctor/index.js';
import { inspect } from './inspect/index.js';
import { renderInspectMarkdown } from './inspect/render.js';
import { renderCopyMarkdown, renderDoctorMarkdown } from './demo-render.js';
import { copyDatabase, copyOptions } from './move/copy.js';
import { renderValidateMarkdown, validate } from './validate/index.js';
import { runCutoverDemo, type CutoverDemoResult } from './runbook/demo.js';
import { rlsDemoSummary, runRlsDemo } from './rls/demo.js';
import type { RlsTranslation } from './rls/types.js';
import { verifyRls } from './rls/verify.js';
import { renderRlsVerifyMarkdown } from './rls/verify-render.js';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';

export interface DemoOptions {
  scale: number;
  keep: boolean;
  reportFile: string;
}

export interface DemoStage {
  name: string;
  ok: boolean;
  seconds: number;
  summary: string;
}

export interface DemoResult {
  ok: boolean;
  source: string;
  target: string;
  kept: boolean;
  fixture: FixtureSummary;
  stages: DemoStage[];
  inspect: Awaited<ReturnType<typeof inspect>>;
  doctor: Awaited<ReturnType<typeof doctor>>;
  copy?: Awaited<ReturnType<typeof copyDatabase>>;
  rls?: RlsTranslation;
  validate?: Awaited<ReturnType<typeof validate>>;
  cutover?: CutoverDemoResult;
  rlsVerify?: Awaited<ReturnType<typeof verifyRls>>;
  reportFile: string;
}

async function timed<T>(stages: DemoStage[], name: string, fn: () => Promise<T>, summarize: (v: T) => { ok: boolean; summary: string }): Promise<T> {
  const started = performance.now();
  const value = await fn();
  stages.push({ name, seconds: Math.round((performance.now() - started) / 100) / 10, ...summarize(value) });
  return value;
}

/** Embed a stand-alone report as a section: every heading one level deeper. */
function demoteHeadings(markdown: string): string {
  return markdown.replace(/^(#{1,5}) /gm, '#$1 ');
}

export async function runDemo(options: DemoOptions, progress: Progress): Promise<DemoResult> {
  const clusters: LocalCluster[] = [];
  const stages: DemoStage[] = [];
  try {
    const [source, target] = await inStep(progress, 'start a Supabase-shaped source and a PostGIS target', () =>
      Promise.all([startCluster({ flavour: 'supabase' }), startCluster({ flavour: 'system' })]).then((cs) => {
        clusters.push(...cs);
        return cs;
      }),
    );
    const sourceUrl = source!.url; // the project database is "postgres", as on Supabase
    const targetUrl = await target!.createDatabase('app');

    const fixture = await timed(stages, 'fixture', () => loadFixture(sourceUrl, { scale: options.scale, progress }), (f) => ({
      ok: true,
      summary: `scale ${f.scale}: ${Object.entries(f.counts).map(([t, n]) => `${n} ${t}`).join(', ')}`,
    }));
    const inventory = await timed(stages, 'inspect', () => inspect({ source: sourceUrl, connectTimeoutSeconds: 10, platform: 'auto' }, progress), (r) => ({
      ok: true,
      summary: `${r.tables.length} tables, ${r.findings.length} findings`,
    }));
    const preflight = await timed(stages, 'doctor', () => doctor({ source: sourceUrl, target: targetUrl, connectTimeoutSeconds: 10, skipDisk: false }, progress), (r) => ({
      ok: r.summary.fail === 0,
      summary: `${r.summary.pass} pass, ${r.summary.warn} warn, ${r.summary.fail} fail, ${r.summary.skip} skip`,
    }));

    // The copy runs only on a clean preflight, as an engineer would.
    let copied: DemoResult['copy'];
    const workDir = mkdtempSync(join(tmpdir(), 'offramp-demo-'));
    if (preflight.summary.fail === 0) {
      copied = await timed(stages, 'copy', () => copyDatabase(copyOptions(sourceUrl, targetUrl, {
        jobs: Math.min(4, availableParallelism()), workDir,
      }), progress), (r) => ({
        ok: r.ok,
        summary: `${r.totals.tables} tables, ${r.totals.rows} rows in ${r.totals.seconds} s; ${r.deferred.length} objects deferred to the auth/RLS stages`,
      }));
    }

    // RLS stays in the database: the policies and the compatibility layer installed (once the
    // target has its users table from the auth stage; before that, classified and reported only).
    let rls: DemoResult['rls'];
    if (copied) rls = await timed(stages, 'rls translate', () => runRlsDemo(sourceUrl, targetUrl, workDir, progress), rlsDemoSummary);

    // Prove the copy: counts, content hashes and the schema diff, with what copy deferred as expected.
    let validated: DemoResult['validate'];
    if (copied) {
      validated = await timed(stages, 'validate', () => validate({ source: sourceUrl, target: targetUrl, mode: 'full', jobs: 2 }, progress), (r) => ({
        ok: r.summary.ok,
        summary: `${r.summary.tablesOk}/${r.summary.tables} tables equal (${r.summary.rowsTarget} rows), ${r.summary.schemaFailures} schema failures, ${r.summary.schemaExpected} expected differences`,
      }));
    }

    // Prove the RLS translation once the rls translate stage installed the compat layer: every
    // principal sees and may write the same rows on both sides (write probes rolled back).
    let rlsVerified: DemoResult['rlsVerify'];
    if (validated && rls?.installed) {
      rlsVerified = await timed(stages, 'rls verify', () => verifyRls({
        source: sourceUrl, target: targetUrl, mode: 'compat', principals: { anon: true, serviceRole: true, users: 5 },
        seed: 1, sampleRows: 2, workDir: mkdtempSync(join(tmpdir(), 'offramp-demo-rls-')),
      }, progress), (r) => ({
        ok: r.summary.ok,
        summary: `${r.summary.tables} tables × ${r.summary.principals} principals: ${r.summary.equal} checks equal, ${r.summary.different} different, ${r.summary.skipped} skipped`,
      }));
    } else if (validated) {
      stages.push({ name: 'rls verify', ok: true, seconds: 0, summary: 'skipped: the rls translate stage installed nothing (the target has no auth.users yet)' });
    }

    // Rehearse the switch: the shipped runbook planned, a local one run with --dry-run.
    let cutover: CutoverDemoResult | undefined;
    if (validated) {
      cutover = await timed(stages, 'cutover', () => runCutoverDemo({ source: sourceUrl, target: targetUrl }, progress), (r) => ({
        ok: r.dryRun.ok,
        summary: `plan: ${r.plan.phases.reduce((n, p) => n + p.steps.length, 0)} steps in ${r.plan.phases.length} phases; dry run: ${r.dryRun.steps.filter((s) => s.status === 'passed').length} checks passed, ${r.dryRun.steps.filter((s) => s.status === 'dry-run').length} changes described`,
      }));
    }

    const reportFile = resolve(options.reportFile);
    const markdown = [
      '# offramp demo report',
      '',
      `Source: ${maskUrl(sourceUrl)} (throwaway, Supabase-shaped fixture at scale ${options.scale})  `,
      `Target: ${maskUrl(targetUrl)} (throwaway, PostgreSQL + PostGIS)`,
      '',
      '| stage | ok | seconds | summary |',
      '| --- | --- | --- | --- |',
      ...stages.map((s) => `| ${s.name} | ${s.ok ? 'yes' : 'no'} | ${s.seconds} | ${s.summary} |`),
      '',
      demoteHeadings(renderInspectMarkdown(inventory)),
      '',
      renderDoctorMarkdown(preflight),
      ...(copied ? ['', renderCopyMarkdown(copied)] : []),
      ...(rls ? ['', demoteHeadings(rls.report)] : []),
      ...(validated ? ['', demoteHeadings(renderValidateMarkdown(validated))] : []),
      ...(rlsVerified ? ['', demoteHeadings(renderRlsVerifyMarkdown(rlsVerified))] : []),
      ...(cutover ? ['', demoteHeadings(cutover.markdown)] : []),
    ].join('\n');
    writeFileSync(reportFile, markdown);

    return {
      ok: stages.every((s) => s.ok),
      source: maskUrl(sourceUrl),
      target: maskUrl(targetUrl),
      kept: options.keep,
      fixture,
      stages,
      inspect: inventory,
      doctor: preflight,
      copy: copied,
      rls,
      validate: validated,
      cutover,
      ...(rlsVerified ? { rlsVerify: rlsVerified } : {}),
      reportFile,
    };
  } finally {
    if (!options.keep) await Promise.all(clusters.map((c) => c.stop()));
    else for (const c of clusters) progress.log('info', `kept server on port ${c.port}, data directory ${c.dataDir} (stop: pg_ctl -D ${c.dataDir} stop)`);
  }
}
