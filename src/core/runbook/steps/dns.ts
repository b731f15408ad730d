/**
 * The dns-* steps. dns-check asks each listed resolver once; dns-propagation polls until every
 * resolver answers the new values; dns-update reads the record set the provider holds, records it
 * as evidence, then replaces it — and its undo puts back exactly what was recorded (or deletes
 * what did not exist before).
 */
import type { DnsRecordSet } from '../../dns/types.js';
import type { ProviderConfig } from '../../dns/providers.js';
import type { Evidence } from '../journal.js';
import type { StepParams } from '../schema.js';
import { fail, pass, type StepContext, type StepExecutor, type StepOutcome } from '../types.js';

const sameValues = (a: string[], b: string[]): boolean => {
  const norm = (v: string[]): string => [...new Set(v.map((x) => x.toLowerCase().replace(/\.$/, '')))].sort().join(',');
  return norm(a) === norm(b);
};

async function askAll(ctx: StepContext, name: string, type: StepParams<'dns-check'>['type'], resolvers: string[], timeoutMs: number) {
  const targets = resolvers.length ? resolvers : [undefined];
  return Promise.all(targets.map(async (resolver) => {
    try {
      return { resolver: resolver ?? 'system', ...(await ctx.dns.resolve(name, type, resolver, timeoutMs)) };
    } catch (error) {
      return { resolver: resolver ?? 'system', values: [] as string[], ttl: null, rcode: (error as Error).message };
    }
  }));
}

export const runDnsCheck: StepExecutor = async (ctx) => {
  const p = ctx.params as StepParams<'dns-check'>;
  const answers = await askAll(ctx, p.name, p.type, p.resolvers, p.queryTimeout);
  const problems: string[] = [];
  for (const a of answers) {
    if (a.rcode !== 'NOERROR') problems.push(`${a.resolver}: ${a.rcode}`);
    else if (p.expect?.values && !sameValues(a.values, p.expect.values)) problems.push(`${a.resolver} answers ${a.values.join(', ') || 'nothing'}, expected ${p.expect.values.join(', ')}`);
    if (p.expect?.maxTtl !== undefined && a.ttl !== null && a.ttl > p.expect.maxTtl) problems.push(`${a.resolver}: TTL ${a.ttl} above ${p.expect.maxTtl}`);
  }
  const evidence = { name: p.name, type: p.type, answers };
  const first = answers[0]!;
  return problems.length ? fail(problems.join('; '), evidence) : pass(`${p.name} ${p.type} ${first.values.join(', ')}${first.ttl !== null ? ` (TTL ${first.ttl})` : ''} at ${answers.length} resolver${answers.length > 1 ? 's' : ''}`, evidence);
};

export const runDnsPropagation: StepExecutor = async (ctx) => {
  const p = ctx.params as StepParams<'dns-propagation'>;
  const started = ctx.clock.now();
  let polls = 0;
  for (;;) {
    polls++;
    const answers = await askAll(ctx, p.name, p.type, p.resolvers, p.queryTimeout);
    const pending = answers.filter((a) => !sameValues(a.values, p.values));
    const elapsedMs = ctx.clock.now() - started;
    const evidence = { name: p.name, type: p.type, expected: p.values, polls, elapsedMs, answers };
    if (pending.length === 0) return pass(`all ${answers.length} resolver${answers.length > 1 ? 's' : ''} answer ${p.values.join(', ')} after ${polls} poll${polls > 1 ? 's' : ''} (${Math.round(elapsedMs / 1000)} s)`, evidence);
    const waiting = pending.map((a) => `${a.resolver} → ${a.values.join(', ') || a.rcode}`).join('; ');
    if (elapsedMs + p.interval > p.within) return fail(`not propagated within ${Math.round(p.within / 1000)} s: ${waiting}`, evidence);
    ctx.update(`${answers.length - pending.length}/${answers.length} resolvers updated; waiting for ${waiting}`);
    await ctx.clock.sleep(p.interval, ctx.signal);
  }
};

export const runDnsUpdate: StepExecutor = async (ctx) => {
  const p = ctx.params as StepParams<'dns-update'>;
  const provider = await ctx.dns.provider(p.provider);
  // An attempt that was interrupted after it changed the record already wrote down what was there
  // before; that, not the changed record the provider holds now, is what an undo must restore.
  const recorded = ctx.earlierNotes.find((n) => n.name === p.name && n.type === p.type && 'previous' in n);
  const previous = recorded ? (recorded.previous as DnsRecordSet | null) : await provider.get(p.name, p.type);
  if (recorded) ctx.update(`using the record set an interrupted attempt found: ${previous ? previous.values.join(', ') : 'none'}`);
  else ctx.note({ name: p.name, type: p.type, previous });
  const values = p.values ?? previous?.values;
  if (!values || values.length === 0) {
    return { ...fail(`${p.name} ${p.type} does not exist, and the step gives no values (a TTL change needs an existing record)`, { provider: p.provider, previous: null }), final: true };
  }
  const applied: DnsRecordSet = { name: p.name, type: p.type, ttl: p.ttl, values };
  // The previous record set is the undo's only source of truth; it is part of the step-passed record.
  const { changeId } = await provider.set(applied);
  const evidence: Evidence = { provider: p.provider, previous, applied, ...(changeId ? { changeId } : {}) };
  const was = previous ? `${previous.values.join(', ')} TTL ${previous.ttl}` : 'nothing';
  return pass(`${p.name} ${p.type}: ${was} → ${values.join(', ')} TTL ${p.ttl}`, evidence);
};

/** Undo of a dns-update: put back exactly the recorded previous record set, or delete what was created. */
export async function undoDnsUpdate(ctx: Pick<StepContext, 'dns'>, evidence: Evidence): Promise<StepOutcome> {
  const provider = await ctx.dns.provider(evidence.provider as ProviderConfig);
  const previous = evidence.previous as DnsRecordSet | null;
  const applied = evidence.applied as DnsRecordSet;
  if (previous) {
    const { changeId } = await provider.set(previous);
    return pass(`${previous.name} ${previous.type} restored to ${previous.values.join(', ')} TTL ${previous.ttl}`, { restored: previous, ...(changeId ? { changeId } : {}) });
  }
  await provider.delete(applied.name, applied.type);
  return pass(`${applied.name} ${applied.type} deleted (it did not exist before the cutover)`, { deleted: { name: applied.name, type: applied.type } });
}
