/**
 * The rfc2136 provider against a real BIND 9: TSIG-signed updates change what the server holds
 * (checked with dig, independently of offramp's own resolver), wrong keys and foreign zones are
 * refused with clear errors and change nothing, and secrets never appear in error messages.
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DnsError } from '../../src/errors.js';
import { makeProvider, type ProviderConfig } from '../../src/core/dns/providers.js';
import { resolveRecord } from '../../src/core/dns/resolve.js';
import { redact } from '../../src/secrets.js';
import { startBind, type BindServer } from '../bed/bind.js';

const ZONE = 'cutover.test';
const API = `api.${ZONE}`;
let bind: BindServer;
let dir: string;

/** What the server holds, read with dig (BIND's own client): "ttl value" lines, sorted. */
function dig(name: string, type: string): string[] {
  const out = execFileSync('dig', [`@127.0.0.1`, '-p', String(bind.port), '+norecurse', '+noall', '+answer', name, type], { encoding: 'utf8' });
  return out.trim().split('\n').filter(Boolean).map((l) => { const f = l.split(/\s+/); return `${f[1]} ${f.slice(4).join(' ')}`; }).sort();
}

const io = (env: NodeJS.ProcessEnv) => ({ env, confirm: async () => true, log: () => {} });
const config = (over: Partial<Extract<ProviderConfig, { type: 'rfc2136' }>> = {}): ProviderConfig => ({
  type: 'rfc2136', server: bind.server, zone: ZONE, tsig: { name: bind.tsigName, secretEnv: 'TEST_TSIG_SECRET' }, ...over,
});

async function caught(p: Promise<unknown>): Promise<DnsError> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DnsError);
  return error as DnsError;
}

