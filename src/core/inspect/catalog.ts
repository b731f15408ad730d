/**
 * Server, platform, schemas, tables (with row counts), extensions, policies and roles, read from
 * the catalogs inside the inspect snapshot.
 */
import {
  HANDLED_MANAGED_SCHEMAS, PLATFORM_ONLY_EXTENSIONS, PLATFORM_ROLES, isManagedSchema, isPlatformOnlyExtension,
  isPlatformRole, looksLikeSupabase,
} from '../supabase/platform.js';
import { num, type Snapshot } from './session.js';
import type {
  ExtensionInfo, ManagedTableInfo, PlatformInfo, PlatformKind, PlatformOption, PlatformSignals, PolicyInfo, RoleInfo,
  SchemaInfo, ServerInfo, TableInfo,
} from './types.js';

/** Tables never analysed (reltuples = -1) are counted exactly when their heap is at most this big. */
const UNANALYSED_COUNT_BYTES = 256 * 1024 * 1024;

interface ServerRow {
  version: string; version_num: number; current_user: string; superuser: boolean; bypass_rls: boolean; database: string;
  database_bytes: string; wal_level: string; timezone: string; has_auth_users: boolean; has_storage_objects: boolean;
  has_extensions_schema: boolean; has_realtime_publication: boolean; platform_roles: string[]; snapshot_time: Date;
}

export async function readServer(snap: Snapshot): Promise<{ server: ServerInfo; signals: PlatformSignals; snapshotTime: Date }> {
  const [r] = await snap.run<ServerRow>('server', [[...PLATFORM_ROLES]]);
  if (!r) throw new Error('inspect: the server query returned no row for the connecting role');
  return {
    server: {
      version: r.version, versionNum: r.version_num, currentUser: r.current_user, superuser: r.superuser,
      bypassRls: r.bypass_rls, database: r.database, databaseBytes: num(r.database_bytes), walLevel: r.wal_level,
      timezone: r.timezone,
    },
    signals: {
      hasAuthUsers: r.has_auth_users, hasStorageObjects: r.has_storage_objects, platformRoles: r.platform_roles,
      hasRealtimePublication: r.has_realtime_publication, hasExtensionsSchema: r.has_extensions_schema,
    },
    snapshotTime: r.snapshot_time,
  };
}

/** Honour an explicit --platform; otherwise decide from the signals. */
export function decidePlatform(requested: PlatformOption, signals: PlatformSignals): PlatformInfo {
  const detected: PlatformKind = looksLikeSupabase(signals) ? 'supabase' : 'postgres';
  return { kind: requested === 'auto' ? detected : requested, detected, requested, signals };
}

interface SchemaRow {
  name: string; owner: string; tables: number; views: number; materialized_views: number; sequences: number; functions: number; types: number;
}

export async function readSchemas(snap: Snapshot, platform: PlatformKind): Promise<SchemaInfo[]> {
  const rows = await snap.run<SchemaRow>('schemas');
  return rows.map((r) => {
    // On a plain PostgreSQL source a schema named auth or extensions is the project's own.
    const managed = platform === 'supabase' ? isManagedSchema(r.name) : r.name.startsWith('pg_');
    const handledBy = managed ? HANDLED_MANAGED_SCHEMAS[r.name] : undefined;
    return {
      name: r.name, owner: r.owner, managed, ...(handledBy ? { handledBy } : {}),
      counts: {
        tables: r.tables, views: r.views, materializedViews: r.materialized_views, sequences: r.sequences,
        functions: r.functions, types: r.types,
      },
    };
  });
}

interface TableRow {
  oid: string; schema: string; name: string; owner: string; relkind: 'r' | 'p'; is_partition: boolean; partition_of: string | null;
  reltuples: number; heap_bytes: string; total_bytes: string; has_pk: boolean; has_unique_key: boolean; rls_enabled: boolean;
  rls_forced: boolean; policies: number; generated_columns: string[]; identity_columns: string[];
  fks_to_auth_users: TableInfo['fksToAuthUsers']; in_realtime_publication: boolean; readable: boolean; rls_filters_reader: boolean;
}

export interface TablesResult {
  tables: TableInfo[];
  managedTables: ManagedTableInfo[];
  /** oid of every table read, by `schema.name`. */
  oids: Map<string, number>;
}

/**
 * Tables of user schemas, and those of the managed schemas whose data a stage handles. Small
 * tables are counted exactly in the snapshot; big, unreadable or RLS-filtered ones keep the
 * planner's estimate (rowsExact: false).
 */
