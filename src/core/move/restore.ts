/**
 * `offramp restore`: load a dump artifact into the target. Every checksum is verified before the
 * target is touched; then the same steps as copy: roles, extensions, pre-data (one transaction),
 * data in parallel, sequences, post-data, ANALYZE. A dump can be restored any number of times.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connect } from '../../db/connect.js';
import { databaseIdentity } from '../../db/identity.js';
import { query } from '../../db/sql.js';
import { parseConnectionUrl } from '../../db/url.js';
import { UsageError } from '../../errors.js';
import { inStep, type Progress } from '../../output/progress.js';
import type { DeferredObject } from './apply-schema.js';
import { readVerifiedArtifact, type Manifest } from './artifact.js';
import type pg from 'pg';
import { DataProgress, loadFileTasks, type CopyFormat, type TableCopyResult } from './copy-data.js';
import { planPostData } from './apply-schema.js';
import { runLoadPipeline } from './pipeline.js';
import { destroyClient, endClient } from '../../db/sessions.js';
import { postDataSession } from './post-data.js';
import { analyzeTasks, finishLoad, indexTasks, pipelineWatcher, targetSessionSql, timedPhase, topTen, type Phases } from './finish.js';
import type { MovePlan, TablePlan } from './plan.js';
import { applySchema, extensionsRewrite, heldBackOf, summarizeSchema, type SchemaBundle, type SchemaSummary } from './schema-stage.js';
import { acquireCopyLock } from './target-prep.js';
import { parseDump } from './dump-sql.js';
import { describeObject, plannedObjects, planReplacement, type ReplacementInput } from './replace.js';

export interface RestoreOptions {
  from: string;
  target: string;
  jobs: number;
  extensionsSchema: string;
  ownerMap: Record<string, string>;
  workDir: string;
  yes: boolean;
  connectTimeoutSeconds: number;
  analyze: boolean;
}

export interface RestoreResult {
  ok: boolean;
  from: string;
  target: string;
  dumpedAt: string;
  source: string;
  platform: MovePlan['platform'];
  dataFormat: CopyFormat;
  filesVerified: number;
  tables: TableCopyResult[];
  totals: { tables: number; rows: number; bytes: number; seconds: number };
  phases: Phases;
  /** The ten longest pipeline tasks (copy units, index builds, ANALYZE): where the time went. */
  slowest: Array<{ task: string; seconds: number }>;
  schema: SchemaSummary;
  /** Target objects dropped and created again before the data landed (--yes). */
  replaced: string[];
  deferred: DeferredObject[];
  deferredFile?: string;
}

function planFromManifest(m: Manifest): MovePlan {
  return {
    platform: m.plan.platform,
    serverVersionNum: m.source.serverVersionNum,
    schemas: m.plan.schemas,
    excludedSchemas: m.plan.excludedSchemas,
    tables: m.plan.tables as TablePlan[],
    excludedTables: [],
    units: [],
    partitioned: new Set(m.plan.partitioned),
    extensions: m.plan.extensions,
    warnings: [],
  };
}

