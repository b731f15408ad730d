/**
 * How `watch --auto-rollback` starts the rollback: the runbook engine's `rollbackRun`
 * (src/core/runbook/rollback.ts), imported lazily so a watch that never fires does not load the
 * runbook engine. The databases watch validates are handed on, so the rollback runbook's sql and
 * validate steps reach the same servers.
 */
import type { Progress } from '../../output/progress.js';
import type { RollbackRunOptions } from '../runbook/rollback.js';
import type { RunEnvironment } from '../runbook/session.js';

export type { RollbackRunOptions };
export type RollbackRun = (options: RollbackRunOptions, progress: Progress, environment?: RunEnvironment) => Promise<unknown>;

export async function loadRollbackRun(): Promise<RollbackRun> {
  return (await import('../runbook/rollback.js')).rollbackRun;
}