beforeAll(async () => {
  bind = await startBind({ zone: ZONE, records: [{ name: API, type: 'A', ttl: 3600, values: ['192.0.2.10'] }] });
  dir = mkdtempSync(join(tmpdir(), 'offramp-dns-test-'));
});
afterAll(async () => {
  await bind?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('rfc2136 with TSIG against BIND 9', () => {
  test('switches api.<zone> A to a new address and back; the server and a resolver see each value and TTL', async () => {
    const provider = makeProvider(config(), io({ TEST_TSIG_SECRET: bind.tsigSecret }));
    expect(await provider.get(API, 'A')).toEqual({ name: API, type: 'A', ttl: 3600, values: ['192.0.2.10'] });

    const change = await provider.set({ name: API, type: 'A', ttl: 300, values: ['198.51.100.7'] });
    expect(change.changeId).toBeTruthy();
    expect(dig(API, 'A')).toEqual(['300 198.51.100.7']);
    expect(await resolveRecord(API, 'A', bind.server, 2000)).toEqual({ values: ['198.51.100.7'], ttl: 300, rcode: 'NOERROR' });
    expect(await provider.get(API, 'A')).toEqual({ name: API, type: 'A', ttl: 300, values: ['198.51.100.7'] });

    await provider.set({ name: API, type: 'A', ttl: 3600, values: ['192.0.2.10'] });
    expect(dig(API, 'A')).toEqual(['3600 192.0.2.10']);
    expect(await resolveRecord(API, 'A', bind.server, 2000)).toEqual({ values: ['192.0.2.10'], ttl: 3600, rcode: 'NOERROR' });
  });

  test('creates and deletes record sets of every type (several values, long TXT) with a key read from a BIND key file, hmac-sha512', async () => {
    const sha512 = await startBind({ zone: ZONE, tsig: { name: 'sha512-key', algorithm: 'hmac-sha512' } });
    try {
      const keyFile = join(dir, 'sha512.key');
      writeFileSync(keyFile, `key "sha512-key" {\n\talgorithm hmac-sha512;\n\tsecret "${sha512.tsigSecret}";\n};\n`, { mode: 0o600 });
      const provider = makeProvider({ type: 'rfc2136', server: sha512.server, zone: ZONE, tsig: { name: 'sha512-key', algorithm: 'hmac-sha512', secretFile: keyFile } }, io({}));
      const digAt = (name: string, type: string) => execFileSync('dig', ['@127.0.0.1', '-p', String(sha512.port), '+noall', '+answer', '+short', name, type], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).sort();

      await provider.set({ name: `www.${ZONE}`, type: 'AAAA', ttl: 120, values: ['2001:db8::1', '2001:db8::2'] });
      expect(digAt(`www.${ZONE}`, 'AAAA')).toEqual(['2001:db8::1', '2001:db8::2']);
      await provider.set({ name: `alias.${ZONE}`, type: 'CNAME', ttl: 60, values: [`www.${ZONE}`] });
      expect(digAt(`alias.${ZONE}`, 'CNAME')).toEqual([`www.${ZONE}.`]);
      const long = 'v=offramp '.repeat(40);
      await provider.set({ name: `txt.${ZONE}`, type: 'TXT', ttl: 60, values: [long] });
      expect(await provider.get(`txt.${ZONE}`, 'TXT')).toEqual({ name: `txt.${ZONE}`, type: 'TXT', ttl: 60, values: [long] });
      // A through the CNAME: the resolver follows the chain, TTL is the smallest on the way.
      expect(await resolveRecord(`alias.${ZONE}`, 'AAAA', sha512.server, 2000)).toMatchObject({ ttl: 60, rcode: 'NOERROR' });
      // The provider's record set is what is at the name itself: a CNAME there is not an AAAA set.
      expect(await provider.get(`alias.${ZONE}`, 'AAAA')).toBeNull();
      expect(await provider.get(`alias.${ZONE}`, 'CNAME')).toEqual({ name: `alias.${ZONE}`, type: 'CNAME', ttl: 60, values: [`www.${ZONE}`] });

      await provider.delete(`www.${ZONE}`, 'AAAA');
      expect(digAt(`www.${ZONE}`, 'AAAA')).toEqual([]);
      expect(await provider.get(`www.${ZONE}`, 'AAAA')).toBeNull();
      await provider.delete(`txt.${ZONE}`, 'TXT');
      expect((await resolveRecord(`txt.${ZONE}`, 'TXT', sha512.server, 2000)).rcode).toBe('NXDOMAIN');
    } finally {
      await sha512.stop();
    }
  });

  test('a wrong secret is refused (BADSIG), an unknown key name too (BADKEY); nothing changes and no secret is shown', async () => {
    const before = dig(API, 'A');
    const wrongSecret = Buffer.from('not-the-right-secret-at-all-0123').toString('base64');
    const badSig = await caught(makeProvider(config(), io({ TEST_TSIG_SECRET: wrongSecret })).set({ name: API, type: 'A', ttl: 60, values: ['203.0.113.66'] }));
    expect(badSig.reason).toBe('tsig-badsig');
    expect(badSig.message).toMatch(/BADSIG/);
    expect(badSig.hint).toMatch(/secret/);

    const badKey = await caught(makeProvider(config({ tsig: { name: 'no-such-key', secretEnv: 'TEST_TSIG_SECRET' } }), io({ TEST_TSIG_SECRET: bind.tsigSecret }))
      .set({ name: API, type: 'A', ttl: 60, values: ['203.0.113.66'] }));
    expect(badKey.reason).toBe('tsig-badkey');
    expect(badKey.message).toMatch(/no-such-key.*BADKEY/);

    expect(dig(API, 'A')).toEqual(before);
    for (const e of [badSig, badKey]) {
      const shown = redact(`${e.message} ${e.hint ?? ''}`);
      expect(shown).not.toContain(bind.tsigSecret);
      expect(shown).not.toContain(wrongSecret);
    }
    // Both secrets were registered when read: whatever prints them masks them.
    expect(redact(`secret ${bind.tsigSecret} and ${wrongSecret}`)).toBe('secret **** and ****');
  });

  test('an update outside the zone is refused: by offramp before sending (NOTZONE), by the server for a zone it does not serve (NOTAUTH)', async () => {
    const provider = makeProvider(config(), io({ TEST_TSIG_SECRET: bind.tsigSecret }));
    const outside = await caught(provider.set({ name: 'api.elsewhere.test', type: 'A', ttl: 60, values: ['203.0.113.9'] }));
    expect(outside.reason).toBe('notzone');

    const foreign = makeProvider(config({ zone: 'elsewhere.test' }), io({ TEST_TSIG_SECRET: bind.tsigSecret }));
    const notAuth = await caught(foreign.set({ name: 'api.elsewhere.test', type: 'A', ttl: 60, values: ['203.0.113.9'] }));
    expect(notAuth.reason).toBe('notauth');
    expect(notAuth.message).toMatch(/not authoritative.*NOTAUTH/);
    expect(dig('api.elsewhere.test', 'A')).toEqual([]);
  });

  test('an update without a key is refused by the server (REFUSED); a missing secret variable is a clear error before anything is sent', async () => {
    const unsigned = await caught(makeProvider({ type: 'rfc2136', server: bind.server, zone: ZONE }, io({})).set({ name: API, type: 'A', ttl: 60, values: ['203.0.113.7'] }));
    expect(unsigned.reason).toBe('refused');
    const missing = await caught(Promise.resolve().then(() => makeProvider(config(), io({}))));
    expect(missing.reason).toBe('credentials-missing');
    expect(missing.message).toContain('TEST_TSIG_SECRET');
    expect(dig(API, 'A')).not.toContain('60 203.0.113.7');
  });

  test('resolveRecord: rcodes as the server gives them, and an answer too big for UDP fetched again over TCP', async () => {
    // recursion is off: a name in a zone BIND does not serve is REFUSED, not resolved.
    expect(await resolveRecord('www.example.org', 'A', bind.server, 2000)).toEqual({ values: [], ttl: null, rcode: 'REFUSED' });
    expect(await resolveRecord(`nothing.${ZONE}`, 'A', bind.server, 2000)).toEqual({ values: [], ttl: null, rcode: 'NXDOMAIN' });
    expect(await resolveRecord(API, 'TXT', bind.server, 2000)).toEqual({ values: [], ttl: null, rcode: 'NOERROR' });
    const provider = makeProvider(config(), io({ TEST_TSIG_SECRET: bind.tsigSecret }));
    const big = ['a', 'b', 'c'].map((c) => c.repeat(250));
    await provider.set({ name: `big.${ZONE}`, type: 'TXT', ttl: 90, values: big });
    // Over 512 bytes: BIND answers UDP with TC set, the resolver asks again over TCP.
    expect(execFileSync('dig', ['@127.0.0.1', '-p', String(bind.port), '+notcp', '+ignore', '+noedns', `big.${ZONE}`, 'TXT'], { encoding: 'utf8' })).toMatch(/flags:[^;]*\btc\b/);
    const got = await resolveRecord(`big.${ZONE}`, 'TXT', bind.server, 2000);
    expect(got.values.sort()).toEqual(big);
    expect(got.ttl).toBe(90);
    expect((await provider.get(`big.${ZONE}`, 'TXT'))?.values.sort()).toEqual(big);
    await provider.delete(`big.${ZONE}`, 'TXT');
  });

  test('a server that does not answer ends in a timeout error, bounded', async () => {
    const provider = makeProvider(config({ server: '127.0.0.1:9' }), io({ TEST_TSIG_SECRET: bind.tsigSecret }), { timeoutMs: 500 });
    const error = await caught(provider.get(API, 'A'));
    expect(['timeout', 'unreachable']).toContain(error.reason);
  });
});

describe('answers on the way back are checked', () => {
  test('an answer altered between BIND and offramp fails TSIG verification (tsig-badsig), not trusted', async () => {
    // A UDP relay that flips the last byte of the A record's address in BIND's answer (before the TSIG record).
    const relay = createSocket('udp4');
    await new Promise<void>((r) => relay.bind(0, '127.0.0.1', () => r()));
    const clients = new Map<number, { port: number; address: string }>();
    relay.on('message', (msg, from) => {
      if (from.port === bind.port) {
        const client = clients.get(msg.readUInt16BE(0));
        const altered = Buffer.from(msg);
        const at = altered.indexOf(Buffer.from([192, 0, 2, 10]));
        if (at > 0) altered[at + 3] = 11;
        if (client) relay.send(altered, client.port, client.address);
      } else {
        clients.set(msg.readUInt16BE(0), { port: from.port, address: from.address });
        relay.send(msg, bind.port, '127.0.0.1');
      }
    });
    try {
      const via = makeProvider(config({ server: `127.0.0.1:${relay.address().port}` }), io({ TEST_TSIG_SECRET: bind.tsigSecret }));
      const e = await caught(via.get(API, 'A'));
      expect(e.reason).toBe('tsig-badsig');
      expect(e.message).toMatch(/does not verify/);
      // Straight to BIND, the same query verifies and reads the true value.
      expect((await makeProvider(config(), io({ TEST_TSIG_SECRET: bind.tsigSecret })).get(API, 'A'))?.values).toEqual(['192.0.2.10']);
    } finally {
      relay.close();
    }
  });
});

describe('manual provider, verified against BIND', () => {
  test('prints the change, waits for the person, then verifies by resolving; declined or not visible are clear errors', async () => {
    const rfc = makeProvider(config(), io({ TEST_TSIG_SECRET: bind.tsigSecret }));
    const said: string[] = [];
    const asked: string[] = [];
    let answers: boolean[] = [];
    const manual = makeProvider({ type: 'manual', resolver: bind.server }, {
      env: {},
      log: (m) => void said.push(m),
      confirm: async (question) => {
        asked.push(question);
        // The "person" makes the change at the provider before saying yes the first time.
        if (asked.length === 1) await rfc.set({ name: `manual.${ZONE}`, type: 'A', ttl: 120, values: ['203.0.113.50'] });
        return answers.shift() ?? false;
      },
    });
    answers = [true];
    await manual.set({ name: `manual.${ZONE}`, type: 'A', ttl: 120, values: ['203.0.113.50'] });
    expect(said[0]).toMatch(/manual DNS change needed: set manual\.cutover\.test A \(TTL 120\) to 203\.0\.113\.50/);
    expect(asked[0]).toMatch(/Have you set manual\.cutover\.test A to 203\.0\.113\.50/);
    expect(dig(`manual.${ZONE}`, 'A')).toEqual(['120 203.0.113.50']);
    expect(await manual.get(`manual.${ZONE}`, 'A')).toEqual({ name: `manual.${ZONE}`, type: 'A', ttl: 120, values: ['203.0.113.50'] });

    // Says yes, but the change is not there: asked to look again, then refused.
    answers = [true, false];
    const notThere = await caught(manual.set({ name: `manual.${ZONE}`, type: 'A', ttl: 120, values: ['203.0.113.51'] }));
    expect(notThere.reason).toBe('not-verified');
    expect(said.join('\n')).toMatch(/still answers manual\.cutover\.test A: 203\.0\.113\.50/);

    answers = [false];
    const declined = await caught(manual.delete(`manual.${ZONE}`, 'A'));
    expect(declined.reason).toBe('not-confirmed');
    expect(dig(`manual.${ZONE}`, 'A')).toEqual(['120 203.0.113.50']);
  });
});

