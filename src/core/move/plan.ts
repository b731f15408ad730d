/**
 * What a copy moves, read from the source catalog inside the copy's snapshot: the schemas, the
 * tables (largest first) cut into copy units, the extensions and the sequences.
 */
import type pg from 'pg';
import { loadSql, query } from '../../db/sql.js';
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
  /** Tables --exclude-table left out, as "schema"."name" (exact, for pg_dump). */
  excludedTables: string[];
  units: CopyUnit[];
  partitioned: Set<string>;
  extensions: ExtensionPlan[];
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

export const quoteIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;

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

/** A table name given as schema.name or name (public), matched case-sensitively with * and ? wildcards. */
function matchesTableFilter(filter: string, t: { schema: string; name: string }): boolean {
  const [schema, name] = filter.includes('.') ? filter.split('.', 2) : ['public', filter];
  const like = (pattern: string, value: string): boolean => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(value);
  return like(schema!, t.schema) && like(name!, t.name);
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
  const excludedSchemas: string[] = [];
  const schemas: string[] = [];
  for (const s of allSchemas) {
    const managed = platform === 'supabase' && isManagedSchema(s.name);
    const excluded = s.extension_owned || managed || options.excludeSchemas.includes(s.name) || (options.schemas.length > 0 && !options.schemas.includes(s.name));
    (excluded ? excludedSchemas : schemas).push(s.name);
  }

  const rows = await query<{
    schema: string; name: string; kind: 'r' | 'p'; is_partition: boolean; estimated_rows: string; pages: string; bytes: string;
    columns: string[] | null; extension_types: string[] | null;
  }>(client, loadSql('move/tables.sql'), [schemas], 'list tables');
  const excluded = (r: { schema: string; name: string }): boolean => options.excludeTables.some((f) => matchesTableFilter(f, r));
  const excludedTables = rows.filter(excluded).map((r) => `${quoteIdent(r.schema)}.${quoteIdent(r.name)}`);
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
  return { platform, serverVersionNum, schemas, excludedSchemas, tables, excludedTables, units, partitioned, extensions };
}
