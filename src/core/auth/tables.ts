/**
 * The local auth tables: the shape check that refuses a foreign table, and the versioned SQL
 * migrations (sql/auth/<component>/NNN_*.sql) applied with node-pg-migrate.
 *
 * Why node-pg-migrate rather than postgres-migrations (the design card's choice): it is maintained,
 * runs plain .sql files through a loader we control, takes our own connected client (so the
 * session is tracked and stopped like every other), keeps its history table in a schema we
 * choose, and runs pending migrations in one transaction under an advisory lock;
 * postgres-migrations has been unmaintained since 2022 and hashes files, which a rendered
 * template would break.
 *
 * The migration files are templates (placeholders are quoted identifiers "@..."): rendered with
 * the layout's names on the scanner's tokens, never by matching text. Each component (users,
 * sessions, mfa) and each layout keeps its own history table, so `--include-mfa` can come later
 * and a database can hold a `table` layout next to an old `keep` one.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type pg from 'pg';
import { runner, type MigrationBuilder, type RunnerOption } from 'node-pg-migrate';
import { readFile } from 'node:fs/promises';
import { connect } from '../../db/connect.js';
import { endClient } from '../../db/sessions.js';
import { applyEdits, loadSqlParser, quoteIdent, scanTokens, type ByteEdit } from '../../db/sql-parse.js';
import { loadSql, query, toQueryError } from '../../db/sql.js';
import { UsageError } from '../../errors.js';
import type { Progress } from '../../output/progress.js';
import { PACKAGE_ROOT } from '../../version.js';
import {
  AUTH_IDENTITY_COLUMNS, AUTH_MFA_FACTOR_COLUMNS, AUTH_REFRESH_TOKEN_COLUMNS, AUTH_SESSION_COLUMNS, AUTH_USER_COLUMNS,
  displayName, extraTableOf, identitiesTableOf, localColumn, usersTableOf,
  type AuthColumn, type AuthLayout, type QualifiedName,
} from './layout.js';

export type AuthComponent = 'users' | 'sessions' | 'mfa';

/** Schema of node-pg-migrate's history tables on the target. */
export const MIGRATIONS_SCHEMA = 'offramp';

const qualified = (q: QualifiedName): string => `${quoteIdent(q.schema)}.${quoteIdent(q.name)}`;

/** The replacement for one placeholder identifier of the templates (undefined: not a placeholder we know). */
function placeholderValue(layout: AuthLayout, placeholder: string): string | undefined {
  const tables: Record<string, QualifiedName> = {
    users: usersTableOf(layout),
    identities: identitiesTableOf(layout),
    sessions: extraTableOf(layout, 'sessions'),
    refresh_tokens: extraTableOf(layout, 'refresh_tokens'),
    mfa_factors: extraTableOf(layout, 'mfa_factors'),
  };
  const column = /^([ui]):(.+)$/.exec(placeholder);
  if (column) return quoteIdent(localColumn(layout, column[2]!, column[1] === 'u' ? 'users' : 'identities'));
  const named = /^([a-z_]+)_name:(.+)$/.exec(placeholder);
  if (named && tables[named[1]!]) return quoteIdent(`${tables[named[1]!]!.name}_${named[2]}`);
  const schema = /^([a-z_]+)_schema$/.exec(placeholder);
  if (schema && tables[schema[1]!]) return quoteIdent(tables[schema[1]!]!.schema);
  if (tables[placeholder]) return qualified(tables[placeholder]!);
  return undefined;
}

/**
 * A migration template with the layout's names in place: every quoted identifier token "@x" is
 * replaced; any other text stays byte for byte. An unknown placeholder is a bug in the file.
 */
export async function renderAuthTemplate(sql: string, layout: AuthLayout): Promise<string> {
  await loadSqlParser();
  const edits: ByteEdit[] = [];
  for (const token of scanTokens(sql)) {
    if (token.tokenName !== 'IDENT' || !token.text.startsWith('"@')) continue;
    const placeholder = token.text.slice(2, -1);
    const value = placeholderValue(layout, placeholder);
    if (value === undefined) throw new Error(`auth migration template: unknown placeholder "@${placeholder}"`);
    edits.push({ start: token.start, end: token.end, replacement: value });
  }
  return applyEdits(sql, edits);
}

/** One history per component and layout: `auth_users_keep`, `auth_users_<hash of the table layout>`. */
export function historyTable(layout: AuthLayout, component: AuthComponent): string {
  if (layout.kind === 'keep') return `auth_${component}_keep`;
  const key = createHash('sha256').update(JSON.stringify([layout.users, layout.identities, Object.entries(layout.columns).sort()])).digest('hex').slice(0, 12);
  return `auth_${component}_${key}`;
}

