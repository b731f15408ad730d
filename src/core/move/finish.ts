/**
 * The load steps shared by copy and restore around the data: the pipeline tasks for index builds
 * and ANALYZE (run beside the data, see pipeline.ts), and what comes after — sequence positions,
 * the rest of post-data (constraints, triggers, policies, FKs last), ANALYZE of partitioned
 * parents, and the file of deferred objects for the auth and RLS stages.
 */
import { join, resolve } from 'node:path';
import type pg from 'pg';
import type { ConnectionInfo } from '../../db/url.js';
import { inStep, type Progress, type StepHandle } from '../../output/progress.js';
import type { DeferredObject, PostDataPlan } from './apply-schema.js';
import { parseStatements } from '../../db/sql-parse.js';
import { joinStatements } from './dump-sql.js';
import { faultGate, faultPoint } from './fault-points.js';
import type { PipelineTask } from './pipeline.js';
import type { MovePlan } from './plan.js';
import { applyPostData, postDataSession, runPostDataItem, type PostDataContext } from './post-data.js';
import type { SchemaOutcome } from './schema-stage.js';
import { makePrivateDir, writePrivateFile } from './private-files.js';

export type Phases = Array<{ name: string; seconds: number }>;

export async function timedPhase<T>(phases: Phases, name: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    phases.push({ name, seconds: Math.round((performance.now() - started) / 10) / 100 });
  }
}

/**
 * What every target session of the load runs first: pg_dump's preamble and, when offramp itself
 * builds several indexes at once, no parallel maintenance workers per build (they would only
 * compete with the other builds for the same cores: measured, ~0.5 CPU-s less at SCALE=1).
 */
export function targetSessionSql(preamble: string, jobs: number): string {
  return jobs > 1 ? `${preamble}\nSET max_parallel_maintenance_workers = 0;` : preamble;
}

/** Index builds of the post-data plan as pipeline tasks, each ready once its table is loaded. */
export function indexTasks<R>(plan: PostDataPlan, client: (r: R) => pg.Client, ctx: PostDataContext, deferred: DeferredObject[]): Array<PipelineTask<R>> {
  return plan.indexes.map((item) => ({
    kind: 'index' as const,
    table: item.table ?? item.entry.name,
    weight: item.weight,
    label: `index ${item.entry.name.split(' ').pop()}`,
    run: async (r: R) => {
      await faultGate();
      await runPostDataItem(client(r), item, ctx, deferred);
      await faultPoint('index');
    },
  }));
}

/** ANALYZE of every ordinary table and partition, each ready once its indexes are built. */
export function analyzeTasks<R>(plan: MovePlan, client: (r: R) => pg.Client): Array<PipelineTask<R>> {
  return plan.tables
    .filter((t) => t.kind === 'r')
    .map((t) => ({ kind: 'analyze' as const, table: t.qualified, weight: t.bytes, label: `analyze ${t.display}`, run: async (r: R) => void (await client(r).query(`ANALYZE ${t.qualified}`)) }));
}

/**
 * Pipeline bookkeeping for a step: the ten longest tasks, and once the data is all in, a progress
 * line for the index builds and ANALYZE still running.
 */
export function pipelineWatcher(step: StepHandle, data: { complete: boolean }, afterData: number): {
  slowest: Array<{ task: string; seconds: number }>;
  onDone: (task: { kind: string; label: string }, seconds: number) => void;
} {
  const slowest: Array<{ task: string; seconds: number }> = [];
  let done = 0;
  return {
    slowest,
    onDone: (task, seconds) => {
      slowest.push({ task: task.label, seconds: Math.round(seconds * 100) / 100 });
      if (task.kind !== 'data') done++;
      if (data.complete && task.kind !== 'data') step.update(`data loaded · index builds and ANALYZE ${done}/${afterData}`);
    },
  };
}

export function topTen(slowest: Array<{ task: string; seconds: number }>): Array<{ task: string; seconds: number }> {
  return [...slowest].sort((a, b) => b.seconds - a.seconds).slice(0, 10);
}

export interface FinishInput {
  target: ConnectionInfo;
  control: pg.Client;
  plan: MovePlan;
  schema: SchemaOutcome;
  postPlan: PostDataPlan;
  postContext: PostDataContext;
  /** Deferred while building indexes in the pipeline. */
  deferredSoFar: DeferredObject[];
  sequences: Array<{ name: string; last_value: string | null }>;
  analyze: boolean;
  workDir: string;
  phases: Phases;
  progress: Progress;
}

export interface FinishResult {
  deferred: DeferredObject[];
  deferredFile?: string;
}

export async function setSequences(control: pg.Client, sequences: FinishInput['sequences']): Promise<void> {
  for (const s of sequences.filter((r) => r.last_value !== null)) {
    await control.query('SELECT pg_catalog.setval($1::regclass, $2::bigint, true)', [s.name, s.last_value]);
    await faultPoint('sequences');
  }
}


/**
 * Where copy and restore write the objects they deferred for one target database; the auth and RLS
 * stages read and prune the same file, so the name is decided here only.
 */
export function deferredFilePath(workDir: string, database: string): string {
  return join(resolve(workDir), `deferred-${database.replace(/[^A-Za-z0-9_-]/g, '_')}.sql`);
}
export async function finishLoad(input: FinishInput, afterPostData?: () => void): Promise<FinishResult> {
  const { phases, progress, plan } = input;
  await timedPhase(phases, 'sequences', () => setSequences(input.control, input.sequences));
  const post = await timedPhase(phases, 'constraints', () => inStep(progress, 'constraints, triggers, policies, foreign keys', (step) =>
    applyPostData(input.postPlan, input.postContext, step)));
  afterPostData?.();
  const parents = plan.tables.filter((t) => t.kind === 'p');
  if (input.analyze && parents.length > 0) {
    await timedPhase(phases, 'analyze-partitioned', async () => {
      const c = await postDataSession(input.postContext);
      try {
        for (const t of parents) await c.query(`ANALYZE ${t.qualified}`);
      } finally {
        await c.end().catch(() => {});
      }
    });
  }

  const deferred = [...input.schema.deferred, ...input.deferredSoFar, ...post.deferred];
  let deferredFile: string | undefined;
  if (deferred.length > 0) {
    makePrivateDir(input.workDir);
    deferredFile = deferredFilePath(input.workDir, input.target.database);
    // One comment line per object (names may hold newlines), then its statements, each ending in one `;`.
    writePrivateFile(deferredFile, deferred.map((d) => `-- ${`${d.type} ${d.schema ?? ''} ${d.name}: ${d.reason}`.replace(/[\r\n]+/g, ' ')}\n${joinStatements(parseStatements(d.sql))}\n`).join('\n'));
  }
  return { deferred, deferredFile };
}
