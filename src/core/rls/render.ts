/** Text output of `rls translate` (stderr): counts, then each policy not installed with its reason. */
import type { RlsTranslation } from './types.js';

export function renderRlsText(r: RlsTranslation): string {
  const c = r.counts;
  const lines = [
    `${c.total} policies: ${c.portable} portable, ${c.compat} compat, ${c['auth-translation']} auth translation, ${c['not-translatable']} not translatable`,
  ];
  if (r.mode === 'compat' && r.installed) {
    if (c.heldBack) lines.push(`held back: ${c.heldBack} policies (fail closed: a restrictive policy on the same table and command was left out; --force installs them)`);
    lines.push(`installed: ${r.installed.policies} policies, ${r.installed.functions.length} functions, ${r.installed.grants} grants, RLS on ${r.installed.rlsTables.length} tables`);
    if (r.installed.deferredFile) lines.push(`deferred file: ${r.installed.deferredPoliciesRemoved} policies and ${r.installed.deferredApplied.length} other objects taken out`);
  }
  if (r.mode === 'app') lines.push(`predicates for ${r.tables?.length ?? 0} tables ($1 user id, $2 claims, $3 role)${r.rlsDisabled ? `; RLS turned off on ${r.rlsDisabled.length} tables` : ''}`);
  for (const p of r.policies.filter((x) => x.leftOut)) lines.push(`  left out: ${p.schema}.${p.table} "${p.name}": ${p.leftOut} (${p.reasons[0] ?? ''})`);
  for (const p of r.policies.filter((x) => x.class === 'not-translatable' && !x.leftOut)) lines.push(`  not translatable: ${p.schema}.${p.table} "${p.name}": ${p.reasons[0] ?? ''}`);
  return lines.join('\n');
}
