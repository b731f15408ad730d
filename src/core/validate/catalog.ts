/**
 * Which tables are compared, with which columns and key: read both catalogs, decide the platform,
 * drop what the migration leaves behind on purpose, and pair each source table with its target
 * table (same name, or a mapping).
 */
import { loadSql } from '../../db/sql.js';
import { UsageError } from '../../errors.js';
import { HANDLED_MANAGED_SCHEMAS, PLATFORM_ROLES, isManagedSchema, looksLikeSupabase } from '../supabase/platform.js';
import type { Side } from './side.js';
import type { ColumnInfo, TableSpec } from './rowsql.js';
import type { PlatformKind, TableMapping, ValidateOptions } from './types.js';

export interface CatalogTable {
  schema: string;
  name: string;
  kind: 'r' | 'p' | 'm';
  /** false only for a materialized view that was never refreshed (reading it fails). */
  populated: boolean;
  /** A materialized view reading a left-behind schema or a platform-only extension: copy defers it. */
  heldBack: string[];
  hasChildren: boolean;
  estRows: number;
  neverAnalysed: boolean;
  pages: number;
  key: string[];
  columns: ColumnInfo[];
}

export interface SideCatalog {
  tables: Map<string, CatalogTable>;
  roles: Set<string>;
  schemas: string[];
  currentUser: string;
  hashProbe: string;
  platformSignals: { hasAuthUsers: boolean; hasStorageObjects: boolean; platformRoles: string[] };
}

/** A source table paired with what it is compared against. */
export interface TablePair {
  id: string;
  targetId: string;
  source: TableSpec;
  /** null when the target has no such table. */
  target: TableSpec | null;
  sourceInfo: CatalogTable;
  targetInfo: CatalogTable | null;
  columnsOnlyInSource: string[];
  columnsOnlyInTarget: string[];
  note?: string;
}

interface TableRow {
  schema: string; name: string; kind: 'r' | 'p' | 'm'; populated: boolean; held_back: string[] | null; has_children: boolean; est_rows: number; never_analysed: boolean;
  pages: string; key: string[]; columns: ColumnInfo[];
}

/** translated: left-behind schemas a later stage provides; missingExtensions: platform-only extensions. */
export async function readCatalog(side: Side, translated: string[] = [], missingExtensions: string[] = []): Promise<SideCatalog> {
  const rows = await side.query<TableRow>(loadSql('validate/tables.sql'), [translated, missingExtensions], 'list tables');
  const [p] = await side.query<{ has_auth_users: boolean; has_storage_objects: boolean; platform_roles: string[]; roles: string[]; schemas: string[]; current_user: string; hash_probe: string }>(
    loadSql('validate/platform.sql'), [[...PLATFORM_ROLES]], 'platform signals');
  const tables = new Map<string, CatalogTable>();
  for (const r of rows) {
    tables.set(`${r.schema}.${r.name}`, {
      schema: r.schema, name: r.name, kind: r.kind, populated: r.populated, heldBack: r.held_back ?? [], hasChildren: r.has_children, estRows: Number(r.est_rows),
      neverAnalysed: r.never_analysed, pages: Number(r.pages), key: r.key, columns: r.columns,
    });
  }
  return {
    tables,
    roles: new Set(p!.roles),
    schemas: p!.schemas,
    currentUser: p!.current_user,
    hashProbe: p!.hash_probe,
    platformSignals: { hasAuthUsers: p!.has_auth_users, hasStorageObjects: p!.has_storage_objects, platformRoles: p!.platform_roles },
  };
}

export function decidePlatform(requested: ValidateOptions['platform'], source: SideCatalog): { kind: PlatformKind; detected: PlatformKind } {
  const detected: PlatformKind = looksLikeSupabase(source.platformSignals) ? 'supabase' : 'postgres';
  return { kind: !requested || requested === 'auto' ? detected : requested, detected };
}

/** Schemas the migration leaves behind: Supabase-managed ones on a Supabase source, none otherwise. */
export function isLeftBehind(schema: string, platform: PlatformKind): boolean {
  return platform === 'supabase' && isManagedSchema(schema);
}

