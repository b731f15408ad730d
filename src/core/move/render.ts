import { formatBytes } from '../../output/format.js';
import type { ChalkInstance } from 'chalk';
import type { CopyResult } from './copy.js';

export function renderCopyText(r: CopyResult, c: ChalkInstance): string {
  const lines: string[] = [];
  lines.push(c.bold(`offramp copy ${r.resumed ? '(resumed) ' : ''}${r.source} → ${r.target}`));
  lines.push(`  platform ${r.platform}, snapshot ${r.snapshot}, ${r.format} COPY, ${r.jobs} jobs, schemas ${r.schemas.join(', ') || '(none)'}`);
  if (r.excludedSchemas.length > 0) lines.push(c.dim(`  left behind: ${r.excludedSchemas.join(', ')}`));
  lines.push('');
  const width = Math.max(5, ...r.tables.map((t) => t.table.length));
  lines.push(`  ${'table'.padEnd(width)}  ${'rows'.padStart(10)}  ${'bytes'.padStart(9)}  ${'seconds'.padStart(7)}`);
  for (const t of r.tables) {
    lines.push(`  ${t.table.padEnd(width)}  ${String(t.rows).padStart(10)}  ${formatBytes(t.bytes).padStart(9)}  ${t.seconds.toFixed(2).padStart(7)}${t.status === 'copied' ? '' : c.dim('  (done before resume)')}`);
  }
  lines.push(`  ${'total'.padEnd(width)}  ${String(r.totals.rows).padStart(10)}  ${formatBytes(r.totals.bytes).padStart(9)}  ${r.totals.seconds.toFixed(2).padStart(7)}  ${r.totals.mbPerSecond} MB/s`);
  lines.push('', `  phases: ${r.phases.map((p) => `${p.name} ${p.seconds}s`).join(', ')}`);
  lines.push(...replacedLines(r.replaced, c));
  if (r.cleaned.length > 0) lines.push(c.yellow(`  dropped by --clean (the earlier copy made them; the source no longer has them): ${r.cleaned.length}`), ...r.cleaned.map((o) => `    ${o}`));
  const ext = r.schema.extensions.map((e) => `${e.name}${e.schema ? ` (${e.schema})` : ''} ${e.action}`).join(', ');
  if (ext) lines.push(`  extensions: ${ext}`);
  if (r.schema.rolesCreated.length > 0) lines.push(`  roles created: ${r.schema.rolesCreated.map((x) => x.name).join(', ')}`);
  if (r.schema.dropped.length > 0) lines.push(c.dim(`  ${r.schema.dropped.length} platform statements not replayed (grants to platform roles, event triggers); see --json`));
  if (r.deferred.length > 0) {
    lines.push('', c.yellow(`  ${r.deferred.length} objects deferred until the auth/RLS stages provide what they need (${r.deferredFile}):`));
    for (const d of r.deferred.slice(0, 15)) lines.push(`    ${d.type} ${d.schema ? `${d.schema}.` : ''}${d.name}: ${d.reason.split('\n')[0]}`);
    if (r.deferred.length > 15) lines.push(c.dim(`    … ${r.deferred.length - 15} more`));
  }
  for (const s of r.schema.extensions.filter((e) => e.action === 'skipped' && e.dependents.length > 0)) {
    lines.push(c.yellow(`  extension ${s.name} skipped (${s.reason}); objects that used it: ${s.dependents.join('; ')}`));
  }
  if (!r.consistent) lines.push('', c.yellow('  not consistent: the resumed copy used a new snapshot. Run offramp validate.'));
  lines.push('', c.green(`copy finished: ${r.totals.tables} tables, ${r.totals.rows} rows`));
  return lines.join('\n');
}

/** What --yes/--clean dropped and created again, every object named: what the confirmation covered. */
function replacedLines(replaced: string[], c: ChalkInstance): string[] {
  if (replaced.length === 0) return [];
  return [c.yellow(`  replaced on the target (dropped, then created again from the source): ${replaced.length} object${replaced.length > 1 ? 's' : ''}`), ...replaced.map((o) => `    ${o}`)];
}

type Row = { table: string; rows: number; bytes: number; seconds?: number };

function tableLines(rows: Row[], totalRows: number, totalBytes: number, seconds: number): string[] {
  const width = Math.max(5, ...rows.map((t) => t.table.length));
  const lines = [`  ${'table'.padEnd(width)}  ${'rows'.padStart(10)}  ${'bytes'.padStart(9)}`];
  for (const t of rows) lines.push(`  ${t.table.padEnd(width)}  ${String(t.rows).padStart(10)}  ${formatBytes(t.bytes).padStart(9)}`);
  lines.push(`  ${'total'.padEnd(width)}  ${String(totalRows).padStart(10)}  ${formatBytes(totalBytes).padStart(9)}  in ${seconds.toFixed(2)} s`);
  return lines;
}

export function renderDumpText(r: import('./dump.js').DumpResult, c: ChalkInstance): string {
  return [
    c.bold(`offramp dump ${r.source} → ${r.out}`),
    `  platform ${r.platform}, snapshot at ${r.snapshot}, ${r.dataFormat} COPY data, schemas ${r.schemas.join(', ')}`,
    r.excludedSchemas.length > 0 ? c.dim(`  left behind: ${r.excludedSchemas.join(', ')}`) : '',
    '',
    ...tableLines(r.tables, r.totals.rows, r.totals.bytes, r.totals.seconds),
    `  ${formatBytes(r.totals.fileBytes)} on disk (gzip); phases: ${r.phases.map((p) => `${p.name} ${p.seconds}s`).join(', ')}`,
    '',
    c.green(`dump finished: ${r.totals.tables} tables, ${r.totals.rows} rows; restore with offramp restore --from ${r.out}`),
  ].filter((l, i, a) => l !== '' || a[i - 1] !== '').join('\n');
}

export function renderRestoreText(r: import('./restore.js').RestoreResult, c: ChalkInstance): string {
  const lines = [
    c.bold(`offramp restore ${r.from} → ${r.target}`),
    `  dump of ${r.source} taken at ${r.dumpedAt}; ${r.filesVerified} files verified; ${r.dataFormat} COPY data`,
    '',
    ...tableLines(r.tables, r.totals.rows, r.totals.bytes, r.totals.seconds),
    `  phases: ${r.phases.map((p) => `${p.name} ${p.seconds}s`).join(', ')}`,
    ...replacedLines(r.replaced, c),
  ];
  if (r.deferred.length > 0) {
    lines.push('', c.yellow(`  ${r.deferred.length} objects deferred until the auth/RLS stages provide what they need (${r.deferredFile}):`));
    for (const d of r.deferred.slice(0, 15)) lines.push(`    ${d.type} ${d.schema ? `${d.schema}.` : ''}${d.name}: ${d.reason.split('\n')[0]}`);
  }
  lines.push('', c.green(`restore finished: ${r.totals.tables} tables, ${r.totals.rows} rows`));
  return lines.join('\n');
}
