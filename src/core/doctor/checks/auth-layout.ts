/**
 * `target.auth-layout`: can the target hold the users `auth migrate` brings home? Either the role
 * may create the `auth` schema and its tables, or the users table already exists in offramp's shape
 * (GoTrue's column names, which the user's functions, triggers and policies name unchanged).
 */
import type { Check, CheckOutcome } from '../../../checks/types.js';
import { loadSql, query } from '../../../db/sql.js';
import { quoteIdent } from '../../../db/sql-parse.js';
import { unavailable, type DoctorContext, type ReadySide } from '../context.js';

/** The GoTrue columns a local users table must keep for the user's SQL and a backend to work. */
export const KEEP_USER_COLUMNS = [
  'id', 'email', 'phone', 'encrypted_password', 'email_confirmed_at', 'phone_confirmed_at', 'confirmed_at', 'last_sign_in_at',
  'banned_until', 'deleted_at', 'is_anonymous', 'is_sso_user', 'role', 'aud', 'raw_app_meta_data', 'raw_user_meta_data',
  'created_at', 'updated_at',
] as const;

export const targetAuthLayoutCheck: Check<DoctorContext> = {
  id: 'target.auth-layout',
  title: 'Target can hold the auth users',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.target);
    if (skip) return skip;
    if (ctx.source.client) {
      const [src] = await query<{ present: boolean }>(ctx.source.client, "SELECT to_regclass('auth.users') IS NOT NULL AS present", [], 'look for auth.users');
      if (!src?.present) return { status: 'skip', detail: 'the source has no auth.users: nothing for auth migrate to bring' };
    }
    const target = ctx.target as ReadySide;
    const f = target.facts;
    const [row] = await query<{ schema_exists: boolean; can_create_in_schema: boolean; table_exists: boolean; columns: string[] }>(
      target.client, loadSql('doctor/auth-layout-target.sql'), ['auth', 'users'], 'read the target auth layout');
    const r = row!;
    const evidence = { schemaExists: r.schema_exists, tableExists: r.table_exists, canCreateInSchema: r.can_create_in_schema };
    if (r.table_exists) {
      const missing = KEEP_USER_COLUMNS.filter((c) => !r.columns.includes(c));
      if (missing.length === 0) return { status: 'pass', detail: 'auth.users exists in offramp\'s shape: auth migrate upserts into it', evidence: { ...evidence, columns: r.columns.length } };
      return {
        status: 'fail',
        detail: `auth.users exists but is not offramp's shape: it lacks ${missing.join(', ')}`,
        hint: 'auth migrate never writes into a foreign table: drop or rename it, or use --layout table --users-table <another table>',
        evidence: { ...evidence, missing },
      };
    }
    const who = quoteIdent(f.current_user);
    if (r.schema_exists) {
      if (r.can_create_in_schema) return { status: 'pass', detail: `${f.current_user} can create auth.users and auth.identities in the existing schema auth`, evidence };
      return {
        status: 'fail',
        detail: `schema auth exists but ${f.current_user} may not create tables in it`,
        hint: 'an administrator grants CREATE on schema auth, or use --layout table',
        adminSql: [`GRANT USAGE, CREATE ON SCHEMA auth TO ${who};`],
        evidence,
      };
    }
    if (f.can_create_schema) return { status: 'pass', detail: `${f.current_user} can create schema auth with auth.users and auth.identities`, evidence };
    return {
      status: 'fail',
      detail: `${f.current_user} may not create schema auth on ${f.database}`,
      hint: 'an administrator creates the schema for the role once, or use --layout table',
      adminSql: [`CREATE SCHEMA auth AUTHORIZATION ${who};`],
      evidence,
    };
  },
};
