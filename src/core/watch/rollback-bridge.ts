/**
 * How `watch --auto-rollback` starts the rollback: through the runbook engine's `rollbackRun`
 * (src/core/runbook/rollback.ts, built on the runbook branch). Imported lazily by a computed path
 * so this module compiles before that one exists.
 * TODO(lead, issue 12 merge): once src/core/runbook/rollback.ts is in, replace the computed import
 * with `import('../runbook/rollback.js')` and use its exported types instead of the copies below.
 */
import { EnvironmentError } from '../../errors.js';
import type { Progress } from '../../output/progress.js';

/** The contract's RollbackRunOptions (kept in step with src/core/runbook/rollback.ts). */
export interface RollbackRunOptions { runbook?: string; workDir: string; yes: boolean; confirmed: string[]; dryRun: boolean; interactive: boolean }
export type RollbackRun = (options: RollbackRunOptions, progress: Progress) => Promise<unknown>;

export async function loadRollbackRun(): Promise<RollbackRun> {
  const modulePath = ['..', 'runbook', 'rollback.js'].join('/');
  let mod: { rollbackRun?: RollbackRun };
  try {
    mod = (await import(modulePath)) as { rollbackRun?: RollbackRun };
  } catch (error) {
    throw new EnvironmentError('this offramp build has no rollback engine (src/core/runbook/rollback.ts)', {
      hint: 'run `offramp rollback run` by hand now', cause: error,
    });
  }
  if (typeof mod.rollbackRun !== 'function') {
    throw new EnvironmentError('the rollback module does not export rollbackRun', { hint: 'run `offramp rollback run` by hand now' });
  }
  return mod.rollbackRun;
}
