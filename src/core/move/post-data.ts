/**
 * Post-data on the target. Index builds run in the load pipeline (pipeline.ts) as soon as their
 * table is loaded; what is left runs here: everything else in dump order (constraints attached
 * USING INDEX, triggers, policies, partition index attaches), then foreign keys in parallel
 * (retrying a deadlock between two FKs that lock the same tables). Objects that need something a
 * later stage provides (auth.uid(), auth.users) are deferred, not failed.
 */
import type pg from 'pg';
import { connect } from '../../db/connect.js';
import type { ConnectionInfo } from '../../db/url.js';
import { toQueryError } from '../../db/sql.js';
import { destroyClient, endClient } from '../../db/sessions.js';
import { isConnectionLoss, QueryError } from '../../errors.js';
import type { StepHandle } from '../../output/progress.js';
import { DEFERRABLE_SQLSTATES, type DeferredObject, type PostDataPlan, type PostDataStep } from './apply-schema.js';
import { foreignKeySchemas } from './sql-rewrite.js';
import { faultGate, faultPoint } from './fault-points.js';
import { alreadyOnTarget } from './post-data-present.js';
import { runPool } from './pool.js';

const ALREADY_EXISTS = new Set(['42P07', '42710', '42P16', '42P06']);

export interface PostDataContext {
  target: ConnectionInfo;
  preamble: string;
  jobs: number;
  timeoutSeconds: number;
  /** On resume, objects the catalog already has count as done (post-data is replayed from its start). */
  resuming: boolean;
  /** Schemas left behind on purpose: anything referencing them is deferred without trying. */
  leftBehind: string[];
  /** How to finish after a post-data failure (copy: `--resume`); said in the error's hint. */
  finishHint?: string;
}

export type PostDataItem = PostDataStep;

export async function runPostDataItem(client: pg.Client, item: PostDataItem, ctx: PostDataContext, deferred: DeferredObject[]): Promise<void> {
  const refersLeftBehind = item.entry.type === 'FK CONSTRAINT' && foreignKeySchemas(item.entry.statements).some((s) => ctx.leftBehind.includes(s));
  if (refersLeftBehind) {
    deferred.push({ type: item.entry.type, name: item.entry.name, schema: item.entry.schema, reason: 'references a table of a schema the copy leaves behind (e.g. auth.users); create it after `offramp auth migrate`', sql: item.sql });
    return;
  }
  if (ctx.resuming && (await alreadyOnTarget(client, item.sql))) return;
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query(item.sql);
      return;
    } catch (error) {
      const e = error as { code?: string; message: string };
      // A restart or a dropped network is not a missing object: say so, and that --resume finishes.
      if (isConnectionLoss(error)) throw toQueryError(error, `post-data ${item.entry.type} ${item.entry.name}`, 'target');
      if (e.code === '40P01' && attempt < 5) continue; // deadlock between two FK builds: try again
      // Only a fallback for what the catalog check cannot name.
      if (e.code && ALREADY_EXISTS.has(e.code) && ctx.resuming) return;
      if (e.code && DEFERRABLE_SQLSTATES.has(e.code)) {
        // A REFRESH fails when the view, or something it reads, waits for a later stage: it waits with it.
        const reason = item.entry.type === 'MATERIALIZED VIEW DATA' ? `not refreshed (left unpopulated): ${e.message}` : e.message;
        deferred.push({ type: item.entry.type, name: item.entry.name, schema: item.entry.schema, reason, sql: item.sql });
        return;
      }
      throw new QueryError(`post-data ${item.entry.type} ${item.entry.name} failed: ${e.message}`, e.code, {
        hint: e.code === '42501'
          ? 'the target role lacks a privilege this object needs: run the copy as the database owner, or GRANT it (see the message)'
          : 'the target may be missing a role, extension or object the source has; rerun with --verbose',
        cause: error,
      });
    }
  }
}

export async function postDataSession(ctx: PostDataContext): Promise<pg.Client> {
  const client = await connect(ctx.target, { role: 'target', timeoutSeconds: ctx.timeoutSeconds, applicationName: 'offramp-post-data' });
  await client.query(ctx.preamble);
  return client;
}

async function parallel(items: PostDataItem[], ctx: PostDataContext, deferred: DeferredObject[], step: StepHandle, label: string, finished: Set<PostDataItem>): Promise<void> {
  let done = 0;
  await runPool(items, ctx.jobs, () => postDataSession(ctx), async (client, item) => {
    await faultGate();
    await runPostDataItem(client, item, ctx, deferred);
    finished.add(item);
    await faultPoint('foreign-keys');
    done++;
    step.update(`${label} ${done}/${items.length}`, { current: done, total: items.length });
  }, (client) => endClient(client), destroyClient);
}

/** The part of post-data that needs every index: sequential entries, then foreign keys. */
export async function applyPostData(plan: PostDataPlan, ctx: PostDataContext, step: StepHandle): Promise<{ deferred: DeferredObject[] }> {
  const deferred: DeferredObject[] = [];
  const done = new Set<PostDataItem>();
  try {
    const client = await postDataSession(ctx);
    try {
      for (const [i, item] of plan.sequential.entries()) {
        await runPostDataItem(client, item, ctx, deferred);
        done.add(item);
        step.update(`constraints, triggers, policies ${i + 1}/${plan.sequential.length}`);
        await faultPoint('constraints');
      }
    } finally {
      await endClient(client);
    }
    await parallel(plan.foreignKeys, ctx, deferred, step, 'foreign keys', done);
  } catch (error) {
    throw explainMissing(error, [...plan.sequential, ...plan.foreignKeys].filter((i) => !done.has(i)), ctx);
  }
  return { deferred };
}

/**
 * A post-data failure never leaves an unexplained half-loaded target: the error names what is not
 * on the target yet (data and indexes are) and how to finish.
 */
function explainMissing(error: unknown, missing: PostDataItem[], ctx: PostDataContext): unknown {
  if (!(error instanceof QueryError) || missing.length === 0) return error;
  const names = missing.map((i) => `${i.entry.type} ${i.entry.schema ? `${i.entry.schema}.` : ''}${i.entry.name}`);
  const shown = names.slice(0, 10).join('; ') + (names.length > 10 ? `; and ${names.length - 10} more` : '');
  return new QueryError(error.message, error.sqlstate, {
    cause: error,
    hint: `data and indexes are loaded; not on the target yet (${missing.length}): ${shown}. ${error.hint ?? ''} ${ctx.finishHint ?? ''}`.trim(),
    detail: names.join('\n'),
  });
}
