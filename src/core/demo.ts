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
import { makeDashboardBackup, type DashboardBackup } from './demo-backup.js';
import { restoreFrom, type BackupRestoreResult } from './backup/restore-backup.js';
import { authMigrate, type AuthMigrateResult } from './auth/migrate.js';
import { rlsDemoSummary, runRlsDemo } from './rls/demo.js';
import type { RlsTranslation } from './rls/types.js';
import { verifyRls } from './rls/verify.js';
import { renderRlsVerifyMarkdown } from './rls/verify-render.js';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface DemoOptions {
  scale: number;
  keep: boolean;
  reportFile: string;
  /** Move through a dashboard-style backup file (pg_dumpall, gzip) and restore --from it, instead of a live copy. */
  fromBackup?: boolean;
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
  /** --from-backup: the backup file made, and what restore --from made of it. */
  backup?: DashboardBackup & { restore: BackupRestoreResult };
  rls?: RlsTranslation;
  validate?: Awaited<ReturnType<typeof validate>>;
  cutover?: CutoverDemoResult;
  auth?: AuthMigrateResult;
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

/** --from-backup: back the source up as the dashboard does, then restore --from that file into the target. */
async function backupStages(stages: DemoStage[], source: LocalCluster, targetUrl: string, keep: boolean, progress: Progress): Promise<NonNullable<DemoResult['backup']>> {
  const dir = mkdtempSync(join(tmpdir(), 'offramp-demo-backup-'));
  // The file holds the cluster's role password hashes: it goes with the servers unless --keep.
  try {
    const made = await timed(stages, 'backup', () => inStep(progress, 'back up the source as the dashboard does (pg_dumpall | gzip)', () => makeDashboardBackup(source, dir)), (b) => ({
      ok: true, summary: `${b.file.split('/').pop()}, ${b.bytes} bytes`,
    }));
    const restore = await timed(stages, 'restore --from', () => restoreFrom({
      from: [made.file], target: targetUrl, jobs: Math.min(4, availableParallelism()), extensionsSchema: 'extensions', ownerMap: {},
      workDir: mkdtempSync(join(tmpdir(), 'offramp-demo-')), yes: false, connectTimeoutSeconds: 10, analyze: true,
    }, progress) as Promise<BackupRestoreResult>, (r) => ({
      ok: r.ok,
      summary: `${r.kind}: ${r.load.applied} statements loaded, ${r.load.deferred.length} left behind; ${r.copy.totals.tables} tables, ${r.copy.totals.rows} rows copied on`,
    }));
    return { ...made, restore };
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** The auth stage: Supabase Auth's users into the target (`keep` layout), and its report section. */
async function authDemoStage(stages: DemoStage[], source: string, target: string, progress: Progress): Promise<{ result: AuthMigrateResult; markdown: string }> {
  const result = await timed(stages, 'auth', () => authMigrate({
    source, target, layout: { kind: 'keep' }, includeSessions: true, includeMfa: true,
    workDir: mkdtempSync(join(tmpdir(), 'offramp-demo-auth-')), yes: false, connectTimeoutSeconds: 10,
  }, progress), (r) => ({
    ok: true,
    summary: `${r.users.inserted + r.users.updated + r.users.unchanged} users and ${r.identities.source} identities in ${r.usersTable}; ${r.sessions.source} sessions, ${r.mfa.source} MFA factors carried; ${r.objects.length} deferred objects handled`,
  }));
  const row = (name: string, t: { source: number; inserted: number; updated: number; unchanged: number }): string =>
    `| ${name} | ${t.source} | ${t.inserted} | ${t.updated} | ${t.unchanged} |`;
  const markdown = [
    '## Auth', '',
    `Layout \`${result.layout.kind}\`: ${result.usersTable}, ${result.identitiesTable}. Left behind (GoTrue internals): ${result.leftBehindColumns.join(', ')}.`, '',
    '| table | source | inserted | updated | unchanged |', '| --- | --- | --- | --- | --- |',
    row('users', result.users), row('identities', result.identities),
    ...(result.sessions.counts ? [row('sessions', result.sessions.counts)] : []),
    ...(result.refreshTokens.counts ? [row('refresh tokens', result.refreshTokens.counts)] : []),
    ...(result.mfa.counts ? [row('MFA factors', result.mfa.counts)] : []),
  ].join('\n');
  return { result, markdown };
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
    let backup: DemoResult['backup'];
    const workDir = mkdtempSync(join(tmpdir(), 'offramp-demo-'));
    if (preflight.summary.fail === 0 && options.fromBackup) {
      backup = await backupStages(stages, source!, targetUrl, options.keep, progress);
      copied = backup.restore.copy;
    } else if (preflight.summary.fail === 0) {
      copied = await timed(stages, 'copy', () => copyDatabase(copyOptions(sourceUrl, targetUrl, {
        jobs: Math.min(4, availableParallelism()), workDir,
      }), progress), (r) => ({
        ok: r.ok,
        summary: `${r.totals.tables} tables, ${r.totals.rows} rows in ${r.totals.seconds} s; ${r.deferred.length} objects deferred to the auth/RLS stages`,
      }));
    }

    // Move the users (keep layout) before RLS, whose policies and compatibility layer need them, and
    // before validate, which then compares auth.users/auth.identities with their local copies too.
    let auth: Awaited<ReturnType<typeof authDemoStage>> | undefined;
    if (copied) auth = await authDemoStage(stages, sourceUrl, targetUrl, progress);

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
      ...(backup ? ['', `## Backup file (offramp demo --from-backup)`, '', `${backup.file} (${backup.bytes} bytes, pg_dumpall | gzip): restored with offramp restore --from; ${backup.restore.load.deferred.length} statements left behind by the load, ${backup.restore.load.roles.passwordsFound} role passwords found and not applied.`] : []),
      ...(copied ? ['', renderCopyMarkdown(copied)] : []),
      ...(auth ? ['', auth.markdown] : []),
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
      ...(backup ? { backup } : {}),
      rls,
      validate: validated,
      cutover,
      auth: auth?.result,
      ...(rlsVerified ? { rlsVerify: rlsVerified } : {}),
      reportFile,
    };
  } finally {
    if (!options.keep) await Promise.all(clusters.map((c) => c.stop()));
    else for (const c of clusters) progress.log('info', `kept server on port ${c.port}, data directory ${c.dataDir} (stop: pg_ctl -D ${c.dataDir} stop)`);
  }
}
