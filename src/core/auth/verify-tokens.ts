/**
 * Token continuity: would the new backend accept the access tokens clients already hold? Each token
 * is verified with jose — HS256 with the project's legacy JWT secret, ES256/RS256 with its signing
 * keys (a JWKS) — and its claims are checked the way GoTrue and PostgREST read them. Tokens are
 * never printed: a result names a token by its position and, once verified, its `sub`.
 */
import { createLocalJWKSet, decodeProtectedHeader, errors, importJWK, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { UsageError } from '../../errors.js';
import { registerSecret } from '../../secrets.js';

/** Why a token would not be accepted by the new backend. */
export type TokenRejection =
  | 'not a JWT'
  | 'expired'
  | 'bad signature or wrong key'
  | 'no key for its algorithm'
  | 'wrong aud'
  | 'wrong role'
  | 'no sub'
  | 'unknown user'
  | 'banned'
  | 'deleted'
  | 'invalid claims';

export interface TokenCheck {
  /** 1-based position among the tokens given (line number of a --token-file). */
  index: number;
  accepted: boolean;
  reason?: TokenRejection;
  /** The header's alg (HS256, ES256, RS256, …) when the token could be decoded. */
  alg?: string;
  kid?: string;
  sub?: string;
  role?: string;
  /** Claims of the contract the token lacks (a backend that requires them would refuse it). */
  missingClaims?: string[];
  detail?: string;
}

/**
 * The claims a GoTrue access token carries (facts sheet §4.8) and PostgREST hands to SQL as
 * `request.jwt.claims`: the new backend must issue and honour the same, or policies and
 * `auth.uid()`/`auth.jwt()` read something else after the cutover.
 */
export const CLAIMS_CONTRACT: ReadonlyArray<{ claim: string; meaning: string }> = [
  { claim: 'sub', meaning: "the user's id (auth.users.id, kept by the migration); auth.uid() reads it" },
  { claim: 'role', meaning: 'the database role PostgREST switches to (authenticated, anon, service_role)' },
  { claim: 'aud', meaning: 'audience, "authenticated" for user tokens' },
  { claim: 'exp', meaning: 'expiry (seconds since 1970); tokens held by clients stay valid until then' },
  { claim: 'email', meaning: "the user's e-mail; auth.email() reads it" },
  { claim: 'phone', meaning: "the user's phone number" },
  { claim: 'app_metadata', meaning: 'raw_app_meta_data (provider, providers, roles set by the app)' },
  { claim: 'user_metadata', meaning: 'raw_user_meta_data (sign-up data)' },
  { claim: 'aal', meaning: 'authenticator assurance level (aal1, aal2 after MFA)' },
  { claim: 'amr', meaning: 'authentication methods used, [{method, timestamp}]' },
  { claim: 'session_id', meaning: 'the session the token belongs to' },
  { claim: 'is_anonymous', meaning: 'true for anonymous sign-ins' },
];

/** What a token is verified with: the HS256 secret, the signing keys, or both. */
export interface TokenKeys {
  secret?: string;
  jwks?: JSONWebKeySet;
}

/** The state of a user on the target, as far as tokens care. */
export interface TokenUser {
  role: string | null;
  banned: boolean;
  deleted: boolean;
}

/**
 * Read a JWKS document (file contents or a fetched body). Malformed → a usage error naming what is
 * wrong, before any token is looked at; every key is imported once so a broken key shows here.
 */
export async function parseJwks(text: string, origin: string): Promise<JSONWebKeySet> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UsageError(`the JWKS ${origin} is not JSON`, { hint: 'pass the JSON Web Key Set: {"keys": [{"kty": "EC", …}]} (Supabase: Project settings → JWT signing keys, or /auth/v1/.well-known/jwks.json)' });
  }
  const keys = (doc as { keys?: unknown }).keys;
  if (!doc || typeof doc !== 'object' || !Array.isArray(keys) || keys.length === 0) {
    throw new UsageError(`the JWKS ${origin} has no "keys" array`, { hint: 'a JWKS is {"keys": [ … ]} with at least one public key' });
  }
  for (const [i, key] of keys.entries()) {
    const k = key as { kty?: unknown; alg?: unknown; d?: unknown };
    if (!k || typeof k !== 'object' || typeof k.kty !== 'string') {
      throw new UsageError(`key ${i + 1} of the JWKS ${origin} has no "kty"`, { hint: 'every key needs kty (EC, RSA, OKP) and its public parameters' });
    }
    if (typeof k.d === 'string') registerSecret(k.d); // a private key pasted by mistake never shows
    try {
      await importJWK(key as Parameters<typeof importJWK>[0], typeof k.alg === 'string' ? k.alg : k.kty === 'EC' ? 'ES256' : k.kty === 'RSA' ? 'RS256' : undefined);
    } catch (error) {
      throw new UsageError(`key ${i + 1} of the JWKS ${origin} cannot be used: ${(error as Error).message}`, { hint: 'check the key parameters (crv, x, y for EC; n, e for RSA)' });
    }
  }
  return doc as JSONWebKeySet;
}

