/**
 * The shape of `offramp inspect`'s report. It is the `result` of the JSON envelope, so changes
 * here are changes to a public contract: add fields, do not rename or remove them.
 */

export type PlatformKind = 'supabase' | 'postgres';
export type PlatformOption = 'auto' | PlatformKind;

export interface InspectOptions {
  /** Connection URL of the source (opened read-only). */
  source: string;
  connectTimeoutSeconds?: number;
  /** `auto` decides from catalog signals; the others force the answer. */
  platform?: PlatformOption;
  /**
   * Tables with at most this many estimated rows (pg_class.reltuples) are counted exactly with
   * count(*) inside the snapshot; bigger ones report the estimate. Default 1,000,000.
   */
  exactCountLimit?: number;
}

export interface ServerInfo {
  version: string;
  versionNum: number;
  currentUser: string;
  superuser: boolean;
  /** BYPASSRLS attribute of the connecting role (its counts are not filtered by RLS). */
  bypassRls: boolean;
  database: string;
  databaseBytes: number;
  walLevel: string;
  timezone: string;
}

export interface PlatformSignals {
  hasAuthUsers: boolean;
  hasStorageObjects: boolean;
  /** Platform roles (supabase-facts §1) that exist on the server. */
  platformRoles: string[];
  hasRealtimePublication: boolean;
  hasExtensionsSchema: boolean;
}

export interface PlatformInfo {
  /** What the rest of the report assumes. */
  kind: PlatformKind;
  /** What the signals say, whatever was requested. */
  detected: PlatformKind;
  requested: PlatformOption;
  signals: PlatformSignals;
}

export interface SchemaObjectCounts {
  tables: number;
  views: number;
  materializedViews: number;
  sequences: number;
  functions: number;
  types: number;
}

export interface SchemaInfo {
  name: string;
  owner: string;
  /** Belongs to the platform (Supabase services, extensions) rather than to the project. */
  managed: boolean;
  /** For managed schemas whose data an offramp stage handles: which one and how. */
  handledBy?: string;
  counts: SchemaObjectCounts;
}

export interface ForeignKeyToAuthUsers {
  constraint: string;
  columns: string[];
  onDelete: string;
}

export interface TableInfo {
  schema: string;
  name: string;
  owner: string;
  kind: 'table' | 'partitioned';
  /** `schema.name` of the parent when this table is a partition. */
  partitionOf?: string;
  /** Exact count(*) in the snapshot, or the planner's estimate; null when unknown. */
  rows: number | null;
  rowsExact: boolean;
  /** Table + indexes + TOAST. */
  totalBytes: number;
  hasPrimaryKey: boolean;
  /** Has a primary key or a unique constraint/index on NOT NULL columns (copy can split it). */
  hasUniqueKey: boolean;
  rlsEnabled: boolean;
  rlsForced: boolean;
  policies: number;
  generatedColumns: string[];
  identityColumns: string[];
  fksToAuthUsers: ForeignKeyToAuthUsers[];
  inRealtimePublication: boolean;
  /** The connecting role may SELECT it (otherwise rows are estimated). */
  readable: boolean;
}

/** A table of a managed schema whose rows matter (auth, storage, migration history). */
export interface ManagedTableInfo {
  schema: string;
  name: string;
  rows: number | null;
  rowsExact: boolean;
  totalBytes: number;
  readable: boolean;
}

export interface ExtensionDependent {
  kind: ObjectKind;
  /** e.g. `public.beacons.location`, `public.tags_name_idx`, `public.new_id()` */
  object: string;
}

export interface ExtensionInfo {
  name: string;
  version: string;
  schema: string;
  /** Not packaged for a plain PostgreSQL + PostGIS server (PLATFORM_ONLY_EXTENSIONS). */
  platformOnly: boolean;
  platformOnlyReason?: string;
  /** Objects in user schemas (columns, defaults, indexes, functions, views, policies) that need it. */
  dependents: ExtensionDependent[];
}

export type ObjectKind =
  | 'table' | 'column' | 'index' | 'view' | 'materialized view' | 'sequence' | 'function'
  | 'trigger' | 'policy' | 'default' | 'constraint' | 'type' | 'other';

/** An object of the project that names something in `auth` or `storage`. */
export interface PlatformReference {
  kind: 'function' | 'trigger' | 'view' | 'materialized view' | 'default' | 'policy' | 'constraint';
  schema: string;
  name: string;
  /** `schema.table` the object is attached to (triggers, policies, defaults, constraints). */
  table?: string;
  /** Referenced names, e.g. `auth.uid`, `auth.users`, `storage.foldername`. */
  references: string[];
  /** The subset of `references` that are functions. */
  functions: string[];
  /** How it was found: catalog dependencies (pg_depend) and/or text of the definition. */
  via: Array<'depend' | 'text'>;
  /**
   * Project functions it calls whose bodies use auth.* / storage.* (e.g. a policy calling
   * public.is_moderator(), which calls auth.uid()); their platform names are in `references`.
   */
  through?: string[];
}

