/** The human summary of `auth verify` (stderr, text mode). No hash, password or token is in the report to print. */
import type { ChalkInstance } from 'chalk';
import type { AuthVerifyReport } from './verify.js';

const MAX_IDS = 10;

function ids(list: string[]): string {
  return list.slice(0, MAX_IDS).join(', ') + (list.length > MAX_IDS ? `, … (${list.length - MAX_IDS} more)` : '');
}

export function renderAuthVerifyText(r: AuthVerifyReport, c: ChalkInstance): string {
  const p = r.passwords;
  const out: string[] = [c.bold(`auth verify: users on the target in ${r.usersTable}`), ''];
  const pwOk = p.differing.length === 0 && p.missingOnTarget.length === 0;
  out.push(c.bold('Password continuity'));
  out.push((pwOk ? c.green : c.red)(`  ${p.equal} of ${p.sourceUsers} source users have the same password hash on the target (${p.targetUsers} users there)`));
  if (p.missingOnTarget.length) out.push(c.red(`  missing on the target: ${ids(p.missingOnTarget)}`));
  if (p.differing.length) out.push(c.red(`  hash differs: ${ids(p.differing)}`));
  for (const k of p.kinds) {
    const name = k.kind === 'bcrypt' ? `bcrypt $${k.variant}$ cost ${k.cost}` : k.variant && k.kind !== 'none' ? `${k.kind} (${k.variant})` : k.kind;
    out.push(`  ${String(k.users).padStart(6)}  ${name}: needs ${k.backendMustSupport}`);
  }
  for (const ch of p.checks) {
    out.push(`  ${ch.outcome === 'accepted' ? c.green('accepted') : c.red(ch.outcome)}  ${ch.email}`);
  }
  if (r.tokens.checks.length) {
    out.push('', c.bold(`Token continuity (aud ${r.tokens.audience}): ${r.tokens.accepted} accepted, ${r.tokens.rejected} rejected`));
    for (const t of r.tokens.checks) {
      const what = `token ${t.index}${t.alg ? ` ${t.alg}` : ''}${t.sub ? ` sub ${t.sub}` : ''}`;
      out.push(t.accepted ? `  ${c.green('accepted')}  ${what}` : `  ${c.red('rejected')}  ${what}: ${t.reason}${t.detail ? ` (${t.detail})` : ''}`);
      if (t.accepted && t.missingClaims?.length) out.push(c.dim(`            lacks ${t.missingClaims.join(', ')}`));
    }
  }
  out.push('', c.bold('Claims the new backend must issue and honour'));
  for (const k of r.claimsContract) out.push(`  ${k.claim.padEnd(13)} ${k.meaning}`);
  for (const b of r.badInput) out.push(c.red(`bad input: ${b}`));
  out.push('', r.ok ? c.green('nobody is locked out') : c.red('continuity check failed'));
  return out.join('\n') + '\n';
}
