/**
 * `offramp auth verify`: after `auth migrate`, would anybody be locked out? Password continuity
 * (every target hash equals the source's, compared by SHA-256 digest inside each server; sample
 * passwords checked with bcrypt against the MIGRATED hashes) and token continuity (verify-tokens.ts).
 * Passwords, hashes, tokens and the JWT secret are registered as secrets and never reported.
 */
import bcrypt from 'bcryptjs';
import type pg from 'pg';
import { escapeIdentifier } from 'pg';
import type { JSONWebKeySet } from 'jose';
import { withClient } from '../../db/connect.js';
import { loadSql, query } from '../../db/sql.js';
import { UsageError } from '../../errors.js';
import { inStep, silentProgress, type Progress } from '../../output/progress.js';
import { registerSecret } from '../../secrets.js';
import { localColumn, usersTableOf, type AuthLayout } from './layout.js';
import { checkTokens, CLAIMS_CONTRACT, type TokenCheck, type TokenUser } from './verify-tokens.js';

/** Where the migrated users live on the target, and what GoTrue's columns are called there. */
interface UsersTarget {
  schema: string;
  table: string;
  /** GoTrue column name → the local column's name (identity for the keep layout). */
  column(gotrueName: string): string;
}

function usersTarget(layout: AuthLayout): UsersTarget {
  const q = usersTableOf(layout);
  return { schema: q.schema, table: q.name, column: (name) => localColumn(layout, name) };
}

export interface AuthVerifyOptions {
  source: string;
  target: string;
  /** The layout `auth migrate` used (a10's layout module names the local tables and columns). */
  layout: AuthLayout;
  connectTimeoutSeconds?: number;
  passwords?: Array<{ email: string; password: string }>;
  tokens?: string[];
  jwtSecret?: string;
  jwks?: JSONWebKeySet;
  audience?: string;
}

export interface HashKind {
  kind: 'bcrypt' | 'argon2' | 'firebase-scrypt' | 'none' | 'other';
  /** $2a$ / $2b$ → 2a / 2b; argon2id; fbscrypt. */
  variant: string | null;
  cost: number | null;
  users: number;
  /** What the new backend needs for these users to sign in with their password. */
  backendMustSupport: string;
}

export type PasswordOutcome = 'accepted' | 'rejected' | 'user not found' | 'no password' | 'not bcrypt';

export interface AuthVerifyReport {
  usersTable: string;
  passwords: {
    sourceUsers: number;
    targetUsers: number;
    equal: number;
    /** Ids of users whose hash differs on the target (the hashes themselves are never shown). */
    differing: string[];
    missingOnTarget: string[];
    kinds: HashKind[];
    checks: Array<{ email: string; outcome: PasswordOutcome }>;
  };
  tokens: {
    audience: string;
    checks: TokenCheck[];
    accepted: number;
    rejected: number;
  };
  claimsContract: typeof CLAIMS_CONTRACT;
  /** Input that was not what it claims to be (a token that is not a JWT): exit 2, not 3. */
  badInput: string[];
  ok: boolean;
}

const SUPPORT: Record<HashKind['kind'], string> = {
  bcrypt: 'bcrypt verification (any backend: GoTrue, bcrypt libraries, pgcrypto crypt())',
  argon2: 'argon2 verification (GoTrue does; most others need an argon2 library)',
  'firebase-scrypt': "Firebase's modified scrypt with the project's hash parameters (GoTrue does, given them)",
  none: 'nothing: OAuth-only, SSO or anonymous users sign in without a password',
  other: 'an unknown scheme: find out where these hashes came from before the cutover',
};

const qualified = (u: UsersTarget): string => `${escapeIdentifier(u.schema)}.${escapeIdentifier(u.table)}`;
const col = (u: UsersTarget, name: string): string => escapeIdentifier(u.column(name));

/** The target must hold the users table: anything else is a usage problem (run auth migrate first). */
async function requireUsersTable(target: pg.Client, users: UsersTarget): Promise<void> {
  const rows = await query<{ present: boolean }>(target, 'SELECT to_regclass($1) IS NOT NULL AS present', [`${escapeIdentifier(users.schema)}.${escapeIdentifier(users.table)}`], 'look for the users table');
  if (!rows[0]?.present) {
    throw new UsageError(`the target has no users table ${users.schema}.${users.table}`, {
      hint: 'run `offramp auth migrate` first, or pass the layout it used (--layout table --users-table schema.table)',
    });
  }
}

async function sourceHasAuth(source: pg.Client): Promise<void> {
  const rows = await query<{ present: boolean }>(source, "SELECT to_regclass('auth.users') IS NOT NULL AS present", [], 'look for auth.users');
  if (!rows[0]?.present) throw new UsageError('the source has no auth.users table', { hint: 'auth verify compares a Supabase source with the migrated target; is --source the Supabase database?' });
}