export interface AuthTrigger {
  table: string;
  name: string;
  function: string;
  functionOwner: string;
  securityDefiner: boolean;
  /** `SET search_path` of the function, when it has one. */
  searchPath: string | null;
  timing: 'BEFORE' | 'AFTER' | 'INSTEAD OF';
  events: string[];
  level: 'ROW' | 'STATEMENT';
  enabled: boolean;
}

export interface PolicyInfo {
  schema: string;
  table: string;
  name: string;
  command: 'ALL' | 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';
  permissive: boolean;
  roles: string[];
  using: string | null;
  withCheck: string | null;
  /** auth.* / storage.* names it uses. */
  references: string[];
}

export interface RoleInfo {
  name: string;
  platform: boolean;
  login: boolean;
  superuser: boolean;
  bypassRls: boolean;
  createRole: boolean;
  createDb: boolean;
  replication: boolean;
  inherit: boolean;
  memberOf: string[];
  /** Objects in user schemas it owns. */
  owns: number;
  /** Privileges granted to it on user-schema objects (incl. default privileges). */
  grants: number;
  /** Policies naming it in TO. */
  policies: number;
}

export interface AuthSummary {
  /** An `auth.users` table exists. */
  present: boolean;
  /** The connecting role may read auth.users; when false the counts are null. */
  readable: boolean;
  users: number | null;
  passwords: { bcrypt: number; empty: number; other: number } | null;
  banned: number | null;
  deleted: number | null;
  anonymous: number | null;
  sso: number | null;
  identities: number | null;
  identitiesByProvider: Record<string, number>;
  /** Users with at least one identity of each provider (a Google-linked e-mail user counts for both). */
  usersByProvider: Record<string, number>;
  /** Password hashes by scheme: what the new backend must verify (bcrypt cost, argon2, Firebase scrypt). */
  hashKinds: AuthHashKind[] | null;
  mfaFactors: number | null;
  /** MFA factors by `kind/status`, e.g. `totp/verified`. */
  mfaByKind: Record<string, number>;
  sessions: number | null;
}

export interface AuthHashKind {
  kind: 'bcrypt' | 'argon2' | 'firebase-scrypt' | 'none' | 'other';
  /** The scheme identifier between the first two `$`: 2a, 2b, argon2id, fbscrypt. */
  variant: string | null;
  /** bcrypt's cost factor. */
  cost: number | null;
  users: number;
}

export interface BucketInfo {
  id: string;
  name: string;
  public: boolean;
  objects: number;
  bytes: number;
}

export interface StorageSummary {
  present: boolean;
  readable: boolean;
  buckets: BucketInfo[];
  objects: number | null;
  bytes: number | null;
}

export interface PublicationInfo {
  name: string;
  allTables: boolean;
  platform: boolean;
  tables: string[];
  operations: string[];
}

export interface EventTriggerInfo {
  name: string;
  event: string;
  function: string;
  owner: string;
  enabled: boolean;
  platform: boolean;
}

export type Severity = 'info' | 'warning' | 'error';

export interface Finding {
  /** Stable identifier (kebab-case); safe to match on in scripts. */
  id: string;
  severity: Severity;
  message: string;
  hint: string;
  /** The object it is about, e.g. `public.audit_log`. */
  object?: string;
}

export interface InspectTotals {
  schemas: { user: number; managed: number };
  userTables: number;
  rows: number;
  /** False when at least one user table's row count is an estimate. */
  rowsExact: boolean;
  bytes: number;
  policies: number;
  functions: number;
  findings: Record<Severity, number>;
}

export interface InspectReport {
  /** ISO time the snapshot was taken. */
  generatedAt: string;
  /** Source URL with the password masked. */
  source: string;
  durationMs: number;
  server: ServerInfo;
  platform: PlatformInfo;
  schemas: SchemaInfo[];
  tables: TableInfo[];
  managedTables: ManagedTableInfo[];
  extensions: ExtensionInfo[];
  policies: PolicyInfo[];
  references: PlatformReference[];
  authUserTriggers: AuthTrigger[];
  /** Project triggers on other auth/storage tables (not auth.users). */
  platformTableTriggers: AuthTrigger[];
  roles: RoleInfo[];
  auth: AuthSummary;
  storage: StorageSummary;
  vault: { present: boolean; readable: boolean; secrets: number | null };
  publications: PublicationInfo[];
  eventTriggers: EventTriggerInfo[];
  securityDefinerFunctions: Array<{ function: string; owner: string; searchPath: string | null }>;
  /** What could not be read with the connecting role's privileges. */
  unreadable: string[];
  findings: Finding[];
  totals: InspectTotals;
}

/** Everything inspect reads, before findings and totals are derived from it. */
export type InspectInventory = Omit<InspectReport, 'findings' | 'totals'>;
