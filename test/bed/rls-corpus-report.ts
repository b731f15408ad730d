/**
 * The measured corpus numbers as Markdown (docs/rls-corpus.md is written from this by
 * `npm run corpus:rls`, never by hand): totals, per file, and the reason for every policy not
 * translated automatically or not verified equal.
 */
import type { FileRun, PolicyOutcome } from './rls-corpus-run.js';

export interface CorpusTotals {
  statements: number;
  loaded: number;
  classified: number;
  installed: number;
  verifiedEqual: number;
  byClass: Record<string, number>;
}

export function corpusTotals(policies: PolicyOutcome[]): CorpusTotals {
  const byClass: Record<string, number> = {};
  for (const p of policies) byClass[p.class ?? 'unclassified'] = (byClass[p.class ?? 'unclassified'] ?? 0) + 1;
  return {
    statements: policies.length,
    loaded: policies.filter((p) => p.loaded).length,
    classified: policies.filter((p) => p.class && p.reasons.length > 0).length,
    installed: policies.filter((p) => p.installed).length,
    verifiedEqual: policies.filter((p) => p.installed && p.verifiedEqual).length,
    byClass,
  };
}

const pct = (n: number, of: number): string => (of ? `${((100 * n) / of).toFixed(1)} %` : '–');
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

export function corpusMarkdown(runs: FileRun[], corpusSize: number): string {
  const all = runs.flatMap((r) => r.policies);
  const t = corpusTotals(all);
  const lines = [
    '# RLS corpus: measured numbers',
    '',
    'Written by `npm run corpus:rls` (test/integration/rls-corpus.test.ts with the harness in test/bed/rls-corpus*.ts); do not edit by hand.',
    'Each file of `../shared/corpus/rls/` is loaded onto the fixture\'s platform layer, given generated rows and principals',
    '(anon, service_role, and the users admin, moderator, user, anonymous-user), copied to an empty target,',
    'translated with `rls translate --mode compat --apply`, and checked with `rls verify` (every RLS table × principal × command).',
    ...(runs.length < corpusSize ? ['', `**Partial run: ${runs.length} of ${corpusSize} files.**`] : []),
    '',
    '| | policies | share |',
    '|---|---:|---:|',
    `| CREATE POLICY statements | ${t.statements} | |`,
    `| loaded on the source | ${t.loaded} | ${pct(t.loaded, t.statements)} |`,
    `| classified with a reason | ${t.classified} | ${pct(t.classified, t.statements)} |`,
    `| translated automatically (installed, compat) | ${t.installed} | ${pct(t.installed, t.statements)} |`,
    `| of those, verified equal | ${t.verifiedEqual} | ${pct(t.verifiedEqual, t.installed)} |`,
    '',
    `Classes: ${Object.entries(t.byClass).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    '',
    '## Per file',
    '',
    '| file | policies | installed | verified equal | run |',
    '|---|---:|---:|---:|---|',
    ...runs.map((r) => {
      const f = corpusTotals(r.policies);
      return `| ${r.file} | ${f.statements} | ${f.installed} | ${f.verifiedEqual} | ${r.failure ? cell(`failed: ${r.failure}`) : 'ok'} |`;
    }),
    '',
    '## Not translated automatically',
    '',
  ];
  const notInstalled = all.filter((p) => !p.installed);
  if (notInstalled.length === 0) lines.push('None.');
  else {
    lines.push('| file | table | policy | class | reason |', '|---|---|---|---|---|');
    for (const p of notInstalled) lines.push(`| ${p.file} | ${p.table} | ${cell(p.name)} | ${p.class ?? '–'} | ${cell(p.why ?? p.reasons.join('; '))} |`);
  }
  lines.push('', '## Translated but not verified equal', '');
  const unverified = all.filter((p) => p.installed && !p.verifiedEqual);
  if (unverified.length === 0) lines.push('None.');
  else {
    lines.push('| file | table | policy | why |', '|---|---|---|---|');
    for (const p of unverified) lines.push(`| ${p.file} | ${p.table} | ${cell(p.name)} | ${cell(p.why ?? '')} |`);
  }
  return `${lines.join('\n')}\n`;
}
