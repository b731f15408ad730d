/**
 * The cloudflare and route53 providers through their official SDKs against local stand-ins of
 * the documented APIs: what the stand-in holds after each call is the evidence (not what the
 * provider returns). Includes API errors, rate limits (retried, then exhausted) and the rule that
 * tokens and keys never appear in messages.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ConfigError, DnsError } from '../../src/errors.js';
import { makeProvider, ProviderConfigSchema, type ProviderTuning } from '../../src/core/dns/providers.js';
import { redact } from '../../src/secrets.js';
import { startCloudflareStandin, type CloudflareStandin } from '../bed/provider-standins/cloudflare.js';
import { startRoute53Standin, type Route53Standin } from '../bed/provider-standins/route53.js';

const fast: ProviderTuning = { retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 }, pollIntervalMs: 5, changeTimeoutMs: 5_000, timeoutMs: 5_000 };
const logs: string[] = [];
const io = (env: NodeJS.ProcessEnv) => ({ env, confirm: async () => true, log: (m: string) => void logs.push(m) });

async function caught(p: Promise<unknown>): Promise<DnsError> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DnsError);
  return error as DnsError;
}

describe('cloudflare provider (SDK v4 API against a stand-in)', () => {
  let cf: CloudflareStandin;
  const held = (name: string, type = 'A') => [...cf.records.values()].filter((r) => r.name === name && r.type === type).map((r) => `${r.ttl} ${r.content}`).sort();
  beforeEach(async () => {
    logs.length = 0;
    cf = await startCloudflareStandin([
      { name: 'api.example.com', type: 'A', content: '192.0.2.10', ttl: 3600 },
      { name: 'www.example.com', type: 'A', content: '192.0.2.20', ttl: 300 },
    ]);
  });
  afterEach(async () => { await cf.close(); });
  const provider = (over: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = { CLOUDFLARE_API_TOKEN: cf.token }) =>
    makeProvider({ type: 'cloudflare', zoneId: cf.zoneId, baseUrl: cf.baseUrl, ...over } as never, io(env), fast);

  test('reads a record set, switches it to a new address (update in place) and back, with Bearer auth and name/type filters', async () => {
    const p = provider();
    expect(await p.get('api.example.com', 'A')).toEqual({ name: 'api.example.com', type: 'A', ttl: 3600, values: ['192.0.2.10'] });
    const id = [...cf.records.values()].find((r) => r.name === 'api.example.com')!.id;
    const change = await p.set({ name: 'api.example.com', type: 'A', ttl: 300, values: ['198.51.100.7'] });
    expect(change.changeId).toBe(id);
    expect(held('api.example.com')).toEqual(['300 198.51.100.7']);
    expect(cf.records.get(id)?.content).toBe('198.51.100.7');
    await p.set({ name: 'api.example.com', type: 'A', ttl: 3600, values: ['192.0.2.10'] });
    expect(held('api.example.com')).toEqual(['3600 192.0.2.10']);
    expect(held('www.example.com')).toEqual(['300 192.0.2.20']);

    const list = cf.requests.find((r) => r.method === 'GET')!;
    expect(list.headers.authorization).toBe(`Bearer ${cf.token}`);
    expect(list.query.get('name.exact')).toBe('api.example.com');
    expect(list.query.get('type')).toBe('A');
    expect(cf.requests.filter((r) => r.method === 'PUT')).toHaveLength(2);
  });

  test('a record set of several values: created, grown, shrunk (surplus deleted), deleted; an unchanged set sends no write', async () => {
    const p = provider();
    await p.set({ name: 'pool.example.com', type: 'A', ttl: 120, values: ['203.0.113.1', '203.0.113.2'] });
    expect(held('pool.example.com')).toEqual(['120 203.0.113.1', '120 203.0.113.2']);
    const writes = () => cf.requests.filter((r) => r.method !== 'GET').length;
    const before = writes();
    expect(await p.set({ name: 'pool.example.com', type: 'A', ttl: 120, values: ['203.0.113.2', '203.0.113.1'] })).toEqual({});
    expect(writes()).toBe(before);
    await p.set({ name: 'pool.example.com', type: 'A', ttl: 120, values: ['203.0.113.2'] });
    expect(held('pool.example.com')).toEqual(['120 203.0.113.2']);
    await p.delete('pool.example.com', 'A');
    expect(held('pool.example.com')).toEqual([]);
    expect(await p.get('pool.example.com', 'A')).toBeNull();
  });

  test('a wrong token is an auth error with a hint; neither token appears in the message', async () => {
    const wrong = `cf-wrong-${'x'.repeat(30)}`;
    const e = await caught(provider({}, { CLOUDFLARE_API_TOKEN: wrong }).set({ name: 'api.example.com', type: 'A', ttl: 60, values: ['203.0.113.9'] }));
    expect(e.reason).toBe('auth');
    expect(e.message).toMatch(/9109: Invalid access token/);
    expect(e.hint).toMatch(/Zone:DNS:Edit/);
    expect(held('api.example.com')).toEqual(['3600 192.0.2.10']);
    const shown = `${e.message} ${e.hint} ${logs.join(' ')}`;
    expect(shown).not.toContain(wrong);
    expect(shown).not.toContain(cf.token);
    expect(redact(`token ${wrong}`)).toBe('token ****');
  });

  test('an unknown zone is zone-not-found; the token can come from a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offramp-cf-'));
    try {
      writeFileSync(join(dir, 'token'), `${cf.token}\n`, { mode: 0o600 });
      const e = await caught(provider({ zoneId: 'f'.repeat(32), tokenFile: join(dir, 'token') }, {}).get('api.example.com', 'A'));
      expect(e.reason).toBe('zone-not-found');
      expect(e.message).toMatch(/7003/);
      expect(await provider({ tokenFile: join(dir, 'token') }, {}).get('api.example.com', 'A')).not.toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('429 twice: retried with backoff, then the change lands; 429 for ever: a clear rate-limited error after the bounded attempts', async () => {
    const p = provider();
    cf.rateLimit(2);
    await p.set({ name: 'api.example.com', type: 'A', ttl: 300, values: ['198.51.100.7'] });
    expect(held('api.example.com')).toEqual(['300 198.51.100.7']);
    expect(logs.filter((l) => /rate limited, attempt \d of 3/.test(l))).toHaveLength(2);

    const before = cf.requests.length;
    cf.rateLimit(Infinity);
    const e = await caught(p.set({ name: 'api.example.com', type: 'A', ttl: 300, values: ['192.0.2.10'] }));
    expect(e.reason).toBe('rate-limited');
    expect(e.message).toMatch(/after 3 attempts/);
    expect(cf.requests.length - before).toBe(3);
    expect(held('api.example.com')).toEqual(['300 198.51.100.7']);
  });
});

describe('route53 provider (SDK against a REST/XML stand-in)', () => {
  let r53: Route53Standin;
  beforeEach(async () => {
    logs.length = 0;
    r53 = await startRoute53Standin([
      { name: 'api.example.com.', type: 'A', ttl: 3600, values: ['192.0.2.10'] },
      { name: 'api.example.com.', type: 'TXT', ttl: 300, values: ['"v=1 \\"quoted\\""'] },
      { name: 'zzz.example.com.', type: 'A', ttl: 300, values: ['192.0.2.99'] },
    ]);
  });
  afterEach(async () => { await r53.close(); });
  const env = () => ({ AWS_ACCESS_KEY_ID: r53.accessKeyId, AWS_SECRET_ACCESS_KEY: r53.secretAccessKey });
  const provider = (over: Record<string, unknown> = {}, e: NodeJS.ProcessEnv = env(), tuning: ProviderTuning = fast) =>
    makeProvider({ type: 'route53', hostedZoneId: r53.hostedZoneId, endpoint: r53.url, region: 'us-east-1', ...over } as never, io(e), tuning);
  const held = (name: string, type = 'A') => r53.sets.get(`${name}.|${type}`);

  test('UPSERT switches the record; the change is polled with GetChange until INSYNC; SigV4 signed', async () => {
    const p = provider();
    expect(await p.get('api.example.com', 'A')).toEqual({ name: 'api.example.com', type: 'A', ttl: 3600, values: ['192.0.2.10'] });
    const { changeId } = await p.set({ name: 'api.example.com', type: 'A', ttl: 300, values: ['198.51.100.7', '198.51.100.8'] });
    expect(changeId).toMatch(/^\/change\/C[0-9A-F]+$/);
    expect(held('api.example.com')).toEqual({ name: 'api.example.com.', type: 'A', ttl: 300, values: ['198.51.100.7', '198.51.100.8'] });
    const id = changeId!.replace('/change/', '');
    expect(r53.changes.get(id)).toEqual({ polls: 3, status: 'INSYNC' });
    const post = r53.requests.find((r) => r.method === 'POST')!;
    expect(post.path).toMatch(new RegExp(`^/2013-04-01/hostedzone/${r53.hostedZoneId}/rrset/?$`));
    expect(post.body).toMatch(/<Action>UPSERT<\/Action>/);
    expect(post.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${r53.accessKeyId}/\\d{8}/us-east-1/route53/aws4_request`));
    expect(r53.requests.filter((r) => r.path.startsWith('/2013-04-01/change/'))).toHaveLength(3);
  });

  test('get finds the exact name and type (the list starts there), TXT quoting round-trips, delete sends the exact set', async () => {
    const p = provider();
    expect(await p.get('api.example.com', 'TXT')).toEqual({ name: 'api.example.com', type: 'TXT', ttl: 300, values: ['v=1 "quoted"'] });
    expect(await p.get('nothing.example.com', 'A')).toBeNull();
    expect(await p.get('api.example.com', 'AAAA')).toBeNull();
    await p.set({ name: 'api.example.com', type: 'TXT', ttl: 60, values: ['offramp "cutover"'] });
    expect(held('api.example.com', 'TXT')?.values).toEqual(['"offramp \\"cutover\\""']);
    expect((await p.get('api.example.com', 'TXT'))?.values).toEqual(['offramp "cutover"']);
    await p.delete('api.example.com', 'TXT');
    expect(held('api.example.com', 'TXT')).toBeUndefined();
    await p.delete('api.example.com', 'TXT'); // nothing there: nothing sent
    expect(held('api.example.com')?.values).toEqual(['192.0.2.10']);
  });

  test('InvalidChangeBatch and NoSuchHostedZone become clear errors; nothing changes', async () => {
    r53.invalidChangeBatch("RRSet of type CNAME with DNS name api.example.com. is not permitted as it conflicts with other records");
    const e = await caught(provider().set({ name: 'api.example.com', type: 'CNAME', ttl: 300, values: ['lb.example.net'] }));
    expect(e.reason).toBe('invalid-change');
    expect(e.message).toMatch(/InvalidChangeBatch.*conflicts with other records/);
    expect(held('api.example.com', 'CNAME')).toBeUndefined();

    const z = await caught(provider({ hostedZoneId: 'ZNOTTHERE' }).get('api.example.com', 'A'));
    expect(z.reason).toBe('zone-not-found');
  });

  test('Throttling twice: retried then applied; for ever: rate-limited after the bounded attempts', async () => {
    r53.throttle(2);
    await provider().set({ name: 'api.example.com', type: 'A', ttl: 300, values: ['198.51.100.7'] });
    expect(held('api.example.com')?.values).toEqual(['198.51.100.7']);
    expect(logs.filter((l) => /Route 53: .*rate limited/.test(l))).toHaveLength(2);

    r53.throttle(Infinity);
    const e = await caught(provider().set({ name: 'api.example.com', type: 'A', ttl: 300, values: ['192.0.2.10'] }));
    expect(e.reason).toBe('rate-limited');
    expect(held('api.example.com')?.values).toEqual(['198.51.100.7']);
  });

  test('unknown credentials are an auth error; the secret key never appears; a change never INSYNC times out clearly', async () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const e = await caught(provider({}, { AWS_ACCESS_KEY_ID: 'AKIAUNKNOWN000000000', AWS_SECRET_ACCESS_KEY: secret }).get('api.example.com', 'A'));
    expect(e.reason).toBe('auth');
    expect(e.message).toMatch(/InvalidClientTokenId/);
    expect(`${e.message} ${e.hint} ${logs.join(' ')}`).not.toContain(secret);

    r53.pendingPolls = Infinity;
    const slow = await caught(provider({}, env(), { ...fast, changeTimeoutMs: 200 }).set({ name: 'api.example.com', type: 'A', ttl: 300, values: ['198.51.100.9'] }));
    expect(slow.reason).toBe('timeout');
    expect(slow.message).toMatch(/not INSYNC within/);
    expect(slow.hint).toMatch(/get-change/);
    // Both secret keys were registered when the providers were made: any output masks them.
    expect(redact(`k=${secret} ${r53.secretAccessKey}`)).toBe('k=**** ****');
  });
});

describe('provider settings', () => {
  test('credentials inline are refused with where they belong; unknown keys and a missing tsig secret source too', () => {
    const bad = (v: unknown) => { const r = ProviderConfigSchema.safeParse(v); expect(r.success).toBe(false); return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'); };
    expect(bad({ type: 'cloudflare', zoneId: 'z', token: 'abc' })).toMatch(/token: credentials are never written inline.*tokenEnv or tokenFile/);
    expect(bad({ type: 'rfc2136', server: 'ns1', zone: 'example.com', tsig: { name: 'k', secret: 'c2VjcmV0' } })).toMatch(/tsig\.secret: credentials are never written inline.*secretEnv/);
    expect(bad({ type: 'rfc2136', server: 'ns1', zone: 'example.com', tsig: { name: 'k' } })).toMatch(/exactly one of secretEnv/);
    expect(bad({ type: 'route53', hostedZoneId: 'Z1', secretAccessKey: 'x' })).toMatch(/AWS SDK/);
    expect(bad({ type: 'route53', hostedZoneId: 'Z1', hostedZone: 'x' })).toMatch(/unknown setting "hostedZone"/);
    expect(bad({ type: 'bind' })).toBeTruthy();
    expect(ProviderConfigSchema.safeParse({ type: 'rfc2136', server: '127.0.0.1:5353', zone: 'example.com', tsig: { name: 'k', algorithm: 'hmac-sha512', secretEnv: 'TSIG' } }).success).toBe(true);
    expect(ProviderConfigSchema.safeParse({ type: 'manual', resolver: '127.0.0.1:53' }).success).toBe(true);
    // makeProvider refuses the same settings as a configuration error (exit 2), before any request.
    expect(() => makeProvider({ type: 'cloudflare', zoneId: 'z', token: 'inline-token' } as never, io({}))).toThrow(ConfigError);
  });
});
