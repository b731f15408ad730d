/**
 * Who `rls verify` impersonates: anon, service_role, and users of the source's auth.users with the
 * claims Supabase's auth server would put in their access token (facts sheet §4.8: sub, email,
 * phone, role, aud, app_metadata, user_metadata, aal, amr, session_id, is_anonymous). PostgREST
 * hands those claims to the database as `request.jwt.claims`; verify does the same on both sides.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { UsageError } from '../../errors.js';
import { loadSql, query } from '../../db/sql.js';

export interface Principal {
  /** Report name: `anon`, `service_role`, or `user:<uuid>`. */
  name: string;
  kind: 'anon' | 'service_role' | 'user';
  /** The database role the request runs as (`SET LOCAL ROLE`). */
  role: string;
  /** The user's id (the `sub` claim); none for anon and service_role. */
  id?: string;
  /** The JWT payload, as PostgREST puts it into `request.jwt.claims`. */
  claims: Record<string, unknown>;
}

export interface PrincipalSelection {
  anon: boolean;
  serviceRole: boolean;
  /** How many users to sample from auth.users, or all of them. */
  users: number | 'all';
  /** These users (by id) in addition to the sample. */
  userIds?: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A fixed issued-at, so a run's claims (and so its results) do not depend on the clock. */
const ISSUED_AT = 1_700_000_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A metadata value that must be a JSON object; with `text`, a string is parsed first (a principals file may give text). */
function metadata(value: unknown, what: string, who: string, text = true): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  let parsed = value;
  if (text && typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw malformed(who, `${what} is not JSON`);
    }
  }
  if (!isObject(parsed)) throw malformed(who, `${what} is not a JSON object (it is ${Array.isArray(parsed) ? 'an array' : typeof parsed})`);
  return parsed;
}

function malformed(who: string, why: string): UsageError {
  return new UsageError(`principal ${who} has malformed claims: ${why}`, {
    hint: 'fix the user\'s row in auth.users (raw_app_meta_data and raw_user_meta_data must be JSON objects), or leave the user out with --users/--user',
  });
}

/** A deterministic session id for a user without a session row: the same on every run with the same seed. */
function derivedUuid(...parts: Array<string | number>): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The claims of one auth.users row (as jsonb), in Supabase's access-token shape. Exported for
 * principals given as data; throws a usage error naming the user when the row cannot be a token.
 */
export function userPrincipal(row: Record<string, unknown>, session: Record<string, unknown> | null, seed: number): Principal {
  const id = row.id;
  if (typeof id !== 'string' || !UUID.test(id)) throw malformed(`with id ${JSON.stringify(id)}`, 'the id (sub) is not a uuid');
  const who = `user:${id}`;
  // jsonb from the database arrives parsed: a JSON string there is a string, not text to parse.
  const appMetadata = metadata(row.raw_app_meta_data, 'app_metadata (raw_app_meta_data)', who, false);
  const userMetadata = metadata(row.raw_user_meta_data, 'user_metadata (raw_user_meta_data)', who, false);
  const role = typeof row.role === 'string' && row.role !== '' ? row.role : 'authenticated';
  const sessionId = session && typeof session.id === 'string' ? session.id : derivedUuid('session', seed, id);
  const aal = session && typeof session.aal === 'string' ? session.aal : 'aal1';
  const provider = typeof appMetadata.provider === 'string' ? appMetadata.provider : 'password';
  const claims: Record<string, unknown> = {
    aud: typeof row.aud === 'string' && row.aud !== '' ? row.aud : 'authenticated',
    exp: ISSUED_AT + 3600,
    iat: ISSUED_AT,
    sub: id,
    email: typeof row.email === 'string' ? row.email : '',
    phone: typeof row.phone === 'string' ? row.phone : '',
    app_metadata: appMetadata,
    user_metadata: userMetadata,
    role,
    aal,
    amr: [{ method: provider === 'email' ? 'password' : provider, timestamp: ISSUED_AT }],
    session_id: sessionId,
    is_anonymous: row.is_anonymous === true,
  };
  return { name: who, kind: 'user', role, id, claims };
}

