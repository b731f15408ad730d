/**
 * The manual provider: for DNS hosted where offramp cannot reach. It prints the change, waits
 * for a person to say it is done, then checks by resolving (best against the zone's own
 * authoritative server, which has no cache to wait out).
 */
import { DnsError } from '../../errors.js';
import { resolveRecord } from './resolve.js';
import { normalizeName, sameValues, type DnsProvider, type DnsRecordSet, type DnsRecordType } from './types.js';

export interface ManualOptions {
  /** Resolver to verify with ('host' or 'host:port'); undefined: the system's. */
  resolver?: string;
  timeoutMs: number;
  confirm(message: string): Promise<boolean>;
  log(message: string): void;
}

export class ManualProvider implements DnsProvider {
  readonly kind = 'manual' as const;

  constructor(private readonly options: ManualOptions) {}

  async get(name: string, type: DnsRecordType): Promise<DnsRecordSet | null> {
    const n = normalizeName(name);
    const r = await resolveRecord(n, type, this.options.resolver, this.options.timeoutMs);
    return r.values.length === 0 ? null : { name: n, type, ttl: r.ttl ?? 0, values: r.values };
  }

  /** Ask, then resolve; while the answer is not what was asked for, offer to look again. */
  private async confirmAndVerify(what: string, question: string, matches: (seen: DnsRecordSet | null) => boolean, describe: string): Promise<void> {
    this.options.log(`manual DNS change needed: ${what}`);
    if (!(await this.options.confirm(question))) {
      throw new DnsError('not-confirmed', `the manual DNS change was not confirmed: ${what}`, { hint: 'make the change at your DNS provider, then run the step again' });
    }
    const via = this.options.resolver ?? 'the system resolver';
    for (;;) {
      const seen = await this.get(describe.split(' ')[0]!, describe.split(' ')[1] as DnsRecordType);
      if (matches(seen)) return;
      this.options.log(`${via} still answers ${describe}: ${seen ? seen.values.join(', ') : 'nothing'}`);
      if (!(await this.options.confirm(`${via} does not show the change yet. Check again?`))) {
        throw new DnsError('not-verified', `the manual DNS change is not visible through ${via}: ${what}`, {
          hint: 'check the change at your provider; verify against the zone\'s authoritative server (the manual provider\'s resolver) to avoid caches',
        });
      }
    }
  }

  async set(records: DnsRecordSet): Promise<{ changeId?: string }> {
    const n = normalizeName(records.name);
    const what = `set ${n} ${records.type} (TTL ${records.ttl}) to ${records.values.join(', ')}`;
    await this.confirmAndVerify(what, `Have you set ${n} ${records.type} to ${records.values.join(', ')} with TTL ${records.ttl}?`,
      (seen) => seen !== null && sameValues(records.type, seen.values, records.values), `${n} ${records.type}`);
    return {};
  }

  async delete(name: string, type: DnsRecordType): Promise<void> {
    const n = normalizeName(name);
    await this.confirmAndVerify(`delete ${n} ${type}`, `Have you deleted ${n} ${type}?`, (seen) => seen === null, `${n} ${type}`);
  }
}