export function leftBehindReason(schema: string): string {
  return HANDLED_MANAGED_SCHEMAS[schema] ? `Supabase-managed schema: ${HANDLED_MANAGED_SCHEMAS[schema]}` : 'Supabase-managed schema, left behind by the migration';
}

/** `schema.table`, or a bare `table` matching in any schema. */
function matches(patterns: string[], schema: string, name: string): boolean {
  return patterns.some((p) => (p.includes('.') ? p === `${schema}.${name}` : p === name));
}

export function splitName(qualifiedName: string, what: string): { schema: string; name: string } {
  const i = qualifiedName.indexOf('.');
  if (i <= 0 || i === qualifiedName.length - 1) {
    throw new UsageError(`${what} "${qualifiedName}" must be written schema.table`, { hint: 'e.g. --map auth.users=public.users' });
  }
  return { schema: qualifiedName.slice(0, i), name: qualifiedName.slice(i + 1) };
}

export interface Selection {
  pairs: TablePair[];
  skipped: Array<{ object: string; reason: string }>;
}

/** Decide the compared tables and how each is read on both sides. */
export function pairTables(source: SideCatalog, target: SideCatalog, platform: PlatformKind, options: ValidateOptions): Selection {
  const skipped: Selection['skipped'] = [];
  const pairs: TablePair[] = [];
  const mappings = new Map<string, TableMapping>((options.mappings ?? []).map((m) => [m.source, m]));
  for (const m of mappings.values()) checkMapping(m, source, target);
  checkSelectionMatches(source, options);
  const leftBehindSchemas = new Map<string, number>();
  for (const [id, t] of source.tables) {
    const mapping = mappings.get(id);
    if (!mapping) {
      if (options.tables?.length && !matches(options.tables, t.schema, t.name)) continue;
      if (options.schemas?.length && !options.schemas.includes(t.schema)) continue;
      if (options.excludeSchemas?.includes(t.schema)) continue;
      if (options.excludeTables?.length && matches(options.excludeTables, t.schema, t.name)) {
        skipped.push({ object: `table ${id}`, reason: 'excluded by --exclude-table' });
        continue;
      }
      if (isLeftBehind(t.schema, platform) && !(options.tables?.length && matches(options.tables, t.schema, t.name))) {
        leftBehindSchemas.set(t.schema, (leftBehindSchemas.get(t.schema) ?? 0) + 1);
        continue;
      }
    }
    if (!mapping && platform === 'supabase' && t.heldBack.length > 0 && !target.tables.has(id)) {
      skipped.push({ object: `materialized view ${id}`, reason: `reads ${t.heldBack.join(', ')}, which stays behind: the copy deferred it with its REFRESH` });
      continue;
    }
    pairs.push(pairOne(id, t, mapping, target));
  }
  for (const [schema, n] of [...leftBehindSchemas].sort()) {
    skipped.push({ object: `schema ${schema} (${n} table${n === 1 ? '' : 's'})`, reason: leftBehindReason(schema) });
  }
  if (pairs.length === 0) {
    // A run that compared no table proves nothing: it must not end in "EQUAL".
    throw new UsageError('nothing to compare: no source table is left after the selection', {
      hint: skipped.length
        ? `left out: ${skipped.map((s) => s.object).join(', ')}; name tables of a managed schema with --tables schema.table`
        : 'the source has no user table; check --source, --tables, --schemas and --exclude-table',
    });
  }
  return { pairs, skipped };
}

function listSome(names: string[]): string {
  return names.length > 12 ? `${names.slice(0, 12).join(', ')}, … (${names.length} in all)` : names.join(', ');
}

/**
 * Every column a --map names must exist on its side: a mapping whose columns are all misspelt
 * would otherwise compare zero columns and report two equal (empty) hashes.
 */
