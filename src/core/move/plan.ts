/**
 * What a copy moves, read from the source catalog inside the copy's snapshot: the schemas, the
 * tables (largest first) cut into copy units, the extensions and the sequences.
 */
import type pg from 'pg';
import { loadSql, query } from '../../db/sql.js';
import { quoteIdent } from '../../db/sql-parse.js';
import { UsageError } from '../../errors.js';
import { exactName, parseTablePattern, type TablePattern } from './name-pattern.js';
import { isManagedSchema, isPlatformOnlyExtension, looksLikeSupabase, PLATFORM_ROLES } from '../supabase/platform.js';

export type Platform = 'supabase' | 'postgres';

export interface TablePlan {
  schema: string;
  name: string;
  /** "schema"."name", quoted for SQL. */
  qualified: string;
  /** schema.name, for people and journals. */
  display: string;
  kind: 'r' | 'p';
  isPartition: boolean;
  bytes: number;
  estimatedRows: number;
  pages: number;
  /** Quoted column names that COPY reads and writes (generated columns left out). */
  columns: string[];
  extensionTypes: string[];
}

export interface CopyUnit {
  id: string;
  table: TablePlan;
  /** A ctid range of the source table, when the table is split. */
  where?: string;
  bytes: number;
}

export interface ExtensionPlan {
  name: string;
  version: string;
  schema: string;
  relocatable: boolean;
  platformOnly: boolean;
  /** Objects of the copied schemas that use it (pg_describe_object text). */
  dependents: string[];
}

export interface MovePlan {
  platform: Platform;
  serverVersionNum: number;
  schemas: string[];
  /** Schemas deliberately left behind (managed by the platform, or excluded by the user). */
  excludedSchemas: string[];
  tables: TablePlan[];
  /**
   * Tables --exclude-table left out, with the sequences they own (serial, identity) and the views
   * that read them: exact names for pg_dump.
   */
  excludedTables: Array<{ schema: string; name: string }>;
  units: CopyUnit[];
  partitioned: Set<string>;
  extensions: ExtensionPlan[];
  /** What the user should know about the selection (an exclusion that matched nothing). */
  warnings: string[];
}

export interface PlanOptions {
  platform: 'auto' | Platform;
  schemas: string[];
  excludeSchemas: string[];
  excludeTables: string[];
  jobs: number;
  /** Tables larger than this are split into ctid ranges (bytes). */
  splitBytes: number;
}

export { quoteIdent };

export async function detectPlatform(client: pg.ClientBase): Promise<Platform> {
  const [row] = await query<{ users: boolean; objects: boolean; roles: string[] }>(
    client,
    `SELECT to_regclass('auth.users') IS NOT NULL AS users, to_regclass('storage.objects') IS NOT NULL AS objects,
            coalesce((SELECT array_agg(rolname::text) FROM pg_roles WHERE rolname = ANY ($1::text[])), '{}') AS roles`,
    [PLATFORM_ROLES],
    'detect the source platform',
  );
  return looksLikeSupabase({ hasAuthUsers: row!.users, hasStorageObjects: row!.objects, platformRoles: row!.roles }) ? 'supabase' : 'postgres';
}

function cutUnits(table: TablePlan, options: PlanOptions, canSplit: boolean): CopyUnit[] {
  if (!canSplit || table.bytes <= options.splitBytes || table.pages < 2) {
    return [{ id: table.display, table, bytes: table.bytes }];
  }
  const parts = Math.min(Math.ceil(table.bytes / options.splitBytes), Math.max(2, options.jobs * 4), table.pages);
  const step = Math.ceil(table.pages / parts);
  const units: CopyUnit[] = [];
  for (let i = 0; i < parts; i++) {
    const from = i * step;
    const to = (i + 1) * step;
    // The last range is open-ended: the table may have grown past relpages since the last ANALYZE.
    const where = i === parts - 1 ? `ctid >= '(${from},0)'::tid` : `ctid >= '(${from},0)'::tid AND ctid < '(${to},0)'::tid`;
    units.push({ id: `${table.display}#${i + 1}/${parts}`, table, where, bytes: Math.round(table.bytes / parts) });
  }
  return units;
}

