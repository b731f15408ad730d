/** Fail closed: what a left-out RESTRICTIVE policy means for the rest of its table (see holdBackWidened). */
import type { TranslatedPolicy } from './types.js';

/** The commands a policy FOR <command> applies to. */
const APPLIES_TO: Record<TranslatedPolicy['command'], Array<Exclude<TranslatedPolicy['command'], 'ALL'>>> = {
  ALL: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], SELECT: ['SELECT'], INSERT: ['INSERT'], UPDATE: ['UPDATE'], DELETE: ['DELETE'],
};

/**
 * Fail closed. A RESTRICTIVE policy left out widens its table: the permissive ones alone allow what
 * it refused. So the table's other policies for the commands it restricts are held back too (and the
 * table keeps RLS enabled, so the target denies rather than over-allows). A restrictive SELECT policy
 * also restricts INSERT/UPDATE/DELETE (PostgreSQL applies SELECT policies to the rows they read or
 * return), so it holds back every command. Left-out permissive policies only narrow access: nothing
 * more is held back for them. Roles are not told apart: holding back more is the safe side. Marks
 * the held-back policies (leftOut, heldBack, a reason); returns how many it marked.
 */
export function holdBackWidened(policies: TranslatedPolicy[]): number {
  let marked = 0;
  const byTable = new Map<string, TranslatedPolicy[]>();
  for (const p of policies) byTable.set(`${p.schema}.${p.table}`, [...(byTable.get(`${p.schema}.${p.table}`) ?? []), p]);
  for (const group of byTable.values()) {
    const affected = new Map<string, TranslatedPolicy>();
    for (const r of group) {
      if (r.permissive || !r.leftOut || r.heldBack) continue;
      const commands = r.command === 'SELECT' ? APPLIES_TO.ALL : APPLIES_TO[r.command];
      for (const c of commands) if (!affected.has(c)) affected.set(c, r);
    }
    if (affected.size === 0) continue;
    for (const p of group) {
      if (p.leftOut) continue;
      const cause = APPLIES_TO[p.command].map((c) => affected.get(c)).find((x) => x);
      if (!cause) continue;
      const why = cause.class === 'not-translatable' ? `is not translatable: ${cause.reasons.join('; ')}` : `is left out: ${cause.leftOut}`;
      p.leftOut = `held back: restrictive policy "${cause.name}" on the same table and command ${why}`;
      p.heldBack = true;
      p.reasons.push(p.leftOut);
      marked++;
    }
  }
  return marked;
}
