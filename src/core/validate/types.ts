/**
 * The shape of `offramp validate`'s options and report. The report is the `result` of the JSON
 * envelope, so changes here are changes to a public contract: add fields, do not rename or remove.
 */
import type { AuthLayout } from '../auth/layout.js';
import type { CheckResult } from '../../checks/types.js';

export type ValidateMode = 'counts' | 'hash' | 'full';
/** `auto`: the fast server hash when both servers agree on it, md5 otherwise. */
export type HashChoice = 'auto' | 'md5';
/** What was actually used. `hashtextextended` is PostgreSQL's 64-bit hash with two seeds (128 bits). */
export type HashAlgorithm = 'hashtextextended' | 'md5';
export type PlatformKind = 'supabase' | 'postgres';

/** A translated table: rows of `source` are compared with rows of `target` (e.g. auth.users → public.users). */
export interface TableMapping {
  /** `schema.table` on the source. */
  source: string;
  /** `schema.table` on the target. */
  target: string;
  /** source column → target column; when given, only these columns are compared (the key must be among them). */
  columns?: Record<string, string>;
}

export interface ValidateOptions {
  source: string;
  target: string;
  mode?: ValidateMode;
  /** Parallel sessions per side (each side reads one exported snapshot). Default 2. */
  jobs?: number;
  connectTimeoutSeconds?: number;
  platform?: 'auto' | PlatformKind;
  /** Only these tables (`schema.table` or `table`); empty: every user table. */
  tables?: string[];
  excludeTables?: string[];
  /** Only these schemas (empty: every user schema). */
  schemas?: string[];
  excludeSchemas?: string[];
  mappings?: TableMapping[];
  /**
   * Where `auth migrate` put the users: auth.users ↔ the local users table (and identities) are then
   * compared like table pairs. Default `detect`: the keep layout when the target has auth.users.
   */
  authLayout?: AuthLayout | 'detect' | 'off';
  /** Schema holding extensions on the target (not a left-behind schema). Default `extensions`. */
  extensionsSchema?: string;
  /** source owner → target owner, for the schema diff's owner comparison. */
  ownerMap?: Record<string, string>;
  /** Differing rows reported per table (the search stops there). Default 50. */
  maxDifferences?: number;
  /** Include row values of differing rows in the report (they may be personal data). */
  showValues?: boolean;
  /** Skip the schema diff. */
  skipSchema?: boolean;
  hash?: HashChoice;
  /** Rows per content-hash chunk (first pass). Default 10,000. */
  chunkRows?: number;
  /** Below this many rows in a key range, rows are compared one by one. Default 2,000. */
  rowCompareThreshold?: number;
}

export interface SideInfo {
  /** Connection URL with the password masked. */
  url: string;
  version: string;
  versionNum: number;
  database: string;
  currentUser: string;
  serverEncoding: string;
  /** The server's own TimeZone/DateStyle before offramp pinned them (for the report). */
  serverTimeZone: string;
  serverDateStyle: string;
  /** Exported snapshot shared by this side's sessions, when more than one session was used. */
  snapshot?: string;
  snapshotTime: string;
  sessions: number;
}

export type RowDifferenceKind = 'missing' | 'extra' | 'changed';

export interface RowDifference {
  /** missing: on the source, not on the target; extra: on the target only; changed: same key, other content. */
  kind: RowDifferenceKind;
  /** Key column → canonical text. For tables without a primary key: null (see `locator`). */
  key: Record<string, string> | null;
  /** For tables without a key: where one such row is (`ctid` on the side that has it), and how many copies differ. */
  locator?: { side: 'source' | 'target'; ctid: string; rowHash: string };
  count?: number;
  /** changed: the columns whose values differ. */
  columns?: string[];
  /** Only with showValues: canonical text of the (differing) columns on each side. */
  values?: { source?: Record<string, string | null>; target?: Record<string, string | null> };
}

export type TableStatus = 'ok' | 'differs' | 'missing_on_target' | 'error' | 'skipped';

export interface ChunkSummary {
  total: number;
  differing: number;
  /** The first differing chunks, as key ranges (canonical text of the first key column). */
  differingRanges: Array<{ from: string | null; to: string | null; sourceRows: number; targetRows: number }>;
}

export interface TableReport {
  /** `schema.table` on the source. */
  table: string;
  /** `schema.table` on the target when it differs (a mapping). */
  targetTable?: string;
  status: TableStatus;
  /** Key columns used for chunks and localisation; empty: compared as a multiset of rows. */
  key: string[];
  rows: { source: number | null; target: number | null };
  /** Order-independent digest of all compared rows (128 bits, hex) and whether they are equal. */
  hash?: { source: string; target: string; equal: boolean };
  chunks?: ChunkSummary;
  /** Columns whose values were hashed (in this order on both sides). */
  columns: string[];
  /** Columns present on one side only (not hashed; the schema diff reports them). */
  columnsOnlyInSource?: string[];
  columnsOnlyInTarget?: string[];
  differences: RowDifference[];
  /** true when the search stopped at maxDifferences: there may be more differing rows. */
  differencesTruncated: boolean;
  note?: string;
  durationMs: number;
}

export type SchemaSeverity = 'fail' | 'warn' | 'expected';

export interface SchemaDifference {
  /** The check it belongs to (tables, columns, indexes, …). */
  category: string;
  /** e.g. `index public.posts_created_at_idx`. */
  object: string;
  change: 'missing_on_target' | 'extra_on_target' | 'changed';
  /** For `changed`: which attribute differs and its two values. */
  attribute?: string;
  source?: string;
  target?: string;
  severity: SchemaSeverity;
  /** Why a difference is expected or what to do about it. */
  reason?: string;
}

export interface SchemaReport {
  checks: CheckResult[];
  differences: SchemaDifference[];
}

export interface ValidateSummary {
  ok: boolean;
  tables: number;
  tablesOk: number;
  tablesDiffering: number;
  rowsSource: number;
  rowsTarget: number;
  rowDifferences: number;
  schemaFailures: number;
  schemaWarnings: number;
  schemaExpected: number;
}

export interface ValidateReport {
  mode: ValidateMode;
  startedAt: string;
  durationMs: number;
  platform: { kind: PlatformKind; detected: PlatformKind };
  source: SideInfo;
  target: SideInfo;
  /** How rows were hashed and compared, for the report and for reproducing it. */
  method: {
    hash: HashAlgorithm | null;
    hashReason: string;
    sessionSettings: Record<string, string>;
    jobs: number;
    chunkRows: number;
    rowCompareThreshold: number;
    maxDifferences: number;
    showValues: boolean;
    generatedColumns: 'hashed';
  };
  /** The auth mapping used (auth.users ↔ the local users table), when there was one. */
  auth?: { layout: AuthLayout; how: 'given' | 'detected'; pairs: Array<{ source: string; target: string; columns: number }> };
  /** Managed schemas and tables left out of the data comparison, with the reason. */
  skipped: Array<{ object: string; reason: string }>;
  tables: TableReport[];
  schema?: SchemaReport;
  summary: ValidateSummary;
  timings: Record<string, number>;
}
