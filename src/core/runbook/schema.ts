/**
 * The runbook file format (YAML), validated with zod in two layers: the envelope of every step
 * (id, title, kind, timeout, retries, requires, undo) and then the parameters of its kind, so a
 * typo in a kind is reported as an unknown kind and a missing parameter names the parameter.
 */
import { z } from 'zod';
import { ProviderConfigSchema } from '../dns/providers.js';

/** `90`, `90s`, `500ms`, `5m`, `1h` → milliseconds. */
export function parseDuration(value: string | number): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!m) return null;
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * factor);
}

export const Duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (e.g. 30s, 5m, 1h, 500ms)` });
    return z.NEVER;
  }
  return ms;
});

const Id = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'ids are letters, digits, ".", "_" and "-"');
const RecordType = z.enum(['A', 'AAAA', 'CNAME', 'TXT']);
const Int = z.coerce.number().int();
const Bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const Compare = z.strictObject({
  op: z.enum(['=', '!=', '<', '<=', '>', '>=']),
  value: z.union([z.number(), z.string()]),
});

export const PARAMS = {
  manual: z.strictObject({
    /** What the person must have checked or done. */
    instructions: z.string().optional(),
  }),
  sql: z.strictObject({
    on: z.enum(['source', 'target']),
    query: z.string().min(1),
    /** Only target queries may write; the source is only ever read. */
    write: Bool.default(false),
    expect: z.strictObject({
      rows: z.union([Int, z.strictObject({ min: Int.optional(), max: Int.optional() })]).optional(),
      /** The first column of the first row, compared as text. */
      value: Scalar.optional(),
      /** The first column of the first row, compared as a number when both sides are numbers. */
      compare: Compare.optional(),
    }).optional(),
  }),
  http: z.strictObject({
    url: z.url(),
    method: z.enum(['GET', 'HEAD']).default('GET'),
    headers: z.record(z.string(), z.string()).default({}),
    expectStatus: z.union([Int, z.array(Int)]).default(200),
    /** A regular expression the body must match. */
    bodyMatch: z.string().optional(),
    maxLatency: Duration.optional(),
    /** PEM file of the CA that signed the server's certificate (private CAs). */
    ca: z.string().optional(),
  }),
  tls: z.strictObject({
    host: z.string().min(1),
    port: Int.default(443),
    /** The name the certificate must carry (default: host). */
    servername: z.string().optional(),
    minDaysValid: Int.default(14),
    ca: z.string().optional(),
  }),
  cors: z.strictObject({
    url: z.url(),
    origin: z.string().min(1),
    method: z.string().default('GET'),
    requestHeaders: z.array(z.string()).default([]),
    credentials: Bool.default(false),
    headers: z.record(z.string(), z.string()).default({}),
    ca: z.string().optional(),
  }),
  'dns-check': z.strictObject({
    name: z.string().min(1),
    type: RecordType.default('A'),
    /** 'host' or 'host:port'; empty: the system's resolver. */
    resolvers: z.array(z.string()).default([]),
    expect: z.strictObject({
      values: z.array(z.string()).optional(),
      maxTtl: Int.optional(),
    }).optional(),
    queryTimeout: Duration.default(5000),
  }),
  'dns-propagation': z.strictObject({
    name: z.string().min(1),
    type: RecordType.default('A'),
    values: z.array(z.string()).min(1),
    resolvers: z.array(z.string()).default([]),
    interval: Duration.default(10_000),
    within: Duration.default(600_000),
    queryTimeout: Duration.default(5000),
  }),
  'dns-update': z.strictObject({
    provider: ProviderConfigSchema,
    name: z.string().min(1),
    type: RecordType.default('A'),
    ttl: Int.min(1),
    /** The new values; absent: keep the current values (a TTL change). */
    values: z.array(z.string()).min(1).optional(),
  }),
  validate: z.strictObject({
    mode: z.enum(['counts', 'hash', 'full']).default('counts'),
    tables: z.array(z.string()).default([]),
    schemas: z.array(z.string()).default([]),
    excludeTables: z.array(z.string()).default([]),
    skipSchema: Bool.default(false),
    /** Pass when at most this many tables differ (default 0). */
    maxDifferingTables: Int.min(0).default(0),
    /** Pass when at most this many schema checks fail (default 0). */
    maxSchemaFailures: Int.min(0).default(0),
  }),
  wait: z.strictObject({
    /** A fixed wait. */
    duration: Duration.optional(),
    /** Wait out the TTL a dns-update step found before it changed the record (from its journal evidence). */
    ttlOf: Id.optional(),
    /** Re-run this step until it passes. */
    until: Id.optional(),
    interval: Duration.default(10_000),
    within: Duration.default(600_000),
  }).refine((p) => [p.duration, p.ttlOf, p.until].filter((v) => v !== undefined).length === 1, {
    message: 'a wait needs exactly one of duration, ttlOf, until',
  }),
  command: z.strictObject({
    run: z.string().min(1),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).default({}),
    expectExit: Int.default(0),
    /** The command only looks (a log check): a dry run runs it, and it needs no --yes. */
    readOnly: Bool.default(false),
  }),
} as const;

export type StepKind = keyof typeof PARAMS;
export const STEP_KINDS = Object.keys(PARAMS) as StepKind[];
export type StepParams<K extends StepKind> = z.output<(typeof PARAMS)[K]>;

/** An undo: `auto` for kinds that know their own inverse (dns-update), or an action of any kind. */
export const UndoSchema = z.union([
  z.literal('auto'),
  z.strictObject({ kind: z.string(), title: z.string().optional(), params: z.record(z.string(), z.unknown()).default({}), timeout: Duration.optional() }),
]);

export const StepSchema = z.strictObject({
  id: Id,
  title: z.string().min(1).optional(),
  kind: z.string(),
  params: z.record(z.string(), z.unknown()).default({}),
  undo: UndoSchema.optional(),
  timeout: Duration.optional(),
  retries: Int.min(0).max(100).default(0),
  retryDelay: Duration.default(5000),
  requires: z.array(Id).default([]),
});

export const PhaseSchema = z.strictObject({
  id: Id,
  title: z.string().min(1).optional(),
  steps: z.array(z.unknown()).min(1),
});

export const RunbookSchema = z.strictObject({
  version: z.literal(1).default(1),
  name: z.string().min(1),
  description: z.string().optional(),
  /** Defaults for `${NAME}` references; the environment overrides them. */
  vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  /** Environment variables whose values are secrets (masked everywhere); names with TOKEN, SECRET, PASSWORD or KEY are always masked. */
  secrets: z.array(z.string()).default([]),
  phases: z.array(z.unknown()).min(1),
});

export type UndoSpec = z.output<typeof UndoSchema>;

/** A validated step, parameters resolved. `raw` keeps the unresolved text of params and undo for the journal. */
export interface Step {
  id: string;
  title: string;
  kind: StepKind;
  phase: string;
  params: Record<string, unknown>;
  undo?: UndoSpec;
  timeoutMs?: number;
  retries: number;
  retryDelayMs: number;
  requires: string[];
  /** 1-based line of the step in its file. */
  line: number;
}

export interface Phase { id: string; title: string; steps: Step[] }

export interface Runbook {
  name: string;
  description?: string;
  file: string;
  /** sha256 of the file text: the journal notes it so a changed runbook is visible. */
  sha256: string;
  vars: Record<string, string>;
  phases: Phase[];
  /** Names of variables that were not set (plan shows them; run refuses). */
  unset: string[];
}
