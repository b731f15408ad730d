/**
 * `offramp copy`: source → target with no intermediate data files.
 * snapshot → plan → schema dumps (pg_dump --snapshot) → [one transaction: roles, extensions,
 * pre-data] → data (parallel COPY) → sequences → post-data (parallel indexes, FKs last) → ANALYZE.
 * Every step is journaled so that `--resume` can finish after a crash.
 */
import { createHash } from 'node:crypto';
import { existsSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import { connect } from '../../db/connect.js';
import { endClient } from '../../db/sessions.js';
import { databaseIdentity } from '../../db/identity.js';
import { exportSnapshot, snapshotAlive, type SnapshotHolder } from '../../db/snapshot.js';
import { loadSql, query } from '../../db/sql.js';
import { parseConnectionUrl, type ConnectionInfo } from '../../db/url.js';
import { UsageError } from '../../errors.js';
import { inStep, type Progress } from '../../output/progress.js';
import { VERSION } from '../../version.js';
import type { DeferredObject } from './apply-schema.js';
import { analyzeTasks, finishLoad, indexTasks, pipelineWatcher, targetSessionSql, timedPhase, topTen } from './finish.js';
import { abortCopyWorker, closeCopyWorker, copyUnitTasks, DataProgress, openCopyWorker, type CopyFormat, type CopyWorker, type TableCopyResult } from './copy-data.js';
import { planPostData } from './apply-schema.js';
import { runLoadPipeline } from './pipeline.js';
import { Journal, journalState, type JournalState } from './journal.js';
import { buildPlan, type MovePlan } from './plan.js';
import { applySchema, collectSchema, summarizeSchema, type SchemaSummary } from './schema-stage.js';
import { acquireCopyLock, existingUserTables, refuseNonEmpty } from './target-prep.js';

export interface CopyOptions {
  source: string;
  target: string;
  jobs: number;
  platform: 'auto' | 'supabase' | 'postgres';
  schemas: string[];
  excludeSchemas: string[];
  excludeTables: string[];
  extensionsSchema: string;
  ownerMap: Record<string, string>;
  workDir: string;
  yes: boolean;
  clean: boolean;
  resume: boolean;
  format: 'auto' | CopyFormat;
  splitBytes: number;
  connectTimeoutSeconds: number;
  analyze: boolean;
}

/** What `offramp copy` does unless told otherwise (the command fills these from config and flags). */
export const COPY_DEFAULTS: Omit<CopyOptions, 'source' | 'target'> = {
  jobs: 2, platform: 'auto', schemas: [], excludeSchemas: [], excludeTables: [], extensionsSchema: 'extensions', ownerMap: {},
  workDir: '.offramp', yes: false, clean: false, resume: false, format: 'auto', splitBytes: 2 * 1024 ** 3,
  connectTimeoutSeconds: 10, analyze: true,
};

/** Copy options for library callers (demo, tests): the defaults, a source, a target, and changes. */
export function copyOptions(source: string, target: string, changes: Partial<CopyOptions> = {}): CopyOptions {
  return { ...COPY_DEFAULTS, source, target, ...changes };
}

export interface CopyResult {
  ok: boolean;
  /** false when a resumed copy could not keep the original snapshot: run validate. */
  consistent: boolean;
  resumed: boolean;
  snapshot: string;
  platform: MovePlan['platform'];
  source: string;
  target: string;
  format: CopyFormat;
  jobs: number;
  schemas: string[];
  excludedSchemas: string[];
  tables: Array<TableCopyResult & { status: 'copied' | 'done-before-resume' }>;
  totals: { tables: number; rows: number; bytes: number; seconds: number; mbPerSecond: number };
  phases: Array<{ name: string; seconds: number }>;
  /** The ten longest pipeline tasks (copy units, index builds, ANALYZE): where the time went. */
  slowest: Array<{ task: string; seconds: number }>;
  schema: SchemaSummary;
  deferred: DeferredObject[];
  sequences: number;
  journal: string;
  deferredFile?: string;
  warnings: string[];
}

export function journalPathFor(workDir: string, target: ConnectionInfo): string {
  const key = createHash('sha256').update(`${target.host}:${target.port}/${target.database}`).digest('hex').slice(0, 12);
  return resolve(workDir, `copy-${target.database.replace(/[^A-Za-z0-9_-]/g, '_')}-${key}.journal.ndjson`);
}

export async function copyDatabase(options: CopyOptions, progress: Progress): Promise<CopyResult> {
  const source = parseConnectionUrl(options.source, 'source URL');
  const target = parseConnectionUrl(options.target, 'target URL');
  const started = performance.now();
  const phases: CopyResult['phases'] = [];
  const warnings: string[] = [];
  const journalPath = journalPathFor(options.workDir, target);
  let previous: JournalState | undefined;
  if (options.resume) {
    previous = journalState(Journal.read(journalPath));
    if (!previous.started) throw new UsageError(`there is no interrupted copy to resume into ${target.masked}`, { hint: `no journal at ${journalPath}; run offramp copy without --resume` });
    if (previous.finished) throw new UsageError(`the copy into ${target.masked} already finished`, { hint: 'run offramp validate, or copy again with --yes to replace it' });
  }

  const control = await connect(target, { role: 'target', timeoutSeconds: options.connectTimeoutSeconds, applicationName: 'offramp-copy' });
  let holder: SnapshotHolder | undefined;
  let journal: Journal | undefined;
  try {
    let consistent = true;
    const sourceProbe = await connect(source, { role: 'source', timeoutSeconds: options.connectTimeoutSeconds });
    try {
      // Compared by identity, not URL: another host name or a pooler can reach the same database.
      if ((await databaseIdentity(sourceProbe)) === (await databaseIdentity(control))) {
        throw new UsageError('the source and the target are the same database', { hint: 'point --target at the self-hosted server' });
      }
      await acquireCopyLock(control, target.masked);
      // On resume: the old snapshot if its exporter still holds it; otherwise a new one, marked inconsistent.
      if (previous?.snapshot && (await snapshotAlive(sourceProbe, previous.snapshot))) {
        warnings.push('the original snapshot is still held: the resumed copy stays consistent');
      } else if (previous) {
        consistent = false;
        warnings.push('the original snapshot is gone (its holder ended): the resumed copy mixes two moments of the source; run offramp validate');
      }
    } finally {
      await sourceProbe.end().catch(() => {});
    }
    const [{ v: targetVersion }] = (await query<{ v: string }>(control, `SELECT current_setting('server_version_num') AS v`)) as [{ v: string }];
    holder = await exportSnapshot(source, options.connectTimeoutSeconds);
    const snapshot = holder.id;

    const plan = await timedPhase(phases, 'plan', () => inStep(progress, 'read the source catalog', () =>
      buildPlan(holder!.client, options)));

    // --clean drops what the last offramp copy into this target loaded (its journal says which
    // schemas), so a rehearsal can be repeated without touching anything else in the database.
    let dropFirst: string[] = [];
    if (options.clean) {
      const earlier = Journal.read(journalPath).find((r) => r.type === 'start');
      if (!earlier || earlier.type !== 'start') {
        throw new UsageError(`--clean found no earlier offramp copy into ${target.masked} (no journal at ${journalPath})`, {
          hint: 'use --yes to replace what the target holds, or point --work-dir at the directory the earlier copy used',
        });
      }
      dropFirst = [...new Set([...earlier.plan.tables.map((t) => t.split('.')[0]!), ...plan.schemas])];
    } else if (options.yes) {
      dropFirst = plan.schemas;
    }
    if (!previous) {
      const existing = await existingUserTables(control);
      if (existing.length > 0 && dropFirst.length === 0) refuseNonEmpty(existing, target.database);
      if (existsSync(journalPath)) renameSync(journalPath, `${journalPath}.${Date.now()}.old`);
    }
    journal = Journal.open(journalPath);
    journal.append(previous
      ? { type: 'resume', snapshot, consistent }
      : { type: 'start', version: VERSION, snapshot, source: source.masked, target: target.masked, plan: { tables: plan.tables.map((t) => t.display), units: plan.units.length } });

    const sameMajor = Math.floor(plan.serverVersionNum / 10000) === Math.floor(Number(targetVersion) / 10000);
    const format: CopyFormat = options.format === 'auto' ? (sameMajor ? 'binary' : 'text') : options.format;

    const schemaOutcome = await timedPhase(phases, 'schema', () => inStep(progress, 'roles, extensions and pre-data', async () => {
      const bundle = await collectSchema(source, holder!.client, snapshot, plan);
      return applySchema({
        bundle, plan, control, extensionsSchema: options.extensionsSchema, ownerMap: options.ownerMap,
        dropFirst: previous ? [] : dropFirst, skipPreData: Boolean(previous?.phasesDone.has('pre-data')),
      });
    }));
    if (!previous?.phasesDone.has('pre-data')) journal.append({ type: 'phase-done', phase: 'pre-data' });
    if (schemaOutcome.extensions.some((e) => e.action !== 'skipped' && e.version && plan.extensions.find((p) => p.name === e.name)?.version !== e.version)) {
      if (format === 'binary' && options.format === 'auto') warnings.push('extension versions differ between source and target; binary COPY of their types relies on stable send/receive formats');
    }

    // Data, index builds and ANALYZE in one pipeline. Tables finished before a crash are skipped;
    // interrupted ones are emptied and copied again.
    const done = previous?.tablesDone ?? new Map<string, number>();
    const units = plan.units.filter((u) => !done.has(u.table.display));
    const truncateFirst = new Set(previous ? units.map((u) => u.table.display) : []);
    const postPlan = planPostData(schemaOutcome.postData, plan.partitioned, new Map(plan.tables.map((t) => [t.qualified, t.bytes])));
    const postContext = {
      target, preamble: targetSessionSql(schemaOutcome.preamble, options.jobs), jobs: options.jobs, timeoutSeconds: options.connectTimeoutSeconds,
      resuming: Boolean(previous), leftBehind: plan.excludedSchemas,
    };
    const deferredInPipeline: DeferredObject[] = [];
    let slowest: Array<{ task: string; seconds: number }> = [];
    const copied = await timedPhase(phases, 'data+indexes', () => inStep(progress, `copy data, build indexes (${options.jobs} jobs, ${format})`, async (step) => {
      const dataProgress = new DataProgress(units.map((u) => ({ table: u.table.display, bytes: u.bytes })), step);
      const indexes = indexTasks(postPlan, (w: CopyWorker) => w.tgt, postContext, deferredInPipeline);
      const analyze = options.analyze ? analyzeTasks(plan, (w: CopyWorker) => w.tgt) : [];
      const watch = pipelineWatcher(step, dataProgress, indexes.length + analyze.length);
      slowest = watch.slowest;
      await runLoadPipeline<CopyWorker>({
        jobs: options.jobs,
        open: () => openCopyWorker(source, target, snapshot, options.connectTimeoutSeconds, postContext.preamble),
        close: closeCopyWorker,
        abort: abortCopyWorker,
        data: copyUnitTasks(units, { format, journal: journal!, progress: dataProgress, truncateFirst }),
        indexes,
        analyze,
        onDone: watch.onDone,
      });
      return dataProgress.results();
    }));

    const sequenceRows = await query<{ name: string; last_value: string | null }>(holder.client, loadSql('move/sequences.sql'), [plan.schemas], 'read sequences');
    await holder.release();
    holder = undefined;
    const { deferred, deferredFile } = await finishLoad({
      target, control, plan, schema: schemaOutcome, postPlan, postContext, deferredSoFar: deferredInPipeline, sequences: sequenceRows,
      analyze: options.analyze, workDir: options.workDir, phases, progress,
    }, () => journal!.append({ type: 'phase-done', phase: 'post-data' }));
    journal.append({ type: 'finished', ok: true });

    const tables = [
      ...copied.map((t) => ({ ...t, status: 'copied' as const })),
      ...[...done.entries()].map(([table, rows]) => ({ table, rows, bytes: 0, seconds: 0, status: 'done-before-resume' as const })),
    ].sort((a, b) => a.table.localeCompare(b.table));
    const seconds = (performance.now() - started) / 1000;
    const bytes = tables.reduce((s, t) => s + t.bytes, 0);
    return {
      ok: true,
      consistent,
      resumed: Boolean(previous),
      snapshot,
      platform: plan.platform,
      source: source.masked,
      target: target.masked,
      format,
      jobs: options.jobs,
      schemas: plan.schemas,
      excludedSchemas: plan.excludedSchemas,
      tables,
      totals: { tables: tables.length, rows: tables.reduce((s, t) => s + t.rows, 0), bytes, seconds: Math.round(seconds * 100) / 100, mbPerSecond: Math.round((bytes / 1048576 / Math.max(seconds, 0.001)) * 10) / 10 },
      phases,
      slowest: topTen(slowest),
      schema: summarizeSchema(schemaOutcome),
      deferred,
      sequences: sequenceRows.length,
      journal: journalPath,
      deferredFile,
      warnings,
    };
  } finally {
    journal?.close();
    if (holder) await holder.release();
    await endClient(control);
  }
}
