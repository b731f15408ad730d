/**
 * What offramp knows about the Supabase platform (../shared/reference/supabase-facts.md and
 * peer-tools.md §1): which schemas, roles and extensions belong to the platform rather than to
 * the project, so they are left behind, mapped, or reported instead of copied blindly.
 */

/** Schemas managed by Supabase services or extensions (the CLI's dump exclusion list, plus system schemas). */
export const MANAGED_SCHEMAS: readonly string[] = [
  'auth', 'storage', 'extensions', 'realtime', 'graphql', 'graphql_public', 'vault', 'pgbouncer',
  'pgsodium', 'pgsodium_masks', 'supabase_migrations', 'supabase_functions', 'net', 'cron', 'pgtle',
  'pgmq', 'repack', 'dbdev', 'etl', 'tiger', 'tiger_data', 'topology', '_analytics', '_realtime',
  '_supavisor', 'supabase_subscription_mgmt',
];

/** Managed schemas whose data matters to the migration and is handled by dedicated stages. */
export const HANDLED_MANAGED_SCHEMAS: Readonly<Record<string, string>> = {
  auth: 'users and identities are translated by `offramp auth migrate`',
  storage: 'bucket and object metadata are kept for `storage migrate`; files live outside the database',
  supabase_migrations: 'the Supabase CLI migration history; keep it if you still deploy with the CLI',
};

export function isManagedSchema(schema: string): boolean {
  return (
    MANAGED_SCHEMAS.includes(schema) ||
    schema.startsWith('pg_') ||
    schema === 'information_schema' ||
    schema.startsWith('_timescaledb') ||
    schema.startsWith('timescaledb_')
  );
}

/** Roles the platform creates; they are mapped (owners) or recreated NOLOGIN (API roles), never copied. */
export const PLATFORM_ROLES: readonly string[] = [
  'supabase_admin', 'supabase_auth_admin', 'supabase_storage_admin', 'supabase_replication_admin',
  'supabase_read_only_user', 'supabase_realtime_admin', 'supabase_functions_admin', 'supabase_etl_admin',
  'supabase_privileged_role', 'supabase_superuser', 'dashboard_user', 'pgbouncer', 'authenticator',
  'anon', 'authenticated', 'service_role', 'pgsodium_keyiduser', 'pgsodium_keyholder', 'pgsodium_keymaker',
  'pgtle_admin',
];

/** The PostgREST API roles: RLS policies name them, so the target needs them when policies are kept. */
export const API_ROLES: readonly string[] = ['anon', 'authenticated', 'service_role'];

export function isPlatformRole(role: string): boolean {
  return PLATFORM_ROLES.includes(role) || /^cli_login_/.test(role) || role === 'postgres';
}

/** Extensions a plain self-hosted PostgreSQL + PostGIS server does not ship. */
export const PLATFORM_ONLY_EXTENSIONS: Readonly<Record<string, string>> = {
  pg_graphql: 'GraphQL API of Supabase; not packaged for plain PostgreSQL',
  supabase_vault: 'Supabase Vault; ciphertext is not portable without the project root key',
  pgsodium: 'libsodium bindings used by older Vault versions',
  pgjwt: 'JWT signing in SQL; not packaged for Debian PostgreSQL',
  pg_net: 'asynchronous HTTP from SQL (Database Webhooks)',
  supautils: 'Supabase guard-rails',
  pg_tle: 'Trusted Language Extensions',
  wrappers: 'Supabase foreign data wrappers',
  index_advisor: 'Supabase index advisor',
  pg_jsonschema: 'JSON schema validation (Supabase build)',
  pg_hashids: 'hashids (Supabase build)',
};

export function isPlatformOnlyExtension(name: string): boolean {
  return Object.hasOwn(PLATFORM_ONLY_EXTENSIONS, name);
}

/** Event triggers the platform installs; they need a superuser and refer to platform functions. */
export const PLATFORM_EVENT_TRIGGERS: readonly string[] = [
  'issue_pg_cron_access', 'issue_pg_net_access', 'issue_pg_graphql_access', 'issue_graphql_placeholder',
  'pgrst_ddl_watch', 'pgrst_drop_watch',
];

export const REALTIME_PUBLICATION = 'supabase_realtime';

/** Signals used to decide whether a source is a Supabase project database. */
export interface PlatformSignals {
  hasAuthUsers: boolean;
  hasStorageObjects: boolean;
  platformRoles: string[];
}

/**
 * Roles are cluster-wide, so they only corroborate: the database itself must have the auth or
 * storage tables (a plain database on a server that also hosts a Supabase copy stays plain).
 */
export function looksLikeSupabase(signals: PlatformSignals): boolean {
  const roleHits = signals.platformRoles.filter((r) => ['supabase_admin', 'authenticator', 'anon', 'authenticated', 'service_role', 'supabase_auth_admin'].includes(r)).length;
  return (signals.hasAuthUsers || signals.hasStorageObjects) && roleHits >= 2;
}
