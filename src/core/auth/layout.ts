/**
 * Where Supabase Auth's users land on the target, and under which names. `keep` keeps GoTrue's
 * schema, tables and column names, so the user's SQL that names `auth.users` applies unchanged;
 * `table` puts them into tables the user names (the reference migration's `public.users`), with
 * column names mappable. Everything that reads or writes the local auth tables asks this module
 * for names (bring-home rewrites references with it, verify and validate compare through it).
 */
import { UsageError } from '../../errors.js';

export interface QualifiedName {
  schema: string;
  name: string;
}

export type AuthLayout =
  | { kind: 'keep' }
  | {
      kind: 'table';
      users: QualifiedName;
      identities: QualifiedName;
      /**
       * GoTrue column -> local column; identity (same name) by default. A plain key names a column
       * of the users table, `identities.<column>` one of the identities table.
       */
      columns: Record<string, string>;
    };

export interface AuthColumn {
  /** GoTrue's name. */
  name: string;
  /** GoTrue's type, as the migrations create it and the shape check expects it (format_type). */
  type: string;
  notNull?: boolean;
  /** Computed on the target from other carried columns (never written): GENERATED ... STORED. */
  generated?: boolean;
  /** What a source whose GoTrue predates the column gives instead (SQL literal). */
  fallback?: string;
}

/**
 * The users columns a backend or the user's SQL uses (issue 10's list, types from the facts sheet
 * §4.2). `confirmed_at` is generated on the target exactly as GoTrue generates it.
 */
export const AUTH_USER_COLUMNS: readonly AuthColumn[] = [
  { name: 'id', type: 'uuid', notNull: true },
  { name: 'aud', type: 'character varying(255)' },
  { name: 'role', type: 'character varying(255)' },
  { name: 'email', type: 'character varying(255)' },
  { name: 'encrypted_password', type: 'character varying(255)' },
  { name: 'email_confirmed_at', type: 'timestamp with time zone' },
  { name: 'last_sign_in_at', type: 'timestamp with time zone' },
  { name: 'raw_app_meta_data', type: 'jsonb' },
  { name: 'raw_user_meta_data', type: 'jsonb' },
  { name: 'created_at', type: 'timestamp with time zone' },
  { name: 'updated_at', type: 'timestamp with time zone' },
  { name: 'phone', type: 'text' },
  { name: 'phone_confirmed_at', type: 'timestamp with time zone' },
  { name: 'confirmed_at', type: 'timestamp with time zone', generated: true },
  { name: 'banned_until', type: 'timestamp with time zone' },
  { name: 'is_sso_user', type: 'boolean', notNull: true, fallback: 'false' },
  { name: 'deleted_at', type: 'timestamp with time zone' },
  { name: 'is_anonymous', type: 'boolean', notNull: true, fallback: 'false' },
];

/** auth.identities (facts sheet §4.3); `email` is generated from identity_data as in GoTrue. */
export const AUTH_IDENTITY_COLUMNS: readonly AuthColumn[] = [
  { name: 'id', type: 'uuid', notNull: true },
  { name: 'provider_id', type: 'text', notNull: true },
  { name: 'user_id', type: 'uuid', notNull: true },
  { name: 'identity_data', type: 'jsonb', notNull: true },
  { name: 'provider', type: 'text', notNull: true },
  { name: 'last_sign_in_at', type: 'timestamp with time zone' },
  { name: 'created_at', type: 'timestamp with time zone' },
  { name: 'updated_at', type: 'timestamp with time zone' },
  { name: 'email', type: 'text', generated: true },
];

/**
 * GoTrue's internal users columns: one-time tokens, reauthentication, pending changes, the
 * instance. A self-hosted backend issues its own; they are left behind and listed in the result.
 */
export const LEFT_BEHIND_USER_COLUMNS: readonly string[] = [
  'instance_id',
  'invited_at',
  'confirmation_token',
  'confirmation_sent_at',
  'recovery_token',
  'recovery_sent_at',
  'email_change_token_new',
  'email_change',
  'email_change_sent_at',
  'is_super_admin',
  'phone_change',
  'phone_change_token',
  'phone_change_sent_at',
  'email_change_token_current',
  'email_change_confirm_status',
  'reauthentication_token',
  'reauthentication_sent_at',
];

/** auth.sessions (facts §4.4, the columns every GoTrue since 2022 has), carried with --include-sessions. */
export const AUTH_SESSION_COLUMNS: readonly AuthColumn[] = [
  { name: 'id', type: 'uuid', notNull: true },
  { name: 'user_id', type: 'uuid', notNull: true },
  { name: 'created_at', type: 'timestamp with time zone' },
  { name: 'updated_at', type: 'timestamp with time zone' },
  { name: 'factor_id', type: 'uuid' },
  { name: 'aal', type: 'text' },
  { name: 'not_after', type: 'timestamp with time zone' },
  { name: 'refreshed_at', type: 'timestamp without time zone' },
  { name: 'user_agent', type: 'text' },
  { name: 'ip', type: 'inet' },
  { name: 'tag', type: 'text' },
];

