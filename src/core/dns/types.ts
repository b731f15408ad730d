/**
 * The DNS contract shared by the runbook's dns-* steps and the providers (issue 12). The dns
 * engineer owns this file; the runbook branch carries an identical copy until the branches meet.
 */
export type DnsRecordType = 'A' | 'AAAA' | 'CNAME' | 'TXT';
/** A record set: one name and type, its TTL and all its values. name: FQDN without the trailing dot. */
export interface DnsRecordSet { name: string; type: DnsRecordType; ttl: number; values: string[] }
export interface DnsProvider {
  readonly kind: 'rfc2136' | 'cloudflare' | 'route53' | 'manual';
  /** The record set as the provider holds it now, or null when there is none. */
  get(name: string, type: DnsRecordType): Promise<DnsRecordSet | null>;
  /** Replace (or create) the record set; resolves once the provider has accepted it (route53: the change is INSYNC). */
  set(records: DnsRecordSet): Promise<{ changeId?: string }>;
  /** Remove the record set (undo of a create). */
  delete(name: string, type: DnsRecordType): Promise<void>;
}
