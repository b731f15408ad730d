import type { ChalkInstance } from 'chalk';
import { renderCopyText } from '../move/render.js';
import { renderRestoreText } from '../move/render.js';
import type { RestoreFromResult } from './restore-backup.js';

/** What the file held, what did not make it and why, then the copy's own report. */
export function renderRestoreFromText(r: RestoreFromResult, c: ChalkInstance): string {
  if (r.kind === 'offramp-dump') return renderRestoreText(r.restore, c);
  const { load } = r;
  const lines = [c.bold(`offramp restore --from ${r.from.join(' --from ')} (${r.kind}${r.serverVersion ? `, PostgreSQL ${r.serverVersion}` : ''})`), '', '  in the file:'];
  for (const s of load.schemas) lines.push(`    schema ${s.name}: ${s.tables} tables created, ${s.rows} rows`);
  for (const e of load.extensions) lines.push(`    extension ${e.name}: ${e.loaded ? 'loaded' : `not loaded (${e.reason})`}`);
  lines.push(`    roles created: ${load.roles.created}; role passwords found: ${load.roles.passwordsFound} (never applied or shown: set new ones on the target)`);
  if (load.authUsers !== undefined) lines.push(`    auth users: ${load.authUsers}`);
  if (load.storageObjects !== undefined) lines.push(`    storage objects: ${load.storageObjects} (metadata only: the files themselves are not in a database backup)`);
  lines.push(`    ${load.applied} statements applied on the scratch server`);
  if (load.refreshedViews.length > 0) lines.push(`    materialized views the file left empty, refreshed: ${load.refreshedViews.join(', ')}`);
  if (load.deferred.length > 0) {
    lines.push('', c.yellow(`  ${load.deferred.length} statements the scratch server could not take (left behind):`));
    for (const d of load.deferred.slice(0, 20)) lines.push(`    ${d.file}:${d.line} ${d.kind} ${d.object}: ${d.reason}`);
    if (load.deferred.length > 20) lines.push(c.dim(`    … ${load.deferred.length - 20} more (see --json)`));
  }
  if (r.leftBehind.databasesNotCopied.length > 0) lines.push(c.yellow(`  databases in the file not restored (only the project database is): ${r.leftBehind.databasesNotCopied.join(', ')}`));
  if (r.leftBehind.schemasNotCopied.length > 0) lines.push(c.dim(`  schemas left to later stages: ${r.leftBehind.schemasNotCopied.join(', ')}`));
  lines.push('', renderCopyText(r.copy, c));
  return lines.join('\n');
}
