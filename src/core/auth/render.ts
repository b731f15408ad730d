import type { ChalkInstance } from 'chalk';
import type { AuthMigrateResult } from './migrate.js';
import type { TableCounts } from './upsert.js';

const counts = (t: TableCounts): string =>
  `${t.source} on the source: ${t.inserted} inserted, ${t.updated} updated, ${t.unchanged} unchanged${t.removed ? `, ${t.removed} removed (gone from the source)` : ''}`;

/** Text summary of `auth migrate` (no row values: hashes and tokens never reach it). */
export function renderAuthMigrateText(r: AuthMigrateResult, c: ChalkInstance): string {
  const lines = [c.bold(`offramp auth migrate (layout ${r.layout.kind}): ${r.usersTable}, ${r.identitiesTable}`)];
  if (r.migrationsApplied.length > 0) lines.push(`  migrations applied: ${r.migrationsApplied.join(', ')}`);
  lines.push(`  users       ${counts(r.users)}`);
  lines.push(`  identities  ${counts(r.identities)}`);
  if (r.users.onlyOnTarget > 0) {
    lines.push(r.users.deleted > 0
      ? c.yellow(`  ${r.users.deleted} users the source no longer has were deleted (--yes)`)
      : c.yellow(`  ${r.users.onlyOnTarget} users on the target are no longer on the source: kept (rerun with --yes to delete them)`));
  }
  const extra = (name: string, x: { source: number; carried: boolean; counts?: TableCounts }, flag: string): string =>
    x.carried && x.counts ? `  ${name.padEnd(11)} ${counts(x.counts)}` : c.dim(`  ${name.padEnd(11)} ${x.source} on the source, not carried (${flag})`);
  lines.push(extra('sessions', r.sessions, '--include-sessions'));
  lines.push(extra('refresh tok', r.refreshTokens, '--include-sessions'));
  const kinds = Object.entries(r.mfa.kinds).map(([k, n]) => `${n} ${k}`).join(', ') || 'none';
  lines.push(r.mfa.carried && r.mfa.counts ? `  mfa factors ${counts(r.mfa.counts)} (${kinds})` : c.dim(`  mfa factors ${r.mfa.source} on the source (${kinds}; ${r.mfa.verified} verified), not carried (--include-mfa)`));
  lines.push(c.dim(`  left behind (GoTrue internals): ${r.leftBehindColumns.join(', ')}`));
  if (r.objects.length > 0) {
    lines.push('', '  deferred objects:');
    for (const o of r.objects) lines.push(`    ${o.status.padEnd(9)} ${o.kind} ${o.name}${o.reason ? c.dim(` (${o.reason})`) : ''}`);
  }
  return lines.join('\n');
}
