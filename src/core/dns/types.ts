/**
 * The DNS contract shared by the providers (this folder) and the runbook's dns-* steps.
 * Changing a name here is changing a contract: add, do not rename.
 */

export type DnsRecordType = 'A' | 'AAAA' | 'CNAME' | 'TXT';

export const DNS_RECORD_TYPES: readonly DnsRecordType[] = ['A', 'AAAA', 'CNAME', 'TXT'];

/** A record set: one name and type, its TTL and all its values. name: FQDN without the trailing dot. */
export interface DnsRecordSet {
  name: string;
  type: DnsRecordType;
  ttl: number;
  values: string[];
}

export interface DnsProvider {
  readonly kind: 'rfc2136' | 'cloudflare' | 'route53' | 'manual';
  /** The record set as the provider holds it now, or null when there is none. */
  get(name: string, type: DnsRecordType): Promise<DnsRecordSet | null>;
  /** Replace (or create) the record set; resolves once the provider has accepted it (route53: the change is INSYNC). */
  set(records: DnsRecordSet): Promise<{ changeId?: string }>;
  /** Remove the record set (undo of a create). */
  delete(name: string, type: DnsRecordType): Promise<void>;
}

/** A name as offramp compares it: lower case, no trailing dot. */
export function normalizeName(name: string): string {
  return name.trim().replace(/\.$/, '').toLowerCase();
}

/** Values compared as sets: CNAME targets without trailing dot and lower case, AAAA in one spelling. */
export function normalizeValue(type: DnsRecordType, value: string): string {
  if (type === 'CNAME') return normalizeName(value);
  if (type === 'AAAA') {
    // The URL parser writes an IPv6 address in its one canonical spelling (2001:db8::1).
    try { return new URL(`http://[${value.trim()}]/`).hostname.slice(1, -1); } catch { return value.toLowerCase(); }
  }
  return value;
}

/** Do two value lists hold the same values (order and duplicates ignored)? */
export function sameValues(type: DnsRecordType, a: string[], b: string[]): boolean {
  const left = new Set(a.map((v) => normalizeValue(type, v)));
  const right = new Set(b.map((v) => normalizeValue(type, v)));
  return left.size === right.size && [...left].every((v) => right.has(v));
}