/** Apply the component's pending migrations (rendered for the layout); returns the names applied. */
export async function applyAuthMigrations(client: pg.Client, layout: AuthLayout, component: AuthComponent, progress: Progress): Promise<string[]> {
  type Loader = Extract<NonNullable<RunnerOption['migrationLoaderStrategies']>[number]['loader'], Function>;
  const loader: Loader = async (filePaths) => Promise.all(filePaths.map(async (filePath) => {
    const text = await renderAuthTemplate(await readFile(filePath, 'utf8'), layout);
    return { id: filePath, filePaths: [filePath], actions: { up: (pgm: MigrationBuilder) => { pgm.sql(text); }, down: false as const } };
  }));
  const log = (message: string): void => progress.log('debug', `node-pg-migrate: ${message}`);
  try {
    const ran = await runner({
      dbClient: client,
      dir: join(PACKAGE_ROOT, 'sql', 'auth', component),
      migrationsSchema: MIGRATIONS_SCHEMA,
      createMigrationsSchema: true,
      migrationsTable: historyTable(layout, component),
      direction: 'up',
      singleTransaction: true,
      checkOrder: true,
      migrationLoaderStrategies: [{ extensions: ['.sql'], loader }],
      logger: { debug: log, info: log, warn: log, error: log },
    });
    return ran.map((m) => m.name);
  } catch (error) {
    // node-pg-migrate wraps the server's error; unwrap it so the privilege hint can name the GRANT.
    const cause = (error as { cause?: unknown }).cause ?? error;
    throw toQueryError(cause, `creating the local auth tables (${component})`, 'target', client.user);
  }
}

interface ExistingColumn { name: string; type: string; notNull: boolean; hasDefault: boolean; generated: boolean }
interface ShapeRow { kind: string; columns: ExistingColumn[]; unique_keys: string[][] }

export interface PlannedTable {
  table: QualifiedName;
  /** GoTrue columns with their local names. */
  columns: Array<AuthColumn & { local: string }>;
}

/** The tables a run writes, with local column names. */
export function plannedTables(layout: AuthLayout, components: AuthComponent[]): PlannedTable[] {
  const map = (list: readonly AuthColumn[], table?: 'users' | 'identities') =>
    list.map((c) => ({ ...c, local: table ? localColumn(layout, c.name, table) : c.name }));
  const out: PlannedTable[] = [
    { table: usersTableOf(layout), columns: map(AUTH_USER_COLUMNS, 'users') },
    { table: identitiesTableOf(layout), columns: map(AUTH_IDENTITY_COLUMNS, 'identities') },
  ];
  if (components.includes('sessions')) {
    out.push({ table: extraTableOf(layout, 'sessions'), columns: map(AUTH_SESSION_COLUMNS) });
    out.push({ table: extraTableOf(layout, 'refresh_tokens'), columns: map(AUTH_REFRESH_TOKEN_COLUMNS) });
  }
  if (components.includes('mfa')) out.push({ table: extraTableOf(layout, 'mfa_factors'), columns: map(AUTH_MFA_FACTOR_COLUMNS) });
  return out;
}

/** Why an existing table is not offramp's shape (empty: it is, or it does not exist yet). */
export function shapeProblems(planned: PlannedTable, existing: ShapeRow | undefined): string[] {
  if (!existing) return [];
  if (existing.kind !== 'r' && existing.kind !== 'p') return ['it is not a table'];
  const problems: string[] = [];
  const byName = new Map(existing.columns.map((c) => [c.name, c]));
  for (const c of planned.columns) {
    const have = byName.get(c.local);
    if (!have) { problems.push(`column ${c.local} is missing`); continue; }
    if (have.type !== c.type) problems.push(`column ${c.local} is ${have.type}, offramp's is ${c.type}`);
    if (Boolean(c.generated) !== have.generated) problems.push(`column ${c.local} is ${have.generated ? '' : 'not '}generated`);
  }
  const ours = new Set(planned.columns.map((c) => c.local));
  for (const c of existing.columns) {
    if (!ours.has(c.name) && c.notNull && !c.hasDefault && !c.generated) problems.push(`column ${c.name} is NOT NULL without a default, which auth migrate cannot fill`);
  }
  const id = planned.columns.find((c) => c.name === 'id')!.local;
  if (!existing.unique_keys.some((k) => k.length === 1 && k[0] === id)) problems.push(`no primary key or unique index on ${id} alone`);
  return problems;
}

/**
 * Refuse (usage error, exit 2) before anything is written when a table the run would write into
 * exists with a shape that is not offramp's: upserting into someone else's `users` would mix
 * two sets of people.
 */
export async function checkTargetShapes(client: pg.ClientBase, planned: PlannedTable[]): Promise<void> {
  const refusals: string[] = [];
  for (const p of planned) {
    const rows = await query<ShapeRow>(client, loadSql('auth/table-shape.sql'), [p.table.schema, p.table.name], `reading the shape of ${displayName(p.table)}`);
    const problems = shapeProblems(p, rows[0]);
    if (problems.length > 0) refusals.push(`${displayName(p.table)}: ${problems.join('; ')}`);
  }
  if (refusals.length > 0) {
    throw new UsageError(`the target already has a table auth migrate would write into, and it is not offramp's shape: ${refusals.join(' | ')}`, {
      hint: 'nothing was written. Name other tables (--layout table --users-table schema.table --identities-table schema.table), map columns (--map-column gotrue=local), or rename the existing table',
    });
  }
}

/** Connect a dedicated target session for the migrations (node-pg-migrate sets its own search_path). */
export async function withMigrationClient<T>(targetUrl: string, timeoutSeconds: number, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(targetUrl, { role: 'target', timeoutSeconds, applicationName: 'offramp-auth-migrations' });
  try {
    return await fn(client);
  } finally {
    await endClient(client);
  }
}
