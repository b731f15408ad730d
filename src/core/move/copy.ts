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
import { abortCopyWorker, closeCopyWorker, copyUnitTasks, DataProgress, openCopyWorker, resetInterruptedTables, type CopyFormat, type CopyWorker, type TableCopyResult } from './copy-data.js';
import { planPostData } from './apply-schema.js';
import { runLoadPipeline } from './pipeline.js';
import { Journal, journalState, type JournalState } from './journal.js';
import { buildPlan, readSequences, type MovePlan } from './plan.js';
import { applySchema, collectSchema, extensionsRewrite, summarizeSchema, type SchemaSummary } from './schema-stage.js';
import { acquireCopyLock } from './target-prep.js';
import { parseDump } from './dump-sql.js';
import { describeObject, plannedFromTableNames, plannedObjects, planReplacement, type PlannedObject, type ReplacementInput } from './replace.js';
import { refuseDifferentCopy, replacementFor, selectionOf } from './resume.js';
import { refuseUnpreparedTarget } from './preflight.js';

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
  /** Target objects dropped and created again before the data landed (--yes, --clean): what the confirmation covered. */
  replaced: string[];
  /** --clean: objects the earlier copy made that were dropped and not created again (the source no longer has them). */
  cleaned: string[];
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

/** --clean: what the last offramp copy into this target created, from its journal's start record. */
function earlierCopyObjects(journalPath: string, targetLabel: string): PlannedObject[] {
  const earlier = Journal.read(journalPath).find((r) => r.type === 'start');
  if (!earlier || earlier.type !== 'start') {
    throw new UsageError(`--clean found no earlier offramp copy into ${targetLabel} (no journal at ${journalPath})`, {
      hint: 'use --yes to replace what the target holds, or point --work-dir at the directory the earlier copy used',
    });
  }
  // Journals of earlier offramp versions recorded table names only.
  return earlier.objects ?? plannedFromTableNames(earlier.plan.tables);
}

