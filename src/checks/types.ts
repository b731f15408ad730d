/**
 * The check registry shared by doctor, validate, cutover gates and rollback triggers: a check has
 * an id and a title and, when run against a context, returns a status with detail, hint and the
 * evidence it looked at.
 */
import type { Progress } from '../output/progress.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckOutcome {
  status: CheckStatus;
  /** One line saying what was found. */
  detail: string;
  /** What to do about a warn or fail. */
  hint?: string;
  /** The facts the verdict rests on (versions, counts, names), for JSON consumers and reports. */
  evidence?: Record<string, unknown>;
  /** SQL an administrator runs once to turn this FAIL into a PASS (doctor prints all of it together, once). */
  adminSql?: string[];
}

export interface CheckResult extends CheckOutcome {
  id: string;
  title: string;
  durationMs: number;
}

export interface Check<Ctx> {
  id: string;
  title: string;
  run(ctx: Ctx): Promise<CheckOutcome>;
}

/** Run checks in order; an exception inside a check becomes a `fail` with its message. */
export async function runChecks<Ctx>(checks: Array<Check<Ctx>>, ctx: Ctx, progress?: Progress): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    const started = performance.now();
    const step = progress?.step(check.title);
    let outcome: CheckOutcome;
    try {
      outcome = await check.run(ctx);
    } catch (error) {
      const e = error as { message?: string; hint?: string };
      outcome = { status: 'fail', detail: e.message ?? String(error), hint: e.hint };
    }
    const result: CheckResult = { id: check.id, title: check.title, durationMs: Math.round(performance.now() - started), ...outcome };
    if (step) {
      if (outcome.status === 'fail') step.fail(outcome.detail);
      else if (outcome.status === 'warn') step.warn(outcome.detail);
      else step.succeed(outcome.detail);
    }
    results.push(result);
  }
  return results;
}

export function summarize(results: CheckResult[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const r of results) counts[r.status]++;
  return counts;
}
