/**
 * The rfc2136 provider: DNS UPDATE (RFC 2136) signed with TSIG (RFC 8945), sent to the zone's
 * primary server, in process (no nsupdate binary). `set` replaces a record set atomically in one
 * UPDATE message (delete the RRset, add each value); `get` asks the server itself, without
 * recursion, and accepts only an authoritative answer.
 */
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { DnsError } from '../../errors.js';
import { CLASS_ANY, CLASS_IN, OPCODE_UPDATE, TYPE_CODES, encodeMessage, encodeQuestion, encodeRdata, encodeRecord, exchange, parseServer, rcodeOf, type DnsServer } from './wire.js';
import { signMessage, verifyResponse, type TsigKey } from './tsig.js';
import { normalizeName, type DnsProvider, type DnsRecordSet, type DnsRecordType } from './types.js';
import { valuesOfAnswer } from './resolve.js';

export interface Rfc2136Options {
  server: string;
  zone: string;
  key?: TsigKey;
  timeoutMs?: number;
}

/** What each rcode of an UPDATE answer means for the person running it. */
function updateFailure(rcode: string, server: string, zone: string, name: string): DnsError {
  switch (rcode) {
    case 'NOTAUTH':
      return new DnsError('notauth', `DNS server ${server} is not authoritative for zone "${zone}", or does not accept this key for it (NOTAUTH)`, {
        hint: `point the provider at the primary server of "${zone}" and check the zone name and the key's allow-update/update-policy grant`,
      });
    case 'REFUSED':
      return new DnsError('refused', `DNS server ${server} refused the update of ${name} (REFUSED)`, {
        hint: `the server's allow-update or update-policy for "${zone}" does not grant this key this name; check the zone's configuration`,
      });
    case 'NOTZONE':
      return new DnsError('notzone', `${name} is not inside zone "${zone}" (NOTZONE)`, { hint: 'set the provider\'s zone to the zone that holds this name' });
    case 'SERVFAIL':
      return new DnsError('server-failure', `DNS server ${server} failed to apply the update of ${name} (SERVFAIL)`, { hint: 'read the DNS server\'s log: the zone may not be loaded or its journal not writable' });
    default:
      return new DnsError('refused', `DNS server ${server} answered the update of ${name} with ${rcode}`, { hint: 'see RFC 2136 §2.2 for the meaning of this code' });
  }
}

export class Rfc2136Provider implements DnsProvider {
  readonly kind = 'rfc2136' as const;
  private readonly server: DnsServer;
  private readonly zone: string;

  constructor(private readonly options: Rfc2136Options) {
    this.server = parseServer(options.server);
    this.zone = normalizeName(options.zone);
  }

  private get label(): string { return this.options.server; }
  private get timeoutMs(): number { return this.options.timeoutMs ?? 5_000; }

  /** Names outside the zone are refused before anything is sent. */
  private checkInZone(name: string): string {
    const n = normalizeName(name);
    if (n !== this.zone && !n.endsWith(`.${this.zone}`)) {
      throw new DnsError('notzone', `${n} is not inside zone "${this.zone}"`, { hint: 'set the provider\'s zone to the zone that holds this name, or fix the record name' });
    }
    return n;
  }

  /** Sign (when a key is configured), send, verify the signed answer. */
  private async send(message: Buffer, tcp: boolean): Promise<Buffer> {
    const key = this.options.key;
    if (!key) return exchange(this.server, message, { timeoutMs: this.timeoutMs, tcp });
    const { signed, mac } = signMessage(message, key);
    const answer = await exchange(this.server, signed, { timeoutMs: this.timeoutMs, tcp });
    verifyResponse(answer, mac, key, this.label);
    return answer;
  }

  async get(name: string, type: DnsRecordType): Promise<DnsRecordSet | null> {
    const n = this.checkInZone(name);
    const query = encodeMessage({ id: randomInt(0, 0x10000), flags: 0, questions: [encodeQuestion(n, TYPE_CODES[type])] });
    const answer = await this.send(query, false);
    const packet = dnsPacket.decode(answer);
    const rcode = rcodeOf(answer);
    if (rcode === 'NXDOMAIN') return null;
    if (rcode !== 'NOERROR') {
      throw new DnsError(rcode === 'REFUSED' ? 'refused' : 'server-failure', `DNS server ${this.label} answered the query for ${n} ${type} with ${rcode}`, {
        hint: `check that the server is authoritative for "${this.zone}" and allows queries from this machine`,
      });
    }
    if (!packet.flag_aa) {
      throw new DnsError('notauth', `DNS server ${this.label} is not authoritative for ${n} (its answer is not authoritative)`, {
        hint: `point the provider at the primary server of "${this.zone}"`,
      });
    }
    const found = valuesOfAnswer(packet, n, type, false);
    return found.values.length === 0 ? null : { name: n, type, ttl: found.ttl ?? 0, values: found.values };
  }

  private async update(name: string, updates: Buffer[]): Promise<{ changeId?: string }> {
    const id = randomInt(0, 0x10000);
    const message = encodeMessage({ id, flags: OPCODE_UPDATE << 11, questions: [encodeQuestion(this.zone, TYPE_CODES.SOA)], authorities: updates });
    const answer = await this.send(message, false);
    const rcode = rcodeOf(answer);
    if (rcode !== 'NOERROR') throw updateFailure(rcode, this.label, this.zone, name);
    return { changeId: `update-${id}` };
  }

  async set(records: DnsRecordSet): Promise<{ changeId?: string }> {
    const n = this.checkInZone(records.name);
    if (records.values.length === 0) throw new DnsError('invalid-change', `a record set needs at least one value (${n} ${records.type})`, { hint: 'use delete to remove a record set' });
    const code = TYPE_CODES[records.type];
    // RFC 2136 §2.5.2 then §2.5.1: both in one message, which the server applies atomically.
    return this.update(n, [
      encodeRecord(n, code, CLASS_ANY, 0),
      ...records.values.map((v) => encodeRecord(n, code, CLASS_IN, records.ttl, encodeRdata(records.type, v))),
    ]);
  }

  async delete(name: string, type: DnsRecordType): Promise<void> {
    const n = this.checkInZone(name);
    await this.update(n, [encodeRecord(n, TYPE_CODES[type], CLASS_ANY, 0)]);
  }
}
