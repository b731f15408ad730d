/**
 * `offramp auth migrate`: Supabase Auth's users into local tables, then the objects `copy`
 * deferred because of auth (bring-home.ts).
 *
 *   source snapshot ─ auth schema? ─ target shapes ─ migrations ─ one target transaction:
 *     stage (COPY) ─ remove stale sessions/tokens/factors/identities ─ upsert ─ users only on target
 *   ─ bring home the deferred objects
 *
 * Everything that can refuse (no `auth` schema, a foreign-shaped table) refuses before anything
 * is written. Users the source no longer has are reported and only deleted with `--yes` (their
 * rows in the app's tables go with them through ON DELETE CASCADE, as they did on the source).
 */
import type pg from 'pg';
import { connect } from '../../db/connect.js';
import { endClient } from '../../db/sessions.js';
import { exportSnapshot } from '../../db/snapshot.js';
import { loadSql, query } from '../../db/sql.js';
import { UsageError } from '../../errors.js';
import { inStep, type Progress } from '../../output/progress.js';
import { bringHomeAuthObjects, type AuthObjectOutcome } from './bring-home.js';
import { AUTH_USER_COLUMNS, displayName, LEFT_BEHIND_USER_COLUMNS, usersTableOf, type AuthLayout } from './layout.js';
import { applyAuthMigrations, checkTargetShapes, plannedTables, withMigrationClient, type AuthComponent, type PlannedTable } from './tables.js';
import { advanceSequence, removeStale, stageTable, tempName, upsertStaged, usersOnlyOnTarget, type TableCounts } from './upsert.js';
import { quoteIdent } from '../../db/sql-parse.js';

export interface AuthMigrateOptions {
  source: string;
  target: string;
  layout: AuthLayout;
  includeSessions: boolean;
  includeMfa: boolean;
  workDir: string;
  /** Confirms deleting users the source no longer has. */
  yes: boolean;
  connectTimeoutSeconds: number;
}

export interface AuthMigrateResult {
  layout: AuthLayout;
  usersTable: string;
  identitiesTable: string;
  /** Migrations applied this run, per component (empty: the tables were up to date). */
  migrationsApplied: string[];
  users: TableCounts & {
    /** Users on the target the source no longer has. */
    onlyOnTarget: number;
    /** Their ids (first 50). */
    onlyOnTargetIds: string[];
    /** Deleted with --yes. */
    deleted: number;
  };
  identities: TableCounts;
  /** Carried with --include-sessions; otherwise only counted. */
  sessions: { source: number; carried: boolean; counts?: TableCounts };
  refreshTokens: { source: number; carried: boolean; counts?: TableCounts };
  /** MFA factors: always counted by kind; carried with --include-mfa. */
  mfa: { source: number; kinds: Record<string, number>; verified: number; carried: boolean; counts?: TableCounts };
  /** The source's auth.users columns not carried (GoTrue's internals: tokens, reauthentication, ...). */
  leftBehindColumns: string[];
  /** What became of the objects copy deferred because of auth (bring-home). */
  objects: AuthObjectOutcome[];
}

type SourceTables = Map<string, string[]>;

/** The source's auth tables and their columns; refuses a source without Supabase Auth. */
async function readSourceTables(src: pg.Client): Promise<SourceTables> {
  const rows = await query<{ name: string; columns: string[] }>(src, loadSql('auth/source-tables.sql'), [], 'reading the source\'s auth tables');
  const tables: SourceTables = new Map(rows.map((r) => [r.name, r.columns]));
  if (!tables.has('users') || !tables.has('identities')) {
    throw new UsageError('the source has no Supabase Auth tables (auth.users and auth.identities): there are no users to migrate', {
      hint: 'point --source at the Supabase project database (postgres on db.<ref>.supabase.co or the session pooler); a plain PostgreSQL source has no `auth` schema',
    });
  }
  return tables;
}

