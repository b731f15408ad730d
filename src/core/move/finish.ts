/**
 * The steps after the data, shared by copy and restore: sequence positions, post-data (parallel
 * indexes, FKs last), ANALYZE, and the file of deferred objects for the auth and RLS stages.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { connect } from '../../db/connect.js';
import type { ConnectionInfo } from '../../db/url.js';
import { inStep, type Progress } from '../../output/progress.js';
import { planPostData, type DeferredObject } from './apply-schema.js';
import type { MovePlan } from './plan.js';
import { applyPostData } from './post-data.js';
import { runPool } from './pool.js';
import type { SchemaOutcome } from './schema-stage.js';

export type Phases = Array<{ name: string; seconds: number }>;

export async function timedPhase<T>(phases: Phases, name: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    phases.push({ name, seconds: Math.round((performance.now() - started) / 10) / 100 });
  }
}

export interface FinishInput {
  target: ConnectionInfo;
  control: pg.Client;
  plan: MovePlan;
  schema: SchemaOutcome;
  sequences: Array<{ name: string; last_value: string | null }>;
  jobs: number;
  timeoutSeconds: number;
  analyze: boolean;
  resuming: boolean;
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
  }
}

async function analyzeTables(input: FinishInput): Promise<void> {
  const tables = input.plan.tables.filter((t) => !t.isPartition).map((t) => t.qualified);
  await runPool(tables, input.jobs,
    () => connect(input.target, { role: 'target', timeoutSeconds: input.timeoutSeconds, applicationName: 'offramp-analyze' }),
    async (c, table) => void (await c.query(`ANALYZE ${table}`)),
    (c) => c.end());
}

export async function finishLoad(input: FinishInput, afterPostData?: () => void): Promise<FinishResult> {
  const { phases, progress, plan } = input;
  await timedPhase(phases, 'sequences', () => setSequences(input.control, input.sequences));
  const tableBytes = new Map(plan.tables.map((t) => [t.qualified, t.bytes]));
  const postPlan = planPostData(input.schema.postData, plan.partitioned, tableBytes);
  const post = await timedPhase(phases, 'post-data', () => inStep(progress, 'indexes, constraints, triggers, policies', (step) =>
    applyPostData(postPlan, {
      target: input.target, preamble: input.schema.preamble, jobs: input.jobs, timeoutSeconds: input.timeoutSeconds,
      resuming: input.resuming, leftBehind: plan.excludedSchemas,
    }, step)));
  afterPostData?.();
  if (input.analyze) await timedPhase(phases, 'analyze', () => inStep(progress, 'ANALYZE', () => analyzeTables(input)));

  const deferred = [...input.schema.deferred, ...post.deferred];
  let deferredFile: string | undefined;
  if (deferred.length > 0) {
    mkdirSync(resolve(input.workDir), { recursive: true });
    deferredFile = join(resolve(input.workDir), `deferred-${input.target.database.replace(/[^A-Za-z0-9_-]/g, '_')}.sql`);
    writeFileSync(deferredFile, deferred.map((d) => `-- ${d.type} ${d.schema ?? ''} ${d.name}: ${d.reason.replace(/\n/g, ' ')}\n${d.sql.trim()}\n`).join('\n'));
  }
  return { deferred, deferredFile };
}