export const ANON: Principal = { name: 'anon', kind: 'anon', role: 'anon', claims: { role: 'anon', iat: ISSUED_AT, exp: ISSUED_AT + 3600 } };
export const SERVICE_ROLE: Principal = {
  name: 'service_role', kind: 'service_role', role: 'service_role', claims: { role: 'service_role', iat: ISSUED_AT, exp: ISSUED_AT + 3600 },
};

/** The principals of a run, read from the source (which is only read). */
export async function loadPrincipals(source: pg.Client, selection: PrincipalSelection, seed: number): Promise<Principal[]> {
  const out: Principal[] = [];
  if (selection.anon) out.push(ANON);
  if (selection.serviceRole) out.push(SERVICE_ROLE);
  const [{ present }] = await query<{ present: boolean }>(source, `SELECT to_regclass('auth.users') IS NOT NULL AS present`) as [{ present: boolean }];
  const wanted = selection.userIds ?? [];
  for (const id of wanted) {
    if (!UUID.test(id)) throw new UsageError(`--user ${id} is not a user id (a uuid)`, { hint: 'pass the id of a row of auth.users' });
  }
  if (!present) {
    if (wanted.length > 0 || selection.users === 'all' || selection.users > 0) {
      throw new UsageError('the source has no auth.users table to take users from', { hint: 'pass --users 0 to verify with anon and service_role only' });
    }
    return out;
  }
  const sql = loadSql('rls/verify-users.sql');
  const rows: Array<{ row: Record<string, unknown>; session: Record<string, unknown> | null }> = [];
  if (selection.users === 'all' || selection.users > 0) {
    rows.push(...await query<(typeof rows)[number]>(source, sql, [null, selection.users === 'all' ? null : selection.users, seed], 'read users from auth.users'));
  }
  if (wanted.length > 0) {
    const named = await query<(typeof rows)[number]>(source, sql, [wanted, null, seed], 'read the users given with --user');
    const found = new Set(named.map((r) => String(r.row.id)));
    const missing = wanted.filter((id) => !found.has(id.toLowerCase()));
    if (missing.length > 0) throw new UsageError(`no user with id ${missing.join(', ')} in the source's auth.users`, { hint: 'pass ids of existing users with --user' });
    rows.push(...named);
  }
  const seen = new Set<string>();
  for (const { row, session } of rows) {
    const p = userPrincipal(row, session, seed);
    if (seen.has(p.name)) continue;
    seen.add(p.name);
    out.push(p);
  }
  return out;
}

/**
 * Principals given as a JSON file: `[{ "role": "authenticated", "claims": {...} }, "anon", ...]`.
 * Every entry must be an object with a role and a claims object whose metadata are objects.
 */
export function principalsFromData(data: unknown, origin: string): Principal[] {
  if (!Array.isArray(data)) throw new UsageError(`${origin} must hold a JSON array of principals`, { hint: 'e.g. [{"role":"authenticated","claims":{"sub":"<uuid>","role":"authenticated"}}]' });
  return data.map((entry, i) => {
    const who = `#${i + 1} of ${origin}`;
    if (entry === 'anon') return ANON;
    if (entry === 'service_role') return SERVICE_ROLE;
    if (!isObject(entry) || typeof entry.role !== 'string' || entry.role === '') throw malformed(who, 'each entry needs a "role" (a database role name)');
    let claims = entry.claims;
    if (typeof claims === 'string') {
      try { claims = JSON.parse(claims); } catch { throw malformed(who, 'claims is not JSON'); }
    }
    if (!isObject(claims)) throw malformed(who, 'claims is not a JSON object');
    let object: Record<string, unknown> = claims;
    const sub = object.sub;
    if (sub !== undefined && (typeof sub !== 'string' || !UUID.test(sub))) throw malformed(who, 'sub is not a uuid');
    for (const key of ['app_metadata', 'user_metadata']) {
      if (object[key] !== undefined) object = { ...object, [key]: metadata(object[key], key, who) };
    }
    const role = entry.role;
    const withRole = { ...object, role };
    return typeof sub === 'string'
      ? { name: `user:${sub}`, kind: 'user' as const, role, id: sub, claims: withRole }
      : { name: typeof entry.name === 'string' ? entry.name : role, kind: role === 'anon' ? 'anon' as const : role === 'service_role' ? 'service_role' as const : 'user' as const, role, claims: withRole };
  });
}