async function count(src: pg.Client, table: string, tables: SourceTables): Promise<number> {
  if (!tables.has(table)) return 0;
  const rows = await query<{ n: number }>(src, `SELECT count(*)::int AS n FROM auth.${table}`, [], `counting auth.${table}`);
  return rows[0]!.n;
}

async function mfaKinds(src: pg.Client, tables: SourceTables): Promise<{ kinds: Record<string, number>; verified: number }> {
  if (!tables.has('mfa_factors')) return { kinds: {}, verified: 0 };
  const rows = await query<{ kind: string; n: number; verified: number }>(src,
    `SELECT factor_type::text AS kind, count(*)::int AS n, count(*) FILTER (WHERE status::text = 'verified')::int AS verified
       FROM auth.mfa_factors GROUP BY 1 ORDER BY 1`, [], 'counting MFA factors');
  return { kinds: Object.fromEntries(rows.map((r) => [r.kind, r.n])), verified: rows.reduce((s, r) => s + r.verified, 0) };
}

export async function authMigrate(options: AuthMigrateOptions, progress: Progress): Promise<AuthMigrateResult> {
  const components: AuthComponent[] = ['users', ...(options.includeSessions ? ['sessions' as const] : []), ...(options.includeMfa ? ['mfa' as const] : [])];
  const planned = plannedTables(options.layout, components);
  const plan = (name: string): PlannedTable => {
    const index = { users: 0, identities: 1 }[name as 'users' | 'identities'];
    if (index !== undefined) return planned[index]!;
    const byExtra: Record<string, number> = { sessions: 2, refresh_tokens: 3, mfa_factors: options.includeSessions ? 4 : 2 };
    return planned[byExtra[name]!]!;
  };

  const snapshot = await exportSnapshot(options.source, options.connectTimeoutSeconds);
  let released = false;
  const releaseSnapshot = async (): Promise<void> => {
    if (!released) await snapshot.release();
    released = true;
  };
  let tgt: pg.Client | undefined;
  try {
    const src = snapshot.client;
    // Text COPY between the two sessions: both speak ISO dates in UTC whatever the servers' defaults.
    await src.query(`SET DateStyle = ISO; SET TimeZone = 'UTC'`);
    const sourceTables = await readSourceTables(src);
    const missing = components.flatMap((c) => (c === 'sessions' ? ['sessions', 'refresh_tokens'] : c === 'mfa' ? ['mfa_factors'] : []))
      .filter((t) => !sourceTables.has(t));
    if (missing.length > 0) {
      throw new UsageError(`the source has no ${missing.map((t) => `auth.${t}`).join(', ')} to carry`, { hint: 'leave out --include-sessions / --include-mfa' });
    }
    const sourceCounts = {
      sessions: await count(src, 'sessions', sourceTables),
      refreshTokens: await count(src, 'refresh_tokens', sourceTables),
      mfa: await count(src, 'mfa_factors', sourceTables),
    };
    const kinds = await mfaKinds(src, sourceTables);
    // What this source's auth.users has that is not carried (a newer GoTrue may have more than the known list).
    const carried = new Set(AUTH_USER_COLUMNS.map((c) => c.name));
    const leftBehindColumns = sourceTables.get('users')!.filter((c) => !carried.has(c));
    const unknown = leftBehindColumns.filter((c) => !LEFT_BEHIND_USER_COLUMNS.includes(c));
    if (unknown.length > 0) progress.log('warn', `auth.users has columns offramp does not know and leaves behind: ${unknown.join(', ')}`);

    tgt = await connect(options.target, { role: 'target', timeoutSeconds: options.connectTimeoutSeconds, applicationName: 'offramp-auth' });
    await tgt.query(`SET DateStyle = ISO; SET TimeZone = 'UTC'`);
    await inStep(progress, 'check the target can hold the local auth tables', () => checkTargetShapes(tgt!, planned));

    const migrationsApplied = await inStep(progress, 'create or update the local auth tables', () =>
      withMigrationClient(options.target, options.connectTimeoutSeconds, async (client) => {
        const applied: string[] = [];
        for (const component of components) applied.push(...await applyAuthMigrations(client, options.layout, component, progress));
        return applied;
      }));

    const moved = await inStep(progress, `upsert users into ${displayName(usersTableOf(options.layout))}`, async (step) => {
      const t = tgt!;
      await t.query('BEGIN');
      try {
        // Stage everything first (the source tables in one snapshot), then write, children before parents for removals.
        const stagedTables = ['users', 'identities', ...(options.includeSessions ? ['sessions', 'refresh_tokens'] : []), ...(options.includeMfa ? ['mfa_factors'] : [])];
        const staged: Record<string, number> = {};
        for (const table of stagedTables) {
          step.update(`reading auth.${table}`);
          staged[table] = await stageTable(src, t, table, plan(table), sourceTables.get(table)!);
        }
        const removed: Record<string, number> = {};
        for (const table of ['refresh_tokens', 'sessions', 'mfa_factors'].filter((x) => stagedTables.includes(x))) {
          removed[table] = await removeStale(t, table, plan(table));
        }
        const identityUser = plan('identities').columns.find((c) => c.name === 'user_id')!.local;
        // Identities of users the source still has follow the source exactly (an unlinked
        // provider goes); a user only on the target keeps its identities until it is deleted.
        removed.identities = await removeStale(t, 'identities', plan('identities'),
          `EXISTS (SELECT 1 FROM ${quoteIdent(tempName('users'))} AS u WHERE u.id = cur.${quoteIdent(identityUser)})`);

        const counts: Record<string, TableCounts> = {};
        for (const table of stagedTables) {
          step.update(`writing ${displayName(plan(table).table)}`);
          const { inserted, updated } = await upsertStaged(t, table, plan(table));
          counts[table] = { source: staged[table]!, inserted, updated, unchanged: staged[table]! - inserted - updated, removed: removed[table] ?? 0 };
        }
        if (options.includeSessions) await advanceSequence(t, plan('refresh_tokens').table);

        const only = await usersOnlyOnTarget(t, plan('users'));
        let deleted = 0;
        if (only.length > 0 && options.yes) deleted = await removeStale(t, 'users', plan('users'));
        await t.query('COMMIT');
        return { counts, only, deleted };
      } catch (error) {
        await t.query('ROLLBACK').catch(() => {});
        throw error;
      }
    });
    await releaseSnapshot();
    if (moved.only.length > 0 && !options.yes) {
      progress.log('warn', `${moved.only.length} user(s) on the target are no longer on the source (deleted there): kept; rerun with --yes to delete them (their rows in tables that reference the users go with them)`);
    }

    const objects = await inStep(progress, 'bring home the objects copy deferred because of auth', () => bringHomeAuthObjects({
      sourceUrl: options.source,
      targetUrl: options.target,
      layout: options.layout,
      workDir: options.workDir,
      connectTimeoutSeconds: options.connectTimeoutSeconds,
      progress,
    }));

    const c = moved.counts;
    return {
      layout: options.layout,
      usersTable: displayName(plan('users').table),
      identitiesTable: displayName(plan('identities').table),
      migrationsApplied,
      users: { ...c.users!, onlyOnTarget: moved.only.length, onlyOnTargetIds: moved.only.slice(0, 50), deleted: moved.deleted },
      identities: c.identities!,
      sessions: { source: sourceCounts.sessions, carried: options.includeSessions, ...(c.sessions ? { counts: c.sessions } : {}) },
      refreshTokens: { source: sourceCounts.refreshTokens, carried: options.includeSessions, ...(c.refresh_tokens ? { counts: c.refresh_tokens } : {}) },
      mfa: { source: sourceCounts.mfa, ...kinds, carried: options.includeMfa, ...(c.mfa_factors ? { counts: c.mfa_factors } : {}) },
      leftBehindColumns,
      objects,
    };
  } finally {
    await releaseSnapshot();
    if (tgt) await endClient(tgt);
  }
}
