/**
 * Ask one resolver for a name, the way a client of the migrated app would. Queries are built and
 * read with dns-packet over UDP (TCP on truncation) rather than node:dns, because node:dns gives
 * no rcode and no TTL for CNAME and TXT answers, and dns-check steps need both.
 */
import { Resolver } from 'node:dns';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { DnsError } from '../../errors.js';
import { TYPE_CODES, encodeMessage, encodeQuestion, exchange, parseServer, rcodeOf } from './wire.js';
import { normalizeName, type DnsRecordType } from './types.js';

export interface ResolvedRecord { values: string[]; ttl: number | null; rcode: string }

function textOf(data: unknown): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return data.map(textOf).join('');
  return String(data);
}

/**
 * The values of `type` the answer section holds for `name`, following a CNAME chain for A, AAAA
 * and TXT (unless `follow` is false: a provider's own record set is what is at the name itself);
 * ttl is the smallest TTL along the way (what a cache would keep it for).
 */
export function valuesOfAnswer(packet: dnsPacket.DecodedPacket, name: string, type: DnsRecordType, follow = true): { values: string[]; ttl: number | null } {
  const answers = (packet.answers ?? []) as Array<{ name: string; type: string; ttl?: number; data: unknown }>;
  let owner = normalizeName(name);
  let ttl: number | null = null;
  const seen = new Set<string>();
  for (;;) {
    const direct = answers.filter((a) => normalizeName(a.name) === owner && a.type === type);
    if (direct.length > 0) {
      for (const a of direct) ttl = ttl === null ? (a.ttl ?? 0) : Math.min(ttl, a.ttl ?? 0);
      return { values: direct.map((a) => (type === 'CNAME' ? normalizeName(textOf(a.data)) : textOf(a.data))), ttl };
    }
    const alias = answers.find((a) => normalizeName(a.name) === owner && a.type === 'CNAME');
    if (!follow || !alias || seen.has(owner)) return { values: [], ttl: null };
    seen.add(owner);
    ttl = ttl === null ? (alias.ttl ?? 0) : Math.min(ttl, alias.ttl ?? 0);
    owner = normalizeName(textOf(alias.data));
  }
}

/** The system's resolvers (from /etc/resolv.conf, as node reads it). */
function systemResolvers(): string[] {
  const servers = new Resolver().getServers();
  if (servers.length === 0) throw new DnsError('unreachable', 'this machine has no DNS resolver configured', { hint: 'pass a resolver explicitly (host or host:port)' });
  return servers;
}

/** Ask one resolver ('host' or 'host:port'; undefined = the system's) for a name; ttl is the answer's TTL (null when absent). */
export async function resolveRecord(name: string, type: DnsRecordType, resolver: string | undefined, timeoutMs: number): Promise<ResolvedRecord> {
  const candidates = resolver === undefined ? systemResolvers() : [resolver];
  let lastError: unknown;
  for (const candidate of candidates) {
    try {
      const query = encodeMessage({ id: randomInt(0, 0x10000), flags: dnsPacket.RECURSION_DESIRED, questions: [encodeQuestion(normalizeName(name), TYPE_CODES[type])] });
      const answer = await exchange(parseServer(candidate), query, { timeoutMs });
      const rcode = rcodeOf(answer);
      const found = valuesOfAnswer(dnsPacket.decode(answer), name, type);
      return { values: found.values, ttl: found.ttl, rcode };
    } catch (error) {
      lastError = error; // the system's next resolver may answer
    }
  }
  throw lastError;
}
