/** The small pieces of the DNS layer that need no server: server specs, RDATA, value comparison, retry bounds. */
import { describe, expect, test } from 'vitest';
import dnsPacket from 'dns-packet';
import { DnsError } from '../../src/errors.js';
import { encodeRdata, encodeRecord, parseServer, TYPE_CODES, CLASS_ANY } from '../../src/core/dns/wire.js';
import { normalizeValue, sameValues } from '../../src/core/dns/types.js';
import { withRetry } from '../../src/core/dns/retry.js';

describe('DNS wire helpers', () => {
  test('server specs: host, host:port, bare IPv6, [IPv6]:port', () => {
    expect(parseServer('ns1.example.com')).toEqual({ host: 'ns1.example.com', port: 53 });
    expect(parseServer('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(parseServer('2001:db8::53')).toEqual({ host: '2001:db8::53', port: 53 });
    expect(parseServer('[2001:db8::53]:5300')).toEqual({ host: '2001:db8::53', port: 5300 });
  });

  test('RDATA as dns-packet decodes it again; a TXT value over 255 bytes becomes several strings', () => {
    const roundTrip = (type: 'A' | 'AAAA' | 'CNAME' | 'TXT', value: string) => {
      const rr = encodeRecord('x.example.com', TYPE_CODES[type], 1, 60, encodeRdata(type, value));
      const header = Buffer.from([0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
      return dnsPacket.decode(Buffer.concat([header, rr])).answers![0] as { data: unknown; ttl: number };
    };
    expect(roundTrip('A', '192.0.2.1').data).toBe('192.0.2.1');
    expect(roundTrip('AAAA', '2001:db8::1').data).toBe('2001:db8::1');
    expect(roundTrip('CNAME', 'lb.example.net').data).toBe('lb.example.net');
    const txt = roundTrip('TXT', 'x'.repeat(300)).data as Buffer[];
    expect(txt.map((b) => b.length)).toEqual([255, 45]);
    // "Delete an RRset" (RFC 2136 §2.5.2): class ANY, TTL 0, no RDATA.
    const del = encodeRecord('x.example.com', TYPE_CODES.A, CLASS_ANY, 0);
    expect(del.subarray(-10)).toEqual(Buffer.from([0, 1, 0, 255, 0, 0, 0, 0, 0, 0]));
  });

  test('values compare as sets, CNAMEs without the trailing dot, IPv6 in one spelling', () => {
    expect(normalizeValue('AAAA', '2001:0DB8:0:0::1')).toBe('2001:db8::1');
    expect(normalizeValue('CNAME', 'LB.Example.net.')).toBe('lb.example.net');
    expect(sameValues('A', ['192.0.2.1', '192.0.2.2'], ['192.0.2.2', '192.0.2.1'])).toBe(true);
    expect(sameValues('A', ['192.0.2.1'], ['192.0.2.1', '192.0.2.2'])).toBe(false);
  });
});

describe('withRetry', () => {
  test('retries only what is retryable, a bounded number of times, then says rate-limited', async () => {
    let calls = 0;
    const policy = { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 };
    await expect(withRetry('x', policy, async () => { calls++; throw new Error('429'); }, () => ({ retryable: true }))).rejects.toMatchObject({ reason: 'rate-limited' });
    expect(calls).toBe(4);
    calls = 0;
    const other = new Error('401');
    await expect(withRetry('x', policy, async () => { calls++; throw other; }, () => ({ retryable: false }))).rejects.toBe(other);
    expect(calls).toBe(1);
    calls = 0;
    expect(await withRetry('x', policy, async () => { if (++calls < 3) throw new Error('429'); return 'done'; }, () => ({ retryable: true }))).toBe('done');
    expect(calls).toBe(3);
    expect(new DnsError('rate-limited', 'm').exitCode).toBe(1);
  });
});
