/**
 * Text rendering of the inspect report for a terminal (stderr): compact, one screen for a typical
 * project. Colour comes only from the chalk instance handed in (level 0 = plain text).
 */
import type { ChalkInstance } from 'chalk';
import { formatBytes, formatCount, plural } from './format.js';
import type { Finding, InspectReport, Severity, TableInfo } from './types.js';

export { renderInspectMarkdown } from './markdown.js';

/** Tables listed in text mode before "… and N more". */
const MAX_TABLE_LINES = 40;

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

function tableLines(tables: TableInfo[], c: ChalkInstance): string[] {
  const shown = tables.slice(0, MAX_TABLE_LINES);
  const names = shown.map((t) => `${t.schema}.${t.name}${t.partitionOf ? ' (partition)' : t.kind === 'partitioned' ? ' (partitioned)' : ''}`);
  const nameWidth = Math.max(5, ...names.map((n) => n.length));
  const rows = shown.map((t) => formatCount(t.rows, t.rowsExact));
  const rowWidth = Math.max(4, ...rows.map((r) => r.length));
  const lines = [c.dim(`  ${pad('table', nameWidth)}  ${pad('rows', rowWidth, true)}  ${pad('size', 7, true)}  PK   RLS     policies`)];
  shown.forEach((t, i) => {
    const pk = t.hasPrimaryKey ? c.green(pad('yes', 3)) : c.yellow(pad('no', 3));
    const rls = t.rlsEnabled ? pad(t.rlsForced ? 'forced' : 'on', 6) : c.dim(pad('off', 6));
    lines.push(`  ${pad(names[i]!, nameWidth)}  ${pad(rows[i]!, rowWidth, true)}  ${pad(formatBytes(t.totalBytes), 7, true)}  ${pk}  ${rls}  ${t.policies}`);
  });
  if (tables.length > shown.length) lines.push(c.dim(`  … and ${tables.length - shown.length} more (--json or --markdown list them all)`));
  return lines;
}

const MARK: Record<Severity, (c: ChalkInstance) => string> = {
  error: (c) => c.red('✖ error  '),
  warning: (c) => c.yellow('⚠ warning'),
  info: (c) => c.cyan('ℹ info   '),
};

function findingLines(findings: Finding[], c: ChalkInstance): string[] {
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`  ${MARK[f.severity](c)} ${c.bold(f.id)}  ${f.message}`);
    lines.push(c.dim(`              hint: ${f.hint}`));
  }
  return lines;
}

export function renderInspectText(report: InspectReport, c: ChalkInstance): string {
  const { server, platform, totals, auth, storage } = report;
  const out: string[] = [];
  const version = server.version.split(' ').slice(0, 2).join(' ');
  out.push(c.bold(`offramp inspect: ${server.database} (${platform.kind}${platform.kind !== platform.detected ? `, detected ${platform.detected}` : ''})`));
  out.push(`  ${version}, ${formatBytes(server.databaseBytes)}, as ${server.currentUser}${server.superuser ? ' (superuser)' : ''}, wal_level ${server.walLevel}, snapshot ${report.generatedAt}`);
  out.push(`  ${plural(totals.schemas.user, 'user schema')} (+${totals.schemas.managed} managed), ${plural(totals.userTables, 'table')}, ${formatCount(totals.rows, totals.rowsExact)} rows, ${formatBytes(totals.bytes)}, ${plural(totals.policies, 'policy', 'policies')}, ${plural(totals.functions, 'function')}`);
  out.push('');

  const userTables = report.tables;
  out.push(c.bold('Tables'));
  out.push(...(userTables.length > 0 ? tableLines(userTables, c) : [c.dim('  (no tables in user schemas)')]));
  out.push('');

  if (report.extensions.length > 0) {
    out.push(c.bold('Extensions'));
    for (const e of report.extensions) {
      const flag = e.platformOnly ? c.yellow(' platform-only') : '';
      const deps = e.dependents.length > 0 ? c.dim(` · used by ${plural(e.dependents.length, 'object')}`) : '';
      out.push(`  ${e.name} ${e.version} (${e.schema})${flag}${deps}`);
    }
    out.push('');
  }

  if (platform.kind === 'supabase') {
    out.push(c.bold('Auth'));
    if (!auth.present) out.push(c.dim('  no auth.users table'));
    else if (!auth.readable) out.push(c.yellow(`  auth.users is not readable by ${server.currentUser}`));
    else {
      const pw = auth.passwords;
      out.push(`  ${plural(auth.users ?? 0, 'user')}${pw ? ` (bcrypt ${pw.bcrypt}, no password ${pw.empty}${pw.other ? `, other ${pw.other}` : ''})` : ''}, ${auth.anonymous ?? 0} anonymous, ${auth.sso ?? 0} SSO, ${auth.banned ?? 0} banned, ${auth.deleted ?? 0} deleted`);
      const providers = Object.entries(auth.identitiesByProvider).map(([p, n]) => `${p} ${n}`).join(', ');
      out.push(`  ${formatCount(auth.identities)} identities${providers ? ` (${providers})` : ''}, ${formatCount(auth.mfaFactors)} MFA factors, ${formatCount(auth.sessions)} sessions`);
      const users = Object.entries(auth.usersByProvider).map(([p, n]) => `${p} ${n}`).join(', ');
      if (users) out.push(`  users per provider: ${users}`);
      const hashes = (auth.hashKinds ?? []).map((k) => `${k.kind === 'bcrypt' ? `bcrypt $${k.variant}$ cost ${k.cost}` : k.kind} ${k.users}`).join(', ');
      if (hashes) out.push(`  password hashes: ${hashes}`);
      const mfa = Object.entries(auth.mfaByKind).map(([k, n]) => `${k} ${n}`).join(', ');
      if (mfa) out.push(`  MFA factors: ${mfa}`);
    }
    for (const t of [...report.authUserTriggers, ...report.platformTableTriggers.filter((x) => x.table.startsWith('auth.'))]) {
      out.push(`  trigger ${t.name} → ${t.function} ${t.timing} ${t.events.join('/')}${t.securityDefiner ? ' (security definer)' : ''}${t.table === 'auth.users' ? '' : ` on ${t.table}`}`);
    }
    out.push('');
    out.push(c.bold('Storage'));
    if (!storage.present) out.push(c.dim('  no storage schema'));
    else if (!storage.readable) out.push(c.yellow(`  storage tables are not readable by ${server.currentUser}`));
    else {
      out.push(`  ${plural(storage.buckets.length, 'bucket')}, ${formatCount(storage.objects)} files, ${formatBytes(storage.bytes)}`);
      for (const b of storage.buckets) out.push(`  ${b.id}${b.public ? ' (public)' : ''}: ${plural(b.objects, 'file')}, ${formatBytes(b.bytes)}`);
    }
    out.push('');
  }

  const f = totals.findings;
  out.push(c.bold(`Findings: ${plural(f.error, 'error')}, ${plural(f.warning, 'warning')}, ${f.info} info`));
  out.push(...(report.findings.length > 0 ? findingLines(report.findings, c) : [c.dim('  none')]));
  return out.join('\n');
}
