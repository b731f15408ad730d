/**
 * `offramp auth verify` (the built CLI: `npm run build` first) on the fixture and a target holding
 * its users in the keep layout: the fixture's real passwords are accepted against the migrated
 * hashes and a wrong one rejected; tokens signed with the fixture's HS256 secret and with a generated
 * ES256 key verify, tokens of banned or deleted users, expired, wrongly signed or wrong-aud ones are
 * rejected with their reason; bad input exits 2; no secret appears in anything printed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { emptyTargetDatabase, fixtureDatabase, trackDatabases, type TestDatabase } from '../bed/databases.js';
import { runCli, type CliRun } from '../e2e/run-cli.js';
import { migrateAuth, fixtureUsers, type FixtureUser } from './auth-helpers.js';

const track = trackDatabases();
const JWT_SECRET = 'fixture-not-a-real-jwt-secret'; // the fixture signs its sample tokens with it (050-platform-dependents.sql)
const WRONG_PASSWORD = 'not-the-fixture-password-2';

let source: TestDatabase;
let target: TestDatabase;
let users: Map<number, FixtureUser>;
let dir: string;
let jwksFile: string;
let tokens: string[];
const secrets: string[] = [];

const hs = (claims: JWTPayload, secret = JWT_SECRET) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));

function userClaims(u: FixtureUser, exp = Math.floor(Date.now() / 1000) + 3600): JWTPayload {
  return {
    sub: u.id, role: 'authenticated', aud: 'authenticated', exp, iat: exp - 3600, email: u.email ?? '', phone: '',
    app_metadata: { provider: 'email' }, user_metadata: {}, aal: 'aal1', amr: [{ method: 'password', timestamp: exp - 3600 }],
    session_id: '00000000-0000-4000-8000-000000000001', is_anonymous: false,
  };
}

function json(run: CliRun): { ok: boolean; result: any; error?: { code: string; message: string; hint?: string } } {
  return JSON.parse(run.stdout);
}

function expectNoSecrets(run: CliRun): void {
  expect(secrets.length).toBeGreaterThan(10);
  for (const s of secrets) {
    expect(run.stdout).not.toContain(s);
    expect(run.stderr).not.toContain(s);
  }
}

const base = () => ['auth', 'verify', '--source', source.url, '--target', target.url];
const env = { FIXTURE_JWT_SECRET: JWT_SECRET };

beforeAll(async () => {
  [source, target] = await Promise.all([track(fixtureDatabase()), track(emptyTargetDatabase())]);
  users = await fixtureUsers(source.adminUrl);
  await migrateAuth(source.url, target.adminUrl);
  dir = mkdtempSync(join(tmpdir(), 'offramp-auth-verify-'));

  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const { privateKey: otherKey } = await generateKeyPair('ES256');
  jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] }));
  const es = (claims: JWTPayload, key = privateKey) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'JWT' }).sign(key);
  const u = (k: number) => users.get(k)!;
  tokens = [
    await hs(userClaims(u(2))), // 1 HS256, a migrated user: accepted
    await es(userClaims(u(3))), // 2 ES256 with the JWKS: accepted
    await hs(userClaims(u(7))), // 3 banned (k = 7)
    await hs(userClaims(u(13))), // 4 deleted (k = 13)
    await hs(userClaims(u(2), Math.floor(Date.now() / 1000) - 600)), // 5 expired
    await hs(userClaims(u(2)), 'some-other-projects-secret'), // 6 wrong HS256 secret
    await es(userClaims(u(3)), otherKey), // 7 ES256 signed by a key not in the JWKS
    await hs({ ...userClaims(u(2)), aud: 'someone-else' }), // 8 wrong aud
    await hs({ ...userClaims(u(2)), sub: '00000000-0000-4000-8000-00000000beef' }), // 9 not a migrated user
  ];
  const hashes = await withClient(source.adminUrl, { role: 'admin' }, (c) =>
    c.query<{ h: string }>("SELECT encrypted_password AS h FROM auth.users WHERE encrypted_password <> '' LIMIT 5"));
  secrets.push(JWT_SECRET, 'some-other-projects-secret', WRONG_PASSWORD, ...tokens, ...hashes.rows.map((r) => r.h),
    ...[1, 2, 3].map((k) => `fixture-password-${k}`), decodeURIComponent(new URL(source.url).password));
});

describe('offramp auth verify', () => {
  it('accepts the real passwords of three fixture users against the migrated hashes and rejects a wrong one (exit 3)', async () => {
    const u = (k: number) => users.get(k)!;
    const file = join(dir, 'passwords.tsv');
    writeFileSync(file, `${u(3).email}\tfixture-password-3\n${u(2).email}\t${WRONG_PASSWORD}\n`);
    const run = await runCli([...base(), '--json',
      '--check-password', `${u(1).email}:fixture-password-1`, '--check-password', `${u(2).email}:fixture-password-2`,
      '--check-password-file', file]);
    expect(run.exitCode, run.stderr).toBe(3);
    const r = json(run).result;
    expect(r.passwords.checks).toEqual([
      { email: u(1).email, outcome: 'accepted' },
      { email: u(2).email, outcome: 'accepted' },
      { email: u(3).email, outcome: 'accepted' },
      { email: u(2).email, outcome: 'rejected' },
    ]);
    // every hash arrived: the counts the servers hold, compared independently
    const [srcN, tgtN] = await Promise.all([source.adminUrl, target.adminUrl].map((url) =>
      withClient(url, { role: 'admin' }, (c) => c.query<{ n: number }>('SELECT count(*)::int AS n FROM auth.users')).then((x) => x.rows[0]!.n)));
    expect(r.passwords.sourceUsers).toBe(srcN);
    expect(r.passwords.equal).toBe(tgtN);
    expect(r.passwords.differing).toEqual([]);
    const kinds = Object.fromEntries(r.passwords.kinds.map((k: any) => [`${k.kind}:${k.variant ?? ''}:${k.cost ?? ''}`, k.users]));
    const expected = await withClient(source.adminUrl, { role: 'admin' }, (c) => c.query<{ bcrypt: number; none: number }>(
      "SELECT count(*) FILTER (WHERE encrypted_password LIKE '$2a$10$%')::int AS bcrypt, count(*) FILTER (WHERE coalesce(encrypted_password, '') = '')::int AS none FROM auth.users"));
    expect(kinds).toEqual({ 'bcrypt:2a:10': expected.rows[0]!.bcrypt, 'none::': expected.rows[0]!.none });
    expectNoSecrets(run);
  });

  it('passes (exit 0) when every check holds, and a changed hash on the target fails it (exit 3) naming the user', async () => {
    const u = (k: number) => users.get(k)!;
    const ok = await runCli([...base(), '--json', '--check-password', `${u(5).email}:fixture-password-5`]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    const other = await track(emptyTargetDatabase());
    await migrateAuth(source.url, other.adminUrl);
    await withClient(other.adminUrl, { role: 'admin' }, (c) => c.query("UPDATE auth.users SET encrypted_password = encrypted_password || 'x' WHERE id = $1", [u(4).id]));
    const bad = await runCli(['auth', 'verify', '--source', source.url, '--target', other.url, '--json']);
    expect(bad.exitCode, bad.stderr).toBe(3);
    expect(json(bad).result.passwords.differing).toEqual([u(4).id]);
    expectNoSecrets(bad);
  });

  it('verifies tokens with the HS256 secret and the ES256 JWKS, and rejects each bad one with its reason', async () => {
    const file = join(dir, 'tokens.txt');
    writeFileSync(file, tokens.join('\n') + '\n');
    const run = await runCli([...base(), '--json', '--jwt-secret-env', 'FIXTURE_JWT_SECRET', '--jwks', jwksFile, '--token-file', file], { env });
    expect(run.exitCode, run.stderr).toBe(3);
    const r = json(run).result;
    const outcome = r.tokens.checks.map((t: any) => [t.index, t.accepted, t.reason ?? null]);
    expect(outcome).toEqual([
      [1, true, null],
      [2, true, null],
      [3, false, 'banned'],
      [4, false, 'deleted'],
      [5, false, 'expired'],
      [6, false, 'bad signature or wrong key'],
      [7, false, 'bad signature or wrong key'],
      [8, false, 'wrong aud'],
      [9, false, 'unknown user'],
    ]);
    expect(r.tokens.checks[0].sub).toBe(users.get(2)!.id);
    expect(r.tokens.checks[1].alg).toBe('ES256');
    expect(r.tokens.checks[0].missingClaims).toEqual([]);
    expect(r.claimsContract.map((c: any) => c.claim)).toEqual(expect.arrayContaining(['sub', 'role', 'aud', 'email', 'phone', 'app_metadata', 'user_metadata', 'aal', 'amr', 'session_id', 'is_anonymous']));
    // the banned and deleted users really are so on the target
    const states = await withClient(target.adminUrl, { role: 'admin' }, (c) => c.query<{ banned: boolean; deleted: boolean }>(
      'SELECT coalesce(banned_until > now(), false) AS banned, deleted_at IS NOT NULL AS deleted FROM auth.users WHERE id = ANY($1::uuid[]) ORDER BY id = $2 DESC',
      [[users.get(7)!.id, users.get(13)!.id], users.get(7)!.id]));
    expect(states.rows).toEqual([{ banned: true, deleted: false }, { banned: false, deleted: true }]);
    expectNoSecrets(run);
    // text mode prints each reason, still without a secret
    const text = await runCli([...base(), '--jwt-secret-env', 'FIXTURE_JWT_SECRET', '--jwks', jwksFile, '--token-file', file], { env });
    expect(text.exitCode).toBe(3);
    for (const reason of ['banned', 'deleted', 'expired', 'bad signature or wrong key', 'wrong aud', 'unknown user']) expect(text.stderr).toContain(reason);
    expectNoSecrets(text);
  });

  it('exit 2 with a clear message: a token that is not a JWT, a malformed JWKS, a missing secret variable, no users table on the target', async () => {
    const notJwt = join(dir, 'not-jwt.txt');
    writeFileSync(notJwt, `${tokens[0]}\nthis-is-not-a-token\n`);
    const a = await runCli([...base(), '--json', '--jwt-secret-env', 'FIXTURE_JWT_SECRET', '--token-file', notJwt], { env });
    expect(a.exitCode, a.stderr).toBe(2);
    expect(json(a).result.badInput).toEqual(['token 2 is not a JWT']);
    expect(json(a).result.tokens.checks[1].reason).toBe('not a JWT');

    const badJwks = join(dir, 'bad-jwks.json');
    writeFileSync(badJwks, JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'nope' }] }));
    const b = await runCli([...base(), '--json', '--jwks', badJwks, '--token-env', 'T'], { env: { T: tokens[1]! } });
    expect(b.exitCode, b.stderr).toBe(2);
    expect(json(b).error!.message).toMatch(/key 1 of the JWKS .* cannot be used/);
    writeFileSync(badJwks, '{"keys": ');
    const b2 = await runCli([...base(), '--json', '--jwks', badJwks]);
    expect(b2.exitCode).toBe(2);
    expect(json(b2).error!.message).toMatch(/is not JSON/);

    const c = await runCli([...base(), '--json', '--jwt-secret-env', 'OFFRAMP_TEST_NO_SUCH_VARIABLE']);
    expect(c.exitCode).toBe(2);
    expect(json(c).error!.message).toContain('OFFRAMP_TEST_NO_SUCH_VARIABLE');

    const empty = await track(emptyTargetDatabase());
    const d = await runCli(['auth', 'verify', '--source', source.url, '--target', empty.url, '--json']);
    expect(d.exitCode).toBe(2);
    expect(json(d).error!.message).toContain('no users table auth.users');
    expect(json(d).error!.hint).toContain('auth migrate');
    for (const r of [a, b, b2, c, d]) expectNoSecrets(r);
  });
});