function checkMapping(m: TableMapping, source: SideCatalog, target: SideCatalog): void {
  const s = source.tables.get(m.source);
  const t = target.tables.get(m.target);
  if (!s) throw new UsageError(`--map ${m.source}=${m.target}: no table ${m.source} on the source`);
  if (!t) throw new UsageError(`--map ${m.source}=${m.target}: no table ${m.target} on the target`);
  if (!m.columns) return;
  const sourceCols = new Set(s.columns.map((c) => c.name));
  const targetCols = new Set(t.columns.map((c) => c.name));
  const problems = [
    ...Object.keys(m.columns).filter((c) => !sourceCols.has(c)).map((c) => `no column "${c}" in ${m.source} on the source`),
    ...Object.values(m.columns).filter((c) => !targetCols.has(c)).map((c) => `no column "${c}" in ${m.target} on the target`),
  ];
  if (problems.length) {
    throw new UsageError(`--map ${m.source}=${m.target}: ${problems.join('; ')}`, {
      hint: `columns of ${m.source}: ${listSome([...sourceCols])}; of ${m.target}: ${listSome([...targetCols])}`,
    });
  }
}

/** Each --tables pattern and each --schemas name must match a table of the source. */
function checkSelectionMatches(source: SideCatalog, options: ValidateOptions): void {
  const all = [...source.tables.values()];
  const unmatchedTables = (options.tables ?? []).filter((p) => !all.some((t) => matches([p], t.schema, t.name)));
  const unmatchedSchemas = (options.schemas ?? []).filter((s) => !all.some((t) => t.schema === s));
  const problems = [
    ...unmatchedTables.map((p) => `--tables ${p}`),
    ...unmatchedSchemas.map((s) => `--schemas ${s}`),
  ];
  if (problems.length) {
    throw new UsageError(`${problems.join(', ')} matched no table on the source`, {
      hint: `name source tables as schema.table or table (exact, case-sensitive); schemas with tables on the source: ${listSome([...new Set(all.map((t) => t.schema))].sort())}`,
    });
  }
}

function pairOne(id: string, t: CatalogTable, mapping: TableMapping | undefined, target: SideCatalog): TablePair {
  const targetId = mapping?.target ?? id;
  const tt = target.tables.get(targetId) ?? null;
  const sourceSpecBase = { schema: t.schema, name: t.name, kind: t.kind };
  if (!tt) {
    const spec: TableSpec = { ...sourceSpecBase, columns: t.columns, key: t.columns.filter((c) => t.key.includes(c.name)) };
    return { id, targetId, source: spec, target: null, sourceInfo: t, targetInfo: null, columnsOnlyInSource: [], columnsOnlyInTarget: [] };
  }
  const targetByName = new Map(tt.columns.map((c) => [c.name, c]));
  const colMap = mapping?.columns;
  const srcCols: ColumnInfo[] = [];
  const tgtCols: ColumnInfo[] = [];
  const onlySource: string[] = [];
  for (const c of t.columns) {
    if (colMap && !(c.name in colMap)) continue;
    const other = targetByName.get(colMap ? colMap[c.name]! : c.name);
    if (other) {
      srcCols.push(c);
      tgtCols.push(other);
    } else onlySource.push(c.name);
  }
  const used = new Set(tgtCols.map((c) => c.name));
  const onlyTarget = colMap ? [] : tt.columns.filter((c) => !used.has(c.name)).map((c) => c.name);
  let keyIdx = t.key.map((k) => srcCols.findIndex((c) => c.name === k));
  let note: string | undefined;
  if (keyIdx.some((i) => i < 0)) {
    note = 'the primary key is not among the compared columns on both sides: compared as a multiset of rows';
    keyIdx = [];
  }
  const keyOf = (cols: ColumnInfo[]): ColumnInfo[] => keyIdx.map((i) => cols[i]!);
  return {
    id,
    targetId,
    source: { ...sourceSpecBase, columns: srcCols, key: keyOf(srcCols) },
    target: { schema: tt.schema, name: tt.name, kind: tt.kind, columns: tgtCols, key: keyOf(tgtCols) },
    sourceInfo: t,
    targetInfo: tt,
    columnsOnlyInSource: onlySource,
    columnsOnlyInTarget: onlyTarget,
    ...(note ? { note } : {}),
  };
}