/** auth.refresh_tokens (facts §4.5), carried with --include-sessions. */
export const AUTH_REFRESH_TOKEN_COLUMNS: readonly AuthColumn[] = [
  { name: 'id', type: 'bigint', notNull: true },
  { name: 'token', type: 'character varying(255)' },
  { name: 'user_id', type: 'character varying(255)' },
  { name: 'revoked', type: 'boolean' },
  { name: 'created_at', type: 'timestamp with time zone' },
  { name: 'updated_at', type: 'timestamp with time zone' },
  { name: 'parent', type: 'character varying(255)' },
  { name: 'session_id', type: 'uuid' },
];

/** auth.mfa_factors (facts §4.6), carried with --include-mfa (`secret` is a TOTP secret: never printed). */
export const AUTH_MFA_FACTOR_COLUMNS: readonly AuthColumn[] = [
  { name: 'id', type: 'uuid', notNull: true },
  { name: 'user_id', type: 'uuid', notNull: true },
  { name: 'friendly_name', type: 'text' },
  { name: 'factor_type', type: 'text', notNull: true },
  { name: 'status', type: 'text', notNull: true },
  { name: 'created_at', type: 'timestamp with time zone', notNull: true },
  { name: 'updated_at', type: 'timestamp with time zone', notNull: true },
  { name: 'secret', type: 'text' },
  { name: 'phone', type: 'text' },
  { name: 'last_challenged_at', type: 'timestamp with time zone' },
];

export type AuthTable = 'users' | 'identities';
export type AuthExtraTable = 'sessions' | 'refresh_tokens' | 'mfa_factors';

export const KEEP_LAYOUT: AuthLayout = { kind: 'keep' };

export function usersTableOf(layout: AuthLayout): QualifiedName {
  return layout.kind === 'keep' ? { schema: 'auth', name: 'users' } : layout.users;
}

export function identitiesTableOf(layout: AuthLayout): QualifiedName {
  return layout.kind === 'keep' ? { schema: 'auth', name: 'identities' } : layout.identities;
}

/**
 * Sessions, refresh tokens and MFA factors: `auth.<name>` in `keep`; beside the users table,
 * prefixed with its name (`public.users_sessions`), in `table`.
 */
export function extraTableOf(layout: AuthLayout, table: AuthExtraTable): QualifiedName {
  if (layout.kind === 'keep') return { schema: 'auth', name: table };
  return { schema: layout.users.schema, name: `${layout.users.name}_${table}` };
}

/** The local name of a GoTrue column of the users table (or of the identities table). */
export function localColumn(layout: AuthLayout, gotrueColumn: string, table: AuthTable = 'users'): string {
  if (layout.kind === 'keep') return gotrueColumn;
  const key = table === 'users' ? gotrueColumn : `identities.${gotrueColumn}`;
  return layout.columns[key] ?? gotrueColumn;
}

/** `schema.table` as the user writes it (quoted only where PostgreSQL needs quotes). */
export function displayName(q: QualifiedName): string {
  const part = (s: string): string => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);
  return `${part(q.schema)}.${part(q.name)}`;
}

/** Read `schema.table` (or `table`, in `public`) from a flag. */
export function parseQualifiedName(flag: string, value: string): QualifiedName {
  const parts = value.trim().split('.');
  const bad = parts.length > 2 || parts.some((p) => p.length === 0 || p.length > 63);
  if (bad) throw new UsageError(`${flag} "${value}" is not schema.table`, { hint: `e.g. ${flag} public.users` });
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { schema: 'public', name: parts[0]! };
}

/**
 * A `table` layout from the flags. Column maps are checked here (known GoTrue column, a local
 * name used once per table), so a typo is a usage error before anything is read.
 */
export function tableLayout(users: QualifiedName, identities: QualifiedName, mapSpecs: string[]): AuthLayout {
  if (users.schema === identities.schema && users.name === identities.name) {
    throw new UsageError('--users-table and --identities-table name the same table', { hint: 'e.g. --users-table public.users --identities-table public.identities' });
  }
  const columns: Record<string, string> = {};
  for (const spec of mapSpecs) {
    const [from, to, ...rest] = spec.split('=').map((s) => s.trim());
    if (!from || !to || rest.length > 0) {
      throw new UsageError(`--map-column "${spec}" is not gotrue_column=local_column`, { hint: 'e.g. --map-column email=email_address --map-column identities.provider=provider_name' });
    }
    const [table, column] = from.startsWith('identities.') ? ['identities' as const, from.slice('identities.'.length)] : ['users' as const, from];
    const known = (table === 'users' ? AUTH_USER_COLUMNS : AUTH_IDENTITY_COLUMNS).some((c) => c.name === column);
    if (!known) {
      throw new UsageError(`--map-column "${spec}": ${column} is not a carried column of auth.${table}`, {
        hint: `carried: ${(table === 'users' ? AUTH_USER_COLUMNS : AUTH_IDENTITY_COLUMNS).map((c) => c.name).join(', ')}`,
      });
    }
    if (to.length > 63) throw new UsageError(`--map-column "${spec}": the local name is longer than 63 bytes`);
    columns[from] = to;
  }
  const layout: AuthLayout = { kind: 'table', users, identities, columns };
  for (const [table, list] of [['users', AUTH_USER_COLUMNS], ['identities', AUTH_IDENTITY_COLUMNS]] as const) {
    const seen = new Map<string, string>();
    for (const c of list) {
      const local = localColumn(layout, c.name, table);
      const other = seen.get(local);
      if (other) throw new UsageError(`--map-column: ${table} columns ${other} and ${c.name} would both be called ${local}`);
      seen.set(local, c.name);
    }
  }
  return layout;
}