export async function restoreDatabase(options: RestoreOptions, progress: Progress): Promise<RestoreResult> {
  const target = parseConnectionUrl(options.target, 'target URL');
  const dir = resolve(options.from);
  const started = performance.now();
  const phases: Phases = [];
  let verified = 0;
  const manifest = await timedPhase(phases, 'verify', () => inStep(progress, 'verify the dump (manifest and sha256 of every file)', (step) =>
    readVerifiedArtifact(dir, (file) => step.update(`${++verified} files: ${file}`))));
  const plan = planFromManifest(manifest);
  const meta = JSON.parse(readFileSync(join(dir, 'schema-meta.json'), 'utf8')) as Omit<SchemaBundle, 'preData' | 'postData'> & Parameters<typeof heldBackOf>[0];
  const { authDefaults: _older, ...rest } = meta;
  const bundle: SchemaBundle = { ...rest, heldBack: heldBackOf(meta), preData: readFileSync(join(dir, 'pre-data.sql'), 'utf8'), postData: readFileSync(join(dir, 'post-data.sql'), 'utf8') };

  const control = await connect(target, { role: 'target', timeoutSeconds: options.connectTimeoutSeconds, applicationName: 'offramp-restore' });
  try {
    // By identity, not URL: another host name, port or pooler can reach the very database dumped.
    if (manifest.source.identity !== undefined && manifest.source.identity === (await databaseIdentity(control))) {
      throw new UsageError(`the target ${target.masked} is the database this dump was taken from`, {
        hint: 'point --target at the self-hosted server; restore never writes into the dumped database; nothing was changed',
      });
    }
    if (manifest.source.identity === undefined) progress.log('warn', 'this dump was made by an older offramp that did not record the source database identity: make sure --target is not the dumped database');
    await acquireCopyLock(control, target.masked);
    const [{ v }] = (await query<{ v: string }>(control, `SELECT current_setting('server_version_num') AS v`)) as [{ v: string }];
    const sourceMajor = Math.floor(manifest.source.serverVersionNum / 10000);
    const targetMajor = Math.floor(Number(v) / 10000);
    if (manifest.dataFormat === 'binary' && sourceMajor !== targetMajor) {
      throw new UsageError(`this dump holds binary COPY data from PostgreSQL ${sourceMajor}; the target runs ${targetMajor}`, {
        hint: 'dump again with --data-format text to restore across major versions; nothing was changed',
      });
    }
    if (targetMajor < sourceMajor) {
      progress.log('warn', `restoring a PostgreSQL ${sourceMajor} dump into ${targetMajor}: newer syntax in the schema may fail`);
    }
    // --yes replaces exactly the objects the dump creates that the target already has (replace.ts).
    const input: ReplacementInput = { planned: plannedObjects((await parseDump(bundle.preData)).entries, extensionsRewrite(plan, options.extensionsSchema)), yes: options.yes, database: target.database, canClean: false };
    const replace = { input, confirmed: (await planReplacement(control, input)).map(describeObject) };

    const schema = await timedPhase(phases, 'schema', () => inStep(progress, 'roles, extensions and pre-data', () =>
      applySchema({ bundle, plan, control, extensionsSchema: options.extensionsSchema, ownerMap: options.ownerMap, replace, skipPreData: false })));

    const byName = new Map(plan.tables.map((t) => [t.display, t]));
    const files = manifest.units.map((u) => ({ id: u.id, table: byName.get(u.table)!, path: join(dir, u.file), rows: u.rows, bytes: u.bytes }));
    const postPlan = planPostData(schema.postData, plan.partitioned, new Map(plan.tables.map((t) => [t.qualified, t.bytes])));
    const postContext = { target, preamble: targetSessionSql(schema.preamble, options.jobs), jobs: options.jobs, timeoutSeconds: options.connectTimeoutSeconds, resuming: false, leftBehind: plan.excludedSchemas };
    const deferredInPipeline: DeferredObject[] = [];
    let slowest: Array<{ task: string; seconds: number }> = [];
    const tables = await timedPhase(phases, 'data+indexes', () => inStep(progress, `load data, build indexes (${options.jobs} jobs)`, async (step) => {
      const dataProgress = new DataProgress(files.map((f) => ({ table: f.table.display, bytes: f.bytes })), step);
      const indexes = indexTasks(postPlan, (c: pg.Client) => c, postContext, deferredInPipeline);
      const analyze = options.analyze ? analyzeTasks(plan, (c: pg.Client) => c) : [];
      const watch = pipelineWatcher(step, dataProgress, indexes.length + analyze.length);
      slowest = watch.slowest;
      await runLoadPipeline<pg.Client>({
        jobs: options.jobs,
        open: () => postDataSession(postContext),
        close: (c) => endClient(c),
        abort: destroyClient,
        data: loadFileTasks(files, { format: manifest.dataFormat, progress: dataProgress }),
        indexes,
        analyze,
        onDone: watch.onDone,
      });
      return dataProgress.results();
    }));

    const { deferred, deferredFile } = await finishLoad({
      target, control, plan, schema, postPlan, postContext, deferredSoFar: deferredInPipeline, sequences: manifest.sequences,
      analyze: options.analyze, workDir: options.workDir, phases, progress,
    });
    const seconds = (performance.now() - started) / 1000;
    const sorted = tables.sort((a, b) => a.table.localeCompare(b.table));
    return {
      ok: true, from: dir, target: target.masked, dumpedAt: manifest.snapshot.time, source: manifest.source.url, platform: plan.platform,
      dataFormat: manifest.dataFormat, filesVerified: verified, tables: sorted,
      totals: { tables: sorted.length, rows: sorted.reduce((s, t) => s + t.rows, 0), bytes: sorted.reduce((s, t) => s + t.bytes, 0), seconds: Math.round(seconds * 100) / 100 },
      phases, slowest: topTen(slowest), schema: summarizeSchema(schema), replaced: schema.replaced, deferred, deferredFile,
    };
  } finally {
    await control.end().catch(() => {});
  }
}