async function comparePasswords(source: pg.Client, target: pg.Client, users: UsersTarget) {
  const src = await query<{ id: string; digest: string }>(source, loadSql('auth/password-digests.sql'), [], 'read source password digests');
  const tgt = await query<{ id: string; digest: string }>(target,
    `SELECT ${col(users, 'id')}::text AS id, encode(sha256(convert_to(coalesce(${col(users, 'encrypted_password')}, ''), 'UTF8')), 'hex') AS digest FROM ${qualified(users)}`,
    [], 'read target password digests');
  const onTarget = new Map(tgt.map((r) => [r.id, r.digest]));
  const differing: string[] = [];
  const missingOnTarget: string[] = [];
  let equal = 0;
  for (const r of src) {
    const d = onTarget.get(r.id);
    if (d === undefined) missingOnTarget.push(r.id);
    else if (d !== r.digest) differing.push(r.id);
    else equal++;
  }
  const kinds = (await query<{ kind: HashKind['kind']; variant: string | null; cost: number | null; users: string }>(source, loadSql('catalog/auth-hash-kinds.sql'), [], 'count password hash kinds'))
    .map((k) => ({ kind: k.kind, variant: k.variant, cost: k.cost, users: Number(k.users), backendMustSupport: SUPPORT[k.kind] }));
  return { sourceUsers: src.length, targetUsers: tgt.length, equal, differing, missingOnTarget, kinds };
}

/** Each sample password against the hash the target now holds (lower-cased e-mail, as GoTrue stores it). */
async function checkPasswords(target: pg.Client, users: UsersTarget, pairs: Array<{ email: string; password: string }>) {
  const out: Array<{ email: string; outcome: PasswordOutcome }> = [];
  for (const { email, password } of pairs) {
    registerSecret(password);
    const rows = await query<{ hash: string | null }>(target,
      `SELECT ${col(users, 'encrypted_password')} AS hash FROM ${qualified(users)} WHERE lower(${col(users, 'email')}) = lower($1)`,
      [email], 'read a migrated hash');
    const hash = rows[0]?.hash ?? null;
    registerSecret(hash);
    let outcome: PasswordOutcome;
    if (rows.length === 0) outcome = 'user not found';
    else if (!hash) outcome = 'no password';
    else if (!/^\$2[abxy]?\$/.test(hash)) outcome = 'not bcrypt';
    else outcome = (await bcrypt.compare(password, hash)) ? 'accepted' : 'rejected';
    out.push({ email, outcome });
  }
  return out;
}

function lookupUsers(target: pg.Client, users: UsersTarget) {
  return async (ids: string[]): Promise<Map<string, TokenUser>> => {
    const rows = await query<{ id: string; role: string | null; banned: boolean; deleted: boolean }>(target,
      `SELECT ${col(users, 'id')}::text AS id, ${col(users, 'role')}::text AS role,
              coalesce(${col(users, 'banned_until')} > now(), false) AS banned, ${col(users, 'deleted_at')} IS NOT NULL AS deleted
         FROM ${qualified(users)} WHERE ${col(users, 'id')}::text = ANY($1::text[])`,
      [ids], 'look up token users');
    return new Map(rows.map((r) => [r.id, { role: r.role, banned: r.banned, deleted: r.deleted }]));
  };
}

export async function authVerify(options: AuthVerifyOptions, progress: Progress = silentProgress): Promise<AuthVerifyReport> {
  registerSecret(options.jwtSecret);
  const audience = options.audience ?? 'authenticated';
  const connect = { connectTimeoutSeconds: options.connectTimeoutSeconds };
  const users = usersTarget(options.layout);
  return withClient(options.source, { ...connect, role: 'source' }, (source) =>
    withClient(options.target, { ...connect, role: 'target' }, async (target) => {
      await sourceHasAuth(source);
      await requireUsersTable(target, users);
      const compared = await inStep(progress, 'compare password hashes', () => comparePasswords(source, target, users));
      const checks = options.passwords?.length
        ? await inStep(progress, 'check sample passwords against the migrated hashes', () => checkPasswords(target, users, options.passwords!))
        : [];
      const tokenChecks = options.tokens?.length
        ? await inStep(progress, 'verify tokens', () => checkTokens(options.tokens!, { secret: options.jwtSecret, jwks: options.jwks }, audience, lookupUsers(target, users)))
        : [];
      const badInput = tokenChecks.filter((t) => t.reason === 'not a JWT').map((t) => `token ${t.index} is not a JWT`);
      const passwordsOk = compared.differing.length === 0 && compared.missingOnTarget.length === 0 && checks.every((c) => c.outcome === 'accepted');
      const accepted = tokenChecks.filter((t) => t.accepted).length;
      return {
        usersTable: `${users.schema}.${users.table}`,
        passwords: { ...compared, checks },
        tokens: { audience, checks: tokenChecks, accepted, rejected: tokenChecks.length - accepted },
        claimsContract: CLAIMS_CONTRACT,
        badInput,
        ok: passwordsOk && accepted === tokenChecks.length,
      };
    }));
}