export async function readTables(snap: Snapshot, managedSchemas: Set<string>, exactCountLimit: number): Promise<TablesResult> {
  const all = await snap.run<TableRow>('tables');
  const handled = new Set(Object.keys(HANDLED_MANAGED_SCHEMAS).filter((s) => managedSchemas.has(s)));
  const wanted = all.filter((t) => !managedSchemas.has(t.schema) || handled.has(t.schema));
  const exact = await countExactly(snap, wanted, exactCountLimit);

  const rowsOf = (t: TableRow): { rows: number | null; rowsExact: boolean } => {
    const n = exact.get(num(t.oid));
    if (n !== undefined) return { rows: n, rowsExact: true };
    return { rows: t.reltuples >= 0 ? Math.round(t.reltuples) : null, rowsExact: false };
  };

  const tables: TableInfo[] = [];
  const managedTables: ManagedTableInfo[] = [];
  const oids = new Map<string, number>();
  for (const t of wanted) {
    oids.set(`${t.schema}.${t.name}`, num(t.oid));
    const counted = t.relkind === 'p' ? { rows: null, rowsExact: true } : rowsOf(t);
    if (managedSchemas.has(t.schema)) {
      managedTables.push({ schema: t.schema, name: t.name, ...counted, totalBytes: num(t.total_bytes), readable: t.readable });
      continue;
    }
    tables.push({
      schema: t.schema, name: t.name, owner: t.owner, kind: t.relkind === 'p' ? 'partitioned' : 'table',
      ...(t.partition_of ? { partitionOf: t.partition_of } : {}),
      ...counted, totalBytes: num(t.total_bytes), hasPrimaryKey: t.has_pk, hasUniqueKey: t.has_unique_key,
      rlsEnabled: t.rls_enabled, rlsForced: t.rls_forced, policies: t.policies, generatedColumns: t.generated_columns,
      identityColumns: t.identity_columns, fksToAuthUsers: t.fks_to_auth_users, inRealtimePublication: t.in_realtime_publication,
      readable: t.readable,
    });
  }
  rollUpPartitions(tables);
  return { tables, managedTables, oids };
}

async function countExactly(snap: Snapshot, tables: TableRow[], limit: number): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  const candidates: TableRow[] = [];
  for (const t of tables) {
    if (t.relkind !== 'r') continue;
    const qualified = `${t.schema}.${t.name}`;
    if (!t.readable) {
      snap.cannotRead(qualified, 'no SELECT privilege (row count estimated)');
    } else if (t.rls_filters_reader) {
      snap.cannotRead(qualified, 'row-level security hides rows from this role (row count estimated)');
    } else if (t.reltuples >= 0 ? t.reltuples <= limit : num(t.heap_bytes) <= UNANALYSED_COUNT_BYTES) {
      candidates.push(t);
    }
  }
  if (candidates.length === 0) return counts;
  type CountRow = { oid: string; n: string };
  const batch = await snap.attempt<CountRow>('exact-counts', [candidates.map((t) => t.oid)], null);
  if (batch) {
    for (const r of batch) counts.set(num(r.oid), num(r.n));
    return counts;
  }
  // One table refused the batch: count them one by one so only that one stays estimated.
  for (const t of candidates) {
    const one = await snap.attempt<CountRow>('exact-counts', [[t.oid]], `${t.schema}.${t.name}`);
    if (one?.[0]) counts.set(num(one[0].oid), num(one[0].n));
  }
  return counts;
}

/** A partitioned table's rows are the sum of its leaf partitions'. */
function rollUpPartitions(tables: TableInfo[]): void {
  const byName = new Map(tables.map((t) => [`${t.schema}.${t.name}`, t]));
  for (const leaf of tables) {
    if (leaf.kind !== 'table' || !leaf.partitionOf) continue;
    for (let parent = byName.get(leaf.partitionOf); parent; parent = parent.partitionOf ? byName.get(parent.partitionOf) : undefined) {
      parent.rows = (parent.rows ?? 0) + (leaf.rows ?? 0);
      parent.rowsExact &&= leaf.rowsExact && leaf.rows !== null;
    }
  }
  for (const t of tables) if (t.kind === 'partitioned' && t.rows === null) t.rows = 0;
}

export async function readExtensions(snap: Snapshot): Promise<ExtensionInfo[]> {
  const rows = await snap.run<{ name: string; version: string; schema: string }>('extensions');
  return rows.map((r) => ({
    name: r.name, version: r.version, schema: r.schema, platformOnly: isPlatformOnlyExtension(r.name),
    ...(isPlatformOnlyExtension(r.name) ? { platformOnlyReason: PLATFORM_ONLY_EXTENSIONS[r.name] } : {}),
    dependents: [],
  }));
}

interface PolicyRow {
  schema: string; table: string; name: string; command: PolicyInfo['command']; permissive: boolean; roles: string[];
  using: string | null; with_check: string | null;
}

export async function readPolicies(snap: Snapshot, managed: string[], platformSchemas: string[]): Promise<PolicyInfo[]> {
  const rows = await snap.run<PolicyRow>('policies', [managed, platformSchemas]);
  return rows.map((r) => ({
    schema: r.schema, table: r.table, name: r.name, command: r.command, permissive: r.permissive, roles: r.roles,
    using: r.using, withCheck: r.with_check, references: [],
  }));
}

interface RoleRow {
  name: string; login: boolean; superuser: boolean; bypass_rls: boolean; create_role: boolean; create_db: boolean;
  replication: boolean; inherit: boolean; member_of: string[]; owns: number; grants: number; policies: number;
}

export async function readRoles(snap: Snapshot, managed: string[], platformSchemas: string[], platform: PlatformKind): Promise<RoleInfo[]> {
  const rows = await snap.run<RoleRow>('roles', [managed, platformSchemas]);
  return rows.map((r) => ({
    name: r.name,
    platform: r.name.startsWith('pg_') || (platform === 'supabase' && isPlatformRole(r.name)),
    login: r.login, superuser: r.superuser, bypassRls: r.bypass_rls, createRole: r.create_role, createDb: r.create_db,
    replication: r.replication, inherit: r.inherit, memberOf: r.member_of, owns: r.owns, grants: r.grants, policies: r.policies,
  }));
}