/** A token's header, or undefined when the text is not a compact JWS (three base64url parts). */
function headerOf(token: string): { alg?: string; kid?: string } | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    return decodeProtectedHeader(token);
  } catch {
    return undefined;
  }
}

function rejectionOf(error: unknown): { reason: TokenRejection; detail?: string } {
  if (error instanceof errors.JWTExpired) return { reason: 'expired' };
  if (error instanceof errors.JWSSignatureVerificationFailed) return { reason: 'bad signature or wrong key' };
  if (error instanceof errors.JWKSNoMatchingKey) return { reason: 'bad signature or wrong key', detail: 'no key of the JWKS matches its kid/alg' };
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return { reason: 'wrong aud' };
    return { reason: 'invalid claims', detail: `${error.claim}: ${error.reason}` };
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return { reason: 'no key for its algorithm' };
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return { reason: 'not a JWT' };
  return { reason: 'bad signature or wrong key', detail: (error as Error).message };
}

/** Verify one token's signature, exp and aud; the user checks come after (they need the database). */
async function verifySignature(token: string, keys: TokenKeys, audience: string): Promise<{ payload: JWTPayload } | { reason: TokenRejection; detail?: string }> {
  const header = headerOf(token);
  if (!header) return { reason: 'not a JWT' };
  const alg = header.alg ?? '';
  const options = { audience, requiredClaims: ['exp'] };
  try {
    if (alg.startsWith('HS')) {
      if (!keys.secret) return { reason: 'no key for its algorithm', detail: `${alg} needs the JWT secret (--jwt-secret-env)` };
      return await jwtVerify(token, new TextEncoder().encode(keys.secret), { ...options, algorithms: ['HS256', 'HS384', 'HS512'] });
    }
    if (!keys.jwks) return { reason: 'no key for its algorithm', detail: `${alg} needs the signing keys (--jwks)` };
    return await jwtVerify(token, createLocalJWKSet(keys.jwks), { ...options, algorithms: ['ES256', 'RS256', 'EdDSA', 'ES384', 'RS384', 'RS512', 'PS256'] });
  } catch (error) {
    return rejectionOf(error);
  }
}

/**
 * Check every token: signature and exp/aud with jose, then `role`, then that `sub` names a user on
 * the target who is neither banned nor deleted (`lookup` reads the migrated users).
 */
export async function checkTokens(
  tokens: string[],
  keys: TokenKeys,
  audience: string,
  lookup: (ids: string[]) => Promise<Map<string, TokenUser>>,
): Promise<TokenCheck[]> {
  for (const t of tokens) registerSecret(t);
  const verified = await Promise.all(tokens.map((t) => verifySignature(t, keys, audience)));
  const subs = verified.flatMap((v) => ('payload' in v && typeof v.payload.sub === 'string' ? [v.payload.sub] : []));
  const users = subs.length ? await lookup([...new Set(subs)]) : new Map<string, TokenUser>();
  return verified.map((v, i): TokenCheck => {
    const header = headerOf(tokens[i]!);
    const base: TokenCheck = { index: i + 1, accepted: false, ...(header?.alg ? { alg: header.alg } : {}), ...(header?.kid ? { kid: header.kid } : {}) };
    if (!('payload' in v)) return { ...base, reason: v.reason, ...(v.detail ? { detail: v.detail } : {}) };
    const p = v.payload;
    const role = typeof p.role === 'string' ? p.role : undefined;
    const sub = typeof p.sub === 'string' ? p.sub : undefined;
    const claims = p as Record<string, unknown>;
    const missingClaims = CLAIMS_CONTRACT.map((c) => c.claim).filter((c) => claims[c] === undefined);
    const seen: TokenCheck = { ...base, ...(sub ? { sub } : {}), ...(role ? { role } : {}), missingClaims };
    if (!sub) return { ...seen, reason: 'no sub' };
    const user = users.get(sub);
    if (!user) return { ...seen, reason: 'unknown user' };
    if (user.deleted) return { ...seen, reason: 'deleted' };
    if (user.banned) return { ...seen, reason: 'banned' };
    // The role claim is what PostgREST switches to: it must be the user's role (normally authenticated).
    if (!role || role !== (user.role ?? 'authenticated')) return { ...seen, reason: 'wrong role', detail: `the user's role is ${user.role ?? 'authenticated'}` };
    return { ...seen, accepted: true };
  });
}
