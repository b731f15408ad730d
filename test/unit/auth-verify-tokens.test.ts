/**
 * Token checks without a database: the user states come from the `lookup` callback (what verify
 * reads from the target), so every rejection reason and the JWKS parsing are exercised directly.
 */
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { checkTokens, parseJwks, type TokenUser } from '../../src/core/auth/verify-tokens.js';
import { parsePasswordPair, splitTokens } from '../../src/core/auth/verify-input.js';
import { redact } from '../../src/secrets.js';

const SECRET = 'unit-test-jwt-secret-value';
const ALICE = '00000000-0000-4000-8000-00000000000a';
const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: JWTPayload = {}): JWTPayload => ({ sub: ALICE, role: 'authenticated', aud: 'authenticated', exp: now() + 600, ...extra });
const hs = (c: JWTPayload, secret = SECRET) => new SignJWT(c).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
const users = (states: Record<string, TokenUser>) => async (ids: string[]) => new Map(ids.filter((i) => states[i]).map((i) => [i, states[i]!]));

describe('checkTokens', () => {
  it('accepts a good HS256 token and rejects each bad one with its reason', async () => {
    const tokens = [
      await hs(claims()),
      await hs(claims({ exp: now() - 60 })),
      await hs(claims(), 'another-secret-entirely'),
      await hs(claims({ aud: 'other' })),
      await hs(claims({ role: 'service_role' })),
      await hs(claims({ sub: 'nobody' })),
      'not.a.jwt',
      'plain-text',
    ];
    const r = await checkTokens(tokens, { secret: SECRET }, 'authenticated', users({ [ALICE]: { role: 'authenticated', banned: false, deleted: false } }));
    expect(r.map((t) => t.reason ?? 'accepted')).toEqual(['accepted', 'expired', 'bad signature or wrong key', 'wrong aud', 'wrong role', 'unknown user', 'not a JWT', 'not a JWT']);
    // every token is a registered secret from then on
    expect(redact(`x ${tokens[0]} y`)).toBe('x **** y');
  });

  it('banned and deleted users, and an RS256 token without a JWKS', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const rs = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    const r = await checkTokens([await hs(claims()), rs], { secret: SECRET }, 'authenticated', users({ [ALICE]: { role: 'authenticated', banned: true, deleted: false } }));
    expect(r.map((t) => t.reason)).toEqual(['banned', 'no key for its algorithm']);
    const d = await checkTokens([await hs(claims())], { secret: SECRET }, 'authenticated', users({ [ALICE]: { role: 'authenticated', banned: true, deleted: true } }));
    expect(d[0]!.reason).toBe('deleted');
  });

  it('verifies ES256 against a JWKS and reports missing contract claims', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwks = await parseJwks(JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'a', alg: 'ES256' }] }), 'test');
    const es = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: 'a' }).sign(privateKey);
    const [r] = await checkTokens([es], { jwks }, 'authenticated', users({ [ALICE]: { role: 'authenticated', banned: false, deleted: false } }));
    expect(r).toMatchObject({ accepted: true, alg: 'ES256', kid: 'a', sub: ALICE });
    expect(r!.missingClaims).toEqual(expect.arrayContaining(['email', 'app_metadata', 'session_id', 'is_anonymous']));
  });
});

describe('inputs', () => {
  it('parseJwks refuses what is not a key set', async () => {
    await expect(parseJwks('nope', 'f')).rejects.toThrow(/not JSON/);
    await expect(parseJwks('{"keys": []}', 'f')).rejects.toThrow(/no "keys" array/);
    await expect(parseJwks('{"keys": [{"kty": "EC", "crv": "P-256"}]}', 'f')).rejects.toThrow(/cannot be used/);
  });

  it('a password pair splits at the first colon and the password is a secret at once', () => {
    expect(parsePasswordPair('a@b.c:pass:with:colons')).toEqual({ email: 'a@b.c', password: 'pass:with:colons' });
    expect(redact('pass:with:colons')).toBe('****');
    expect(() => parsePasswordPair('no-colon')).toThrow(/email:password/);
    expect(splitTokens('a.b.c\n\n  d.e.f  \n')).toEqual(['a.b.c', 'd.e.f']);
  });
});