function unionObjects(a: PlannedObject[], b: PlannedObject[]): PlannedObject[] {
  const seen = new Set<string>();
  return [...a, ...b].filter((o) => {
    const key = JSON.stringify([o.type, o.schema, o.name]);
    return seen.has(key) ? false : (seen.add(key), true);
  });
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
    let sourceIdentity: string;
    const selection = selectionOf(options);
    const sourceProbe = await connect(source, { role: 'source', timeoutSeconds: options.connectTimeoutSeconds });
    try {
      // Compared by identity, not URL: another host name or a pooler can reach the same database.
      sourceIdentity = await databaseIdentity(sourceProbe);
      if (sourceIdentity === (await databaseIdentity(control))) {
        throw new UsageError('the source and the target are the same database', { hint: 'point --target at the self-hosted server' });
      }
      if (previous) refuseDifferentCopy(previous, sourceIdentity, selection);
      await acquireCopyLock(control, target.masked);
      // On resume: the old snapshot if its exporter still holds it (and no earlier resume had to
      // give it up); otherwise a new one, marked inconsistent.
      if (previous?.snapshot && previous.consistent && (await snapshotAlive(sourceProbe, previous.snapshot))) {
        warnings.push('the original snapshot is still held: the resumed copy stays consistent');
      } else if (previous) {
        consistent = false;
        warnings.push('the original snapshot is gone (its holder ended): the resumed copy mixes two moments of the source; run offramp validate');
      }
    } finally {
      await sourceProbe.end().catch(() => {});
    }
    // Before anything is written: what doctor predicts would fail on this target refuses the copy (exit 5).
    if (!previous) {
      await refuseUnpreparedTarget({
        source: options.source, target: options.target, connectTimeoutSeconds: options.connectTimeoutSeconds, jobs: options.jobs,
        extensionsSchema: options.extensionsSchema, ownerMap: options.ownerMap,
      }, progress);
    }
    const [{ v: targetVersion }] = (await query<{ v: string }>(control, `SELECT current_setting('server_version_num') AS v`)) as [{ v: string }];
    holder = await exportSnapshot(source, options.connectTimeoutSeconds);
    const snapshot = holder.id;

    const plan = await timedPhase(phases, 'plan', () => inStep(progress, 'read the source catalog', () =>
      buildPlan(holder!.client, options)));
    warnings.push(...plan.warnings);

    // The schema dump comes first: what --yes/--clean replace is decided from its entries, before
    // the journal is touched (a refused run leaves the earlier copy's journal as it was).
    const bundle = await timedPhase(phases, 'schema-dump', () => inStep(progress, 'dump the schema (pg_dump, in the snapshot)', () =>
      collectSchema(source, holder!.client, snapshot, plan)));
    const planned = plannedObjects((await parseDump(bundle.preData)).entries, extensionsRewrite(plan, options.extensionsSchema));
    // What pre-data replaces: a fresh run's flags; a resume whose pre-data never committed (one
    // transaction, rolled back by the kill) redoes exactly the interrupted run's replacement.
    const asked = replacementFor(previous, { yes: options.yes, clean: options.clean && !previous ? earlierCopyObjects(journalPath, target.masked) : undefined });
    let replacement: { input: ReplacementInput; confirmed: string[] } | undefined;
    if (!previous?.phasesDone.has('pre-data')) {
      const input: ReplacementInput = { planned, yes: asked.yes, clean: asked.clean, database: target.database, canClean: true };
      const confirmed = (await planReplacement(control, input)).map(describeObject);
      replacement = { input, confirmed };
    }
    if (!previous && existsSync(journalPath)) renameSync(journalPath, `${journalPath}.${Date.now()}.old`);
    journal = Journal.open(journalPath);
    journal.append(previous
      ? { type: 'resume', snapshot, consistent }
      : {
        type: 'start', version: VERSION, snapshot, source: source.masked, target: target.masked, plan: { tables: plan.tables.map((t) => t.display), units: plan.units.length },
        // What may be on the target from offramp after this run: what it creates, and with --clean
        // what the earlier copy created (if this run fails, a later --clean still knows both).
        objects: unionObjects(planned, replacement?.input.clean ?? []),
        sourceIdentity, selection, replace: asked,
      });

    const sameMajor = Math.floor(plan.serverVersionNum / 10000) === Math.floor(Number(targetVersion) / 10000);
    const format: CopyFormat = options.format === 'auto' ? (sameMajor ? 'binary' : 'text') : options.format;

    const schemaOutcome = await timedPhase(phases, 'schema', () => inStep(progress, 'roles, extensions and pre-data', () =>
      applySchema({
        bundle, plan, control, extensionsSchema: options.extensionsSchema, ownerMap: options.ownerMap,
        replace: replacement, skipPreData: Boolean(previous?.phasesDone.has('pre-data')),
      })));
    warnings.push(...schemaOutcome.warnings);
    if (previous?.phasesDone.has('pre-data')) {
      // Pre-data is not replayed: what it deferred comes from the journal, so the deferred file stays whole.
      schemaOutcome.deferred = previous.preDataDeferred;
    } else {
      journal.append({ type: 'pre-data-deferred', objects: schemaOutcome.deferred });
      journal.append({ type: 'phase-done', phase: 'pre-data' });
    }
    if (schemaOutcome.extensions.some((e) => e.action !== 'skipped' && e.version && plan.extensions.find((p) => p.name === e.name)?.version !== e.version)) {
      if (format === 'binary' && options.format === 'auto') warnings.push('extension versions differ between source and target; binary COPY of their types relies on stable send/receive formats');
    }

    // Data, index builds and ANALYZE in one pipeline. Tables finished before a crash are skipped;
    // interrupted ones are emptied (all at once, before any unit runs) and copied again.
    const done = previous?.tablesDone ?? new Map<string, number>();
    const units = plan.units.filter((u) => !done.has(u.table.display));
    if (previous) await resetInterruptedTables(control, [...new Map(units.map((u) => [u.table.display, u.table])).values()]);
    const postPlan = planPostData(schemaOutcome.postData, plan.partitioned, new Map(plan.tables.map((t) => [t.qualified, t.bytes])));
    const postContext = {
      target, preamble: targetSessionSql(schemaOutcome.preamble, options.jobs), jobs: options.jobs, timeoutSeconds: options.connectTimeoutSeconds,
      resuming: Boolean(previous), leftBehind: plan.excludedSchemas,
      finishHint: 'The journal is kept: fix the cause, then `offramp copy --resume` (same flags) finishes post-data.',
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
        data: copyUnitTasks(units, { format, journal: journal!, progress: dataProgress }),
        indexes,
        analyze,
        onDone: watch.onDone,
      });
      return dataProgress.results();
    }));

    const sequenceRows = await readSequences(holder.client, plan);
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
      replaced: schemaOutcome.replaced,
      cleaned: schemaOutcome.cleaned,
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