export async function buildPlan(client: pg.ClientBase, options: PlanOptions): Promise<MovePlan> {
  const platform = options.platform === 'auto' ? await detectPlatform(client) : options.platform;
  const [{ v }] = (await query<{ v: string }>(client, `SELECT current_setting('server_version_num') AS v`)) as [{ v: string }];
  const serverVersionNum = Number(v);

  const allSchemas = await query<{ name: string; extension_owned: boolean }>(client, loadSql('move/schemas.sql'), [], 'list schemas');
  const warnings: string[] = [];
  const wanted = options.schemas.map(exactName);
  const unwanted = options.excludeSchemas.map(exactName);
  const known = new Set(allSchemas.map((s) => s.name));
  for (const [i, name] of wanted.entries()) {
    if (!known.has(name)) {
      throw new UsageError(`--schema ${options.schemas[i]} matches no schema of the source`, {
        hint: `schema names are exact and case-sensitive; the source has: ${[...known].join(', ')}; nothing was changed`,
      });
    }
  }
  for (const [i, name] of unwanted.entries()) {
    if (!known.has(name)) warnings.push(`--exclude-schema ${options.excludeSchemas[i]} matches no schema of the source`);
  }
  const excludedSchemas: string[] = [];
  const schemas: string[] = [];
  for (const s of allSchemas) {
    const managed = platform === 'supabase' && isManagedSchema(s.name);
    const excluded = s.extension_owned || managed || unwanted.includes(s.name) || (wanted.length > 0 && !wanted.includes(s.name));
    (excluded ? excludedSchemas : schemas).push(s.name);
  }
  for (const [i, name] of wanted.entries()) {
    if (schemas.length > 0 && !schemas.includes(name)) warnings.push(`--schema ${options.schemas[i]} is left behind all the same: ${platform === 'supabase' && isManagedSchema(name) ? 'the platform manages it' : unwanted.includes(name) ? '--exclude-schema names it too' : 'an extension owns it'}`);
  }
  if (schemas.length === 0) {
    throw new UsageError('the selection leaves no schema to copy', {
      hint: `${wanted.length > 0 ? `--schema ${options.schemas.join(', ')} names only schemas offramp leaves behind (platform-managed or owned by an extension)` : 'every schema is excluded'}; nothing was changed`,
    });
  }

  const rows = await query<{
    oid: string; schema: string; name: string; kind: 'r' | 'p'; is_partition: boolean; estimated_rows: string; pages: string; bytes: string;
    columns: string[] | null; extension_types: string[] | null;
  }>(client, loadSql('move/tables.sql'), [schemas], 'list tables');
  const patterns: TablePattern[] = options.excludeTables.map(parseTablePattern);
  const excluded = (r: { schema: string; name: string }): boolean => patterns.some((p) => p.matches(r.schema, r.name));
  for (const p of patterns) {
    if (!rows.some((r) => p.matches(r.schema, r.name))) warnings.push(`--exclude-table ${p.text} matches no table of the copied schemas`);
  }
  const excludedRows = rows.filter(excluded);
  // A table's serial and identity sequences go with it: left behind, pg_dump would still create
  // them and their OWNED BY, and setval would look for an identity sequence nobody made.
  const owned = excludedRows.length === 0 ? [] : await query<{ schema: string; name: string }>(
    client, loadSql('move/owned-sequences.sql'), [excludedRows.map((r) => r.oid)], 'list sequences owned by excluded tables');
  const views = excludedRows.length === 0 ? [] : await query<{ schema: string; name: string }>(
    client, loadSql('move/dependent-views.sql'), [excludedRows.map((r) => r.oid)], 'list views that read excluded tables');
  if (views.length > 0) warnings.push(`left out with the excluded tables, which they read: view${views.length > 1 ? 's' : ''} ${views.map((v) => `${v.schema}.${v.name}`).join(', ')}`);
  const excludedTables = [...excludedRows.map((r) => ({ schema: r.schema, name: r.name })), ...owned, ...views];
  const tables: TablePlan[] = rows
    .filter((r) => !excluded(r))
    .map((r) => ({
      schema: r.schema,
      name: r.name,
      qualified: `${quoteIdent(r.schema)}.${quoteIdent(r.name)}`,
      display: `${r.schema}.${r.name}`,
      kind: r.kind,
      isPartition: r.is_partition,
      bytes: Number(r.bytes),
      estimatedRows: Number(r.estimated_rows),
      pages: Number(r.pages),
      columns: r.columns ?? [],
      extensionTypes: r.extension_types ?? [],
    }));
  const partitioned = new Set(tables.filter((t) => t.kind === 'p').map((t) => t.qualified));
  // TID range scans (PG14+) make ctid ranges cheap; older servers copy each table whole.
  const canSplit = serverVersionNum >= 140000;
  const units = tables
    .filter((t) => t.kind === 'r')
    .flatMap((t) => cutUnits(t, options, canSplit))
    .sort((a, b) => b.bytes - a.bytes);

  const extRows = await query<{ name: string; version: string; schema: string; relocatable: boolean; dependents: string[] }>(
    client, loadSql('move/extensions.sql'), [schemas], 'list extensions',
  );
  const extensions = extRows.map((e) => ({ ...e, platformOnly: isPlatformOnlyExtension(e.name) }));
  return { platform, serverVersionNum, schemas, excludedSchemas, tables, excludedTables, units, partitioned, extensions, warnings };
}

/** Sequence positions to carry over: those of the copied schemas, not those left out with their table. */
export async function readSequences(client: pg.ClientBase, plan: MovePlan): Promise<Array<{ name: string; last_value: string | null }>> {
  const skip = plan.excludedTables;
  return query<{ name: string; last_value: string | null }>(client, loadSql('move/sequences.sql'), [plan.schemas, skip.map((t) => t.schema), skip.map((t) => t.name)], 'read sequences');
}
