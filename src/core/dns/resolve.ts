/**
 * STUB — stand-in from the runbook branch for the dns engineer's resolve.ts (same signature), to
 * be REPLACED at merge. It asks one resolver through node:dns so dns-check works meanwhile.
 */
import { Resolver } from 'node:dns/promises';
import type { DnsRecordType } from './types.js';

function serverFor(resolver: string): string {
  // node:dns wants "host" or "host:port" (IPv6 in brackets).
  return resolver.includes(':') && !resolver.startsWith('[') && resolver.split(':').length > 2 ? `[${resolver}]` : resolver;
}

/** Ask one resolver ('host' or 'host:port'; undefined = the system's) for a name; ttl is the answer's TTL (null when absent). */
export async function resolveRecord(name: string, type: DnsRecordType, resolver: string | undefined, timeoutMs: number): Promise<{ values: string[]; ttl: number | null; rcode: string }> {
  const r = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (resolver) r.setServers([serverFor(resolver)]);
  try {
    if (type === 'A' || type === 'AAAA') {
      const answers = type === 'A' ? await r.resolve4(name, { ttl: true }) : await r.resolve6(name, { ttl: true });
      return { values: answers.map((a) => a.address), ttl: answers.length ? Math.min(...answers.map((a) => a.ttl)) : null, rcode: 'NOERROR' };
    }
    if (type === 'CNAME') return { values: await r.resolveCname(name), ttl: null, rcode: 'NOERROR' };
    return { values: (await r.resolveTxt(name)).map((parts) => parts.join('')), ttl: null, rcode: 'NOERROR' };
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'SERVFAIL';
    if (code === 'ENOTFOUND') return { values: [], ttl: null, rcode: 'NXDOMAIN' };
    if (code === 'ENODATA') return { values: [], ttl: null, rcode: 'NOERROR' };
    return { values: [], ttl: null, rcode: code };
  } finally {
    r.cancel();
  }
}
