/** Text rendering of an `rls verify` report: the note about the source, then differences first. */
import type { RlsVerifyReport } from './verify.js';

export function renderRlsVerifyText(r: RlsVerifyReport): string {
  const lines: string[] = [];
  const s = r.summary;
  lines.push(`rls verify (${r.mode} mode): ${r.note}`);
  lines.push(`principals: ${r.principals.map((p) => p.name).join(', ')}`);
  for (const t of r.tables.filter((x) => x.status === 'skipped' || x.reason)) lines.push(`  ${t.table}: ${t.status === 'skipped' ? 'skipped, ' : ''}${t.reason ?? ''}`);
  for (const c of r.checks.filter((x) => x.status === 'different')) {
    lines.push(`DIFFERENT ${c.table} as ${c.principal}, ${c.command}: source ${c.source ?? ''}${c.target ? `; target ${c.target}` : ''}`);
    for (const k of c.differingKeys ?? []) lines.push(`    key ${k.key}: source ${k.source}, target ${k.target}`);
  }
  for (const c of r.checks.filter((x) => x.status === 'inconclusive')) lines.push(`inconclusive ${c.table} as ${c.principal}, ${c.command}${c.reason ? `: ${c.reason}` : ''}`);
  lines.push(`${s.tables} tables (${s.tablesSkipped} skipped) × ${s.principals} principals: ${s.checks} checks, ${s.equal} equal, ${s.different} different, ${s.skipped} skipped, ${s.inconclusive} inconclusive`);
  lines.push(s.ok ? 'every check equal: the target enforces what the source enforces' : 'differences found: the target does not enforce what the source enforces (exit 3)');
  return lines.join('\n');
}

/** Markdown: per table, how many checks were equal; then every difference with its keys. */
export function renderRlsVerifyMarkdown(r: RlsVerifyReport): string {
  const s = r.summary;
  const lines = [
    `# RLS verification (${r.mode} mode)`,
    '',
    `${r.note}. Principals: ${r.principals.map((p) => `\`${p.name}\``).join(', ')}.`,
    '',
    `**${s.different === 0 ? 'Equal' : 'Different'}**: ${s.tables} tables (${s.tablesSkipped} skipped) × ${s.principals} principals, ${s.checks} checks: ${s.equal} equal, ${s.different} different, ${s.skipped} skipped, ${s.inconclusive} inconclusive.`,
    '',
    '| table | checks equal | different | note |',
    '| --- | --- | --- | --- |',
    ...r.tables.map((t) => {
      const mine = r.checks.filter((c) => c.table === t.table);
      return `| ${t.table} | ${mine.filter((c) => c.status === 'equal').length}/${mine.length} | ${mine.filter((c) => c.status === 'different').length} | ${t.reason ?? ''} |`;
    }),
  ];
  const bad = r.checks.filter((c) => c.status === 'different');
  if (bad.length > 0) {
    lines.push('', '## Differences', '');
    for (const c of bad) {
      lines.push(`- **${c.table}** as \`${c.principal}\`, ${c.command}: source ${c.source ?? ''}; target ${c.target ?? ''}`);
      for (const k of c.differingKeys ?? []) lines.push(`  - key \`${k.key}\`: source ${k.source}, target ${k.target}`);
    }
  }
  return lines.join('\n');
}
