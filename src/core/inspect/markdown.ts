/**
 * The inspect report as a Markdown migration plan, written to be pasted into a pull request:
 * what moves, what stays behind and why, what needs attention, and the commands to run next.
 */
import { HANDLED_MANAGED_SCHEMAS } from '../supabase/platform.js';
import { formatBytes, formatCount, listSome, plural } from './format.js';
import type { Finding, InspectReport, Severity } from './types.js';

/** Escape text for a Markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

const HEADINGS: Record<Severity, string> = { error: 'Errors (block the migration until handled)', warning: 'Warnings', info: 'Good to know' };

function findingsSection(findings: Finding[]): string[] {
  if (findings.length === 0) return ['Nothing found that needs attention.', ''];
  const out: string[] = [];
  for (const severity of ['error', 'warning', 'info'] as const) {
    const list = findings.filter((f) => f.severity === severity);
    if (list.length === 0) continue;
    out.push(`### ${HEADINGS[severity]}`, '');
    for (const f of list) {
      out.push(`- **${f.id}**${f.object ? ` (${code(f.object)})` : ''}: ${f.message}  `, `  _What to do:_ ${f.hint}`);
    }
    out.push('');
  }
  return out;
}

function movesSection(r: InspectReport): string[] {
  const userSchemas = r.schemas.filter((s) => !s.managed);
  const custom = r.roles.filter((x) => !x.platform && !x.name.startsWith('pg_'));
  const out = [
    `- **Schemas** ${userSchemas.map((s) => code(s.name)).join(', ') || '(none)'}: ${plural(r.totals.userTables, 'table')}, ${formatCount(r.totals.rows, r.totals.rowsExact)} rows, ${formatBytes(r.totals.bytes)}, with their views, functions, sequences, indexes and constraints (\`offramp copy\`).`,
    `- **Extensions** created on the target in the same schemas${r.schemas.some((s) => s.name === 'extensions') ? ' (an `extensions` schema is kept, so `extensions.*` names keep working)' : ''}: ${listSome(r.extensions.filter((e) => !e.platformOnly && e.name !== 'plpgsql').map((e) => `${e.name} (${e.schema})`), 12) || '(none)'}.`,
    `- **Row-level security**: ${plural(r.policies.length, 'policy', 'policies')}, kept as they are or translated (\`offramp rls translate\`).`,
  ];
  if (custom.length > 0) out.push(`- **Roles** ${listSome(custom.map((x) => code(x.name)), 10)}: created on the target without passwords.`);
  if (r.auth.present) {
    out.push(`- **Auth users**: ${r.auth.readable ? `${plural(r.auth.users ?? 0, 'user')} and ${formatCount(r.auth.identities)} identities` : 'auth.users (not readable by the inspecting role)'}, into a local users table (\`offramp auth migrate\`), keeping ids and password hashes.`);
  }
  return out;
}

function leftBehindSection(r: InspectReport): string[] {
  const out: string[] = [];
  const managed = r.schemas.filter((s) => s.managed);
  const handled = managed.filter((s) => HANDLED_MANAGED_SCHEMAS[s.name]);
  // the extensions schema is recreated on the target (see "What moves")
  const plain = managed.filter((s) => !HANDLED_MANAGED_SCHEMAS[s.name] && s.name !== 'extensions');
  if (plain.length > 0) out.push(`- **Platform schemas** ${plain.map((s) => code(s.name)).join(', ')}: they belong to Supabase services and extensions; the target gets what it needs from the extensions themselves.`);
  for (const s of handled) out.push(`- **${code(s.name)}** is not copied as a schema: ${HANDLED_MANAGED_SCHEMAS[s.name]}.`);
  for (const e of r.extensions.filter((x) => x.platformOnly)) {
    out.push(`- **Extension ${e.name}**: ${e.platformOnlyReason ?? 'platform-only'}${e.dependents.length ? `; used by ${listSome(e.dependents.map((d) => code(d.object)))}` : ''}.`);
  }
  for (const p of r.publications.filter((x) => x.platform)) {
    out.push(`- **Publication ${code(p.name)}** (${p.allTables ? 'all tables' : plural(p.tables.length, 'table')}): there is no Realtime server on the target.`);
  }
  const platformEvents = r.eventTriggers.filter((e) => e.platform);
  const customEvents = r.eventTriggers.filter((e) => !e.platform);
  if (platformEvents.length > 0) out.push(`- **Platform event triggers** ${listSome(platformEvents.map((e) => code(e.name)))}: they serve Supabase services and need a superuser.`);
  if (customEvents.length > 0) out.push(`- **Your event triggers** ${listSome(customEvents.map((e) => code(e.name)))}: not copied (creating one needs a superuser); recreate them by hand if still needed.`);
  if (r.vault.present) out.push(`- **Vault secrets** (${formatCount(r.vault.secrets)}): ciphertext is tied to the project's root key.`);
  if (r.storage.present) out.push(`- **Storage files** (${formatCount(r.storage.objects)} files, ${formatBytes(r.storage.bytes)}): the database holds only their metadata; the files live in object storage.`);
  return out.length > 0 ? out : ['- Nothing: this is a plain PostgreSQL database.'];
}

function detailSections(r: InspectReport): string[] {
  const out: string[] = ['## Tables', ''];
  out.push(...(r.tables.length === 0 ? ['(no tables in user schemas)'] : table(
    ['table', 'rows', 'size', 'PK', 'RLS', 'policies', 'notes'],
    r.tables.map((t) => [
      code(`${t.schema}.${t.name}`), formatCount(t.rows, t.rowsExact), formatBytes(t.totalBytes), t.hasPrimaryKey ? 'yes' : '**no**',
      t.rlsEnabled ? (t.rlsForced ? 'forced' : 'on') : 'off', String(t.policies),
      [
        t.partitionOf ? `partition of ${t.partitionOf}` : t.kind === 'partitioned' ? 'partitioned' : '',
        t.fksToAuthUsers.length ? `FK → auth.users (${t.fksToAuthUsers.map((f) => f.columns.join(', ')).join('; ')})` : '',
        t.generatedColumns.length ? `generated: ${t.generatedColumns.join(', ')}` : '',
        t.identityColumns.length ? `identity: ${t.identityColumns.join(', ')}` : '',
        t.inRealtimePublication ? 'realtime' : '',
      ].filter(Boolean).join('; '),
    ]),
  )), '');
  if (r.managedTables.length > 0) {
    out.push('Platform tables whose rows matter:', '');
    out.push(...table(['table', 'rows', 'size'], r.managedTables.map((t) => [code(`${t.schema}.${t.name}`), t.readable ? formatCount(t.rows, t.rowsExact) : 'not readable', formatBytes(t.totalBytes)])), '');
  }
  out.push('## Extensions', '');
  out.push(...table(['extension', 'version', 'schema', 'available on plain PostgreSQL', 'used by'], r.extensions.map((e) => [
    e.name, e.version, code(e.schema), e.platformOnly ? '**no**' : 'yes', e.dependents.length ? listSome(e.dependents.map((d) => `${d.kind} ${d.object}`), 6) : '',
  ])), '');
  if (r.references.length > 0) {
    out.push('## Objects that use auth / storage', '');
    out.push(...table(['kind', 'object', 'uses'], r.references.map((x) => [x.kind, code(x.table && x.kind !== 'default' ? `${x.name} on ${x.table}` : `${x.schema}.${x.name}`), x.references.join(', ')])), '');
  }
  out.push('## Roles', '');
  out.push(...(r.roles.length === 0 ? ['(no roles own, are granted, or are named by your objects)'] : table(
    ['role', 'kind', 'login', 'superuser', 'bypassrls', 'owns', 'grants', 'policies'],
    r.roles.map((x) => [code(x.name), x.platform ? 'platform' : 'custom', x.login ? 'yes' : 'no', x.superuser ? 'yes' : 'no', x.bypassRls ? 'yes' : 'no', String(x.owns), String(x.grants), String(x.policies)]),
  )), '');
  if (r.platform.kind === 'supabase') out.push(...authAndStorage(r));
  return out;
}

function authAndStorage(r: InspectReport): string[] {
  const { auth, storage } = r;
  const out = ['## Auth', ''];
  if (!auth.present) out.push('No `auth.users` table.');
  else if (!auth.readable) out.push(`\`auth.users\` is not readable by \`${r.server.currentUser}\`; counts are missing.`);
  else {
    const pw = auth.passwords;
    out.push(`- ${plural(auth.users ?? 0, 'user')}: ${pw ? `${pw.bcrypt} with a bcrypt password, ${pw.empty} without a password${pw.other ? `, ${pw.other} with another hash` : ''}` : ''}; ${auth.anonymous ?? 0} anonymous, ${auth.sso ?? 0} SSO, ${auth.banned ?? 0} banned, ${auth.deleted ?? 0} soft-deleted`);
    out.push(`- ${formatCount(auth.identities)} identities: ${Object.entries(auth.identitiesByProvider).map(([p, n]) => `${p} ${n}`).join(', ') || 'none'}`);
    out.push(`- ${formatCount(auth.mfaFactors)} MFA factors, ${formatCount(auth.sessions)} sessions`);
  }
  for (const t of r.authUserTriggers) out.push(`- trigger ${code(t.name)} on auth.users → ${code(t.function)} (${t.timing} ${t.events.join(' OR ')}${t.securityDefiner ? `, SECURITY DEFINER as ${t.functionOwner}` : ''})`);
  out.push('', '## Storage', '');
  if (!storage.present) out.push('No storage schema.');
  else if (!storage.readable) out.push(`Storage tables are not readable by \`${r.server.currentUser}\`.`);
  else {
    out.push(`${plural(storage.buckets.length, 'bucket')}, ${formatCount(storage.objects)} files, ${formatBytes(storage.bytes)}.`, '');
    if (storage.buckets.length > 0) out.push(...table(['bucket', 'public', 'files', 'size'], storage.buckets.map((b) => [code(b.id), b.public ? 'yes' : 'no', formatCount(b.objects), formatBytes(b.bytes)])));
  }
  out.push('');
  return out;
}

function nextSteps(r: InspectReport): string[] {
  const steps = [
    '`offramp doctor --source … --target …`: preflight of both servers (versions, extensions the target offers, privileges, disk, wal_level).',
    '`offramp copy`: schema and data of the user schemas in one consistent snapshot, then `offramp validate` to compare row counts and content hashes.',
  ];
  if (r.auth.present) steps.push('`offramp auth migrate`: move auth users and identities into local tables, rewire foreign keys and the triggers on auth.users; `offramp auth verify` after.');
  if (r.policies.length > 0) steps.push('`offramp rls translate`: turn the policies into a compatibility layer or application predicates; `offramp rls verify` proves the same rows stay visible.');
  steps.push('`offramp validate`: rerun right before cutover; it must report no differences.');
  return steps.map((s, i) => `${i + 1}. ${s}`);
}

export function renderInspectMarkdown(r: InspectReport): string {
  const f = r.totals.findings;
  const out = [
    `# Migration plan: ${r.server.database} (${r.platform.kind})`,
    '',
    `Inventory by \`offramp inspect\` at ${r.generatedAt} from ${code(r.source)}: ${r.server.version.split(',')[0]}, ${formatBytes(r.server.databaseBytes)}, read as \`${r.server.currentUser}\`${r.server.superuser ? ' (superuser)' : ''} in one read-only snapshot.`,
    '',
    '## Summary',
    '',
    `- ${plural(r.totals.userTables, 'table')} in ${plural(r.totals.schemas.user, 'user schema')}, ${formatCount(r.totals.rows, r.totals.rowsExact)} rows, ${formatBytes(r.totals.bytes)}`,
    `- ${plural(r.totals.policies, 'RLS policy', 'RLS policies')}, ${plural(r.extensions.length, 'extension')}, ${plural(r.references.length, 'object')} using auth/storage`,
    ...(r.platform.kind === 'supabase' ? [`- ${r.auth.readable ? plural(r.auth.users ?? 0, 'auth user') : 'auth users not readable'}, ${r.storage.readable ? `${formatCount(r.storage.objects)} storage files (${formatBytes(r.storage.bytes)})` : 'storage not readable'}`] : []),
    `- findings: **${f.error} errors**, ${f.warning} warnings, ${f.info} info`,
    '',
    '## What moves',
    '',
    ...movesSection(r),
    '',
    '## What is left behind, and why',
    '',
    ...leftBehindSection(r),
    '',
    '## What needs attention',
    '',
    ...findingsSection(r.findings),
    ...detailSections(r),
    '## Next steps',
    '',
    ...nextSteps(r),
    '',
  ];
  return out.join('\n');
}
