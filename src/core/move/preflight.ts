/**
 * copy's own preflight: the doctor checks that predict a failure on the target (privileges,
 * extension schemas, extensions and roles the role cannot create), run before anything is written.
 * A FAIL refuses the copy (exit 5) with doctor's administrator SQL, so the target stays untouched
 * instead of failing half-way.
 */
import { doctor } from '../doctor/index.js';
import { OfframpError } from '../../errors.js';
import type { Progress } from '../../output/progress.js';

/** The doctor checks copy runs itself; the others (disk, timeouts, wal_level, ...) stay advice. */
export const COPY_PREFLIGHT_CHECKS: ReadonlySet<string> = new Set([
  // The connect checks wait for both sides; the others need them (and skip without them).
  'source.connect', 'target.connect',
  'target.writable', 'target.can-create-schemas', 'target.extensions-schema', 'target.can-create-extensions', 'target.can-create-roles',
]);

export interface PreflightInput {
  source: string;
  target: string;
  connectTimeoutSeconds: number;
  jobs: number;
  extensionsSchema: string;
  ownerMap: Record<string, string>;
}

export async function refuseUnpreparedTarget(input: PreflightInput, progress: Progress): Promise<void> {
  const report = await doctor({ ...input, skipDisk: true, only: COPY_PREFLIGHT_CHECKS }, progress);
  // copy connected to both sides already; a connection failure here is copy's own to report.
  const failed = report.checks.filter((c) => c.status === 'fail' && !c.id.endsWith('.connect'));
  if (failed.length === 0) return;
  const what = failed.map((c) => `${c.title}: ${c.detail}`).join('; ');
  const hint = report.adminSql.length > 0
    ? `nothing was written. Have an administrator run once on the target: ${report.adminSql.join(' ')} Then copy again (offramp doctor shows the same)`
    : `nothing was written; ${failed.map((c) => c.hint).filter(Boolean).join('; ')}`;
  throw new OfframpError('PREFLIGHT_FAILED', `the target is not ready for this copy: ${what}`, { hint });
}
