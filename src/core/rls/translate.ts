/**
 * `offramp rls translate`: read the source's policies (read.ts), classify each (classify.ts), then
 * either install them on the target behind the compatibility layer (compat.ts, one transaction)
 * or turn them into parameterised predicates for the backend (app.ts). Every policy ends up in the
 * result with its class and reasons; a not-translatable one is never installed without --force.
 */
import type pg from 'pg';
import { connect } from '../../db/connect.js';
import { query } from '../../db/sql.js';
import { ConfirmationRequiredError, UsageError } from '../../errors.js';
import type { Progress } from '../../output/progress.js';
import { appPredicates, APP_PARAMETERS, disableRls } from './app.js';
import { classify, PLATFORM_SCHEMAS, type ClassifyContext } from './classify.js';
import { applyCompat, compatPolicySql } from './compat.js';
import { holdBackWidened } from './hold-back.js';
import { readRlsCatalog, type RlsCatalog } from './read.js';
import { appReport, compatReport } from './report.js';
import type { RlsTranslateOptions, RlsTranslation, TranslatedPolicy } from './types.js';

export type { RlsTranslateOptions, RlsTranslation, TranslatedPolicy } from './types.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*$/;

export interface TargetFacts {
  roles: Set<string>;
  tables: Set<string>;
  storageKept: boolean;
  authTables: boolean;
  /** Columns of the target's `auth` tables, by table name. */
  authColumns: Map<string, Set<string>>;
  /** Types in the platform schemas (`auth.factor_status`) the target has. */
  platformTypes: Set<string>;
}

/** Columns of every table in schema `auth`, by table name (source or target). */
export async function authTableColumns(client: pg.ClientBase): Promise<Map<string, Set<string>>> {
  const rows = await query<{ t: string; c: string }>(client,
    `SELECT c.relname AS t, a.attname AS c FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = 'auth' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`, [], 'read the auth tables\' columns');
  const out = new Map<string, Set<string>>();
  for (const r of rows) out.set(r.t, (out.get(r.t) ?? new Set()).add(r.c));
  return out;
}

/** What classification and installation need to know about the target. */
export async function readTargetFacts(client: pg.ClientBase, options: Pick<RlsTranslateOptions, 'authLayout'>): Promise<TargetFacts> {
  const roles = new Set((await query<{ rolname: string }>(client, 'SELECT rolname FROM pg_catalog.pg_roles', [], 'read the target roles')).map((r) => r.rolname));
  const tables = new Set((await query<{ t: string }>(client,
    `SELECT n.nspname || '.' || c.relname AS t FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p')`, [], 'read the target tables')).map((r) => r.t));
  const users = options.authLayout.kind === 'keep' ? 'auth.users' : `${options.authLayout.users.schema}.${options.authLayout.users.name}`;
  return { roles, tables, storageKept: tables.has('storage.objects'), authTables: tables.has(users), authColumns: await authTableColumns(client),
    platformTypes: new Set((await query<{ t: string }>(client,
      `SELECT n.nspname || '.' || t.typname AS t FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = ANY ($1::text[])`,
      [[...PLATFORM_SCHEMAS]], 'read the target\'s platform types')).map((r) => r.t)) };
}

export function classifyAll(catalog: RlsCatalog, ctx: ClassifyContext, targetTables: Set<string> | undefined, force: boolean): TranslatedPolicy[] {
  return catalog.policies.map((p) => {
    const c = classify(p, ctx);
    // Even --force cannot install a policy whose table is not there.
    const missingTable = targetTables && !targetTables.has(`${p.schema}.${p.table}`) ? `its table ${p.schema}.${p.table} is not on the target` : undefined;
    const blocked = c.class === 'not-translatable' && !force;
    return {
      schema: p.schema, table: p.table, name: p.name, command: p.command, roles: p.roles, permissive: p.permissive,
      class: c.class, reasons: c.reasons, installed: false,
      ...(missingTable ? { leftOut: missingTable } : blocked ? { leftOut: 'not translatable automatically: reported, not installed (--force installs it as is)' } : {}),
    };
  });
}

export async function translateRls(options: RlsTranslateOptions, progress: Progress): Promise<RlsTranslation> {
  const compatSchema = options.compatSchema ?? 'auth';
  if (!IDENT.test(compatSchema)) throw new UsageError(`--compat-schema "${compatSchema}" is not a plain schema name`, { hint: 'use letters, digits and _ (e.g. app_auth)' });
  if (options.mode === 'app' && options.disableRls && !options.yes) {
    throw new ConfirmationRequiredError('--disable-rls turns row level security off on the target tables', { hint: 'add --yes once the backend enforces the emitted predicates' });
  }
  const needsTarget = (options.mode === 'compat' && options.apply) || (options.mode === 'app' && options.disableRls);
  if (needsTarget && !options.target) throw new UsageError(`rls translate --mode ${options.mode} ${options.apply ? '--apply' : '--disable-rls'} needs a target`, { hint: 'pass --target or set OFFRAMP_TARGET_URL' });

  const step = progress.step('reading the source policies');
  const source = await connect(options.source, { role: 'source', applicationName: 'offramp rls translate', ...(options.connectTimeoutSeconds ? { timeoutSeconds: options.connectTimeoutSeconds } : {}) });
  let target: pg.Client | undefined;
  try {
    const catalog = await readRlsCatalog(source);
    step.succeed(`${catalog.policies.length} policies on ${catalog.tables.length} tables, ${catalog.functions.size} functions they call`);
    if (options.target) target = await connect(options.target, { role: 'target', applicationName: 'offramp rls translate', ...(options.connectTimeoutSeconds ? { timeoutSeconds: options.connectTimeoutSeconds } : {}) });
    const facts = target ? await readTargetFacts(target, options) : undefined;
    if (needsTarget && options.mode === 'compat' && facts && !facts.authTables) {
      const users = options.authLayout.kind === 'keep' ? 'auth.users' : `${options.authLayout.users.schema}.${options.authLayout.users.name}`;
      throw new UsageError(`the target has no ${users}: the policies need the local users table`, { hint: 'run `offramp auth migrate` first (it creates the users tables), then rls translate --apply' });
    }
    const ctx: ClassifyContext = {
      authLayout: options.authLayout,
      storageKept: options.keepStorage ?? facts?.storageKept ?? false,
      targetRoles: facts?.roles ?? new Set(),
      ...(facts ? { authColumns: { source: await authTableColumns(source), target: facts.authColumns }, targetTypes: facts.platformTypes } : {}),
    };
    const policies = classifyAll(catalog, ctx, facts?.tables, options.force);
    const warnings: string[] = [];
    const counts = {
      total: policies.length, portable: 0, compat: 0, 'auth-translation': 0, 'not-translatable': 0, installed: 0, leftOut: 0, heldBack: 0,
    };
    for (const p of policies) counts[p.class]++;

    if (options.mode === 'compat') {
      const rewrite = { compatSchema, authLayout: options.authLayout, ...(facts ? { targetTypes: facts.platformTypes } : {}) };
      for (const [i, p] of policies.entries()) {
        const sql = compatPolicySql(catalog.policies[i]!, rewrite);
        if (sql.ok) p.sql = sql.sql;
        else if (!p.leftOut) {
          p.leftOut = sql.reason;
          if (p.class !== 'not-translatable') p.reasons.push(sql.reason);
        }
      }
      if (!options.force) holdBackWidened(policies);
      let installed;
      if (options.apply && target && facts) {
        installed = await applyCompat(target, source, catalog, policies, { ...options, compatSchema, facts, storageKept: ctx.storageKept }, progress, warnings);
      }
      counts.installed = policies.filter((p) => p.installed).length;
      counts.leftOut = policies.filter((p) => p.leftOut).length;
      counts.heldBack = policies.filter((p) => p.heldBack).length;
      const result: RlsTranslation = { mode: 'compat', policies, counts, ...(installed ? { installed } : {}), report: '', warnings };
      result.report = compatReport(result, compatSchema);
      return result;
    }

    const tables = appPredicates(catalog, policies, await bypassRoles(source), ctx.storageKept);
    let rlsDisabled: string[] | undefined;
    if (options.disableRls && target) rlsDisabled = await disableRls(target, tables, facts!, progress);
    counts.leftOut = policies.filter((p) => p.leftOut).length;
    const result: RlsTranslation = { mode: 'app', policies, counts, tables, parameters: APP_PARAMETERS, ...(rlsDisabled ? { rlsDisabled } : {}), report: '', warnings };
    result.report = appReport(result);
    return result;
  } finally {
    await source.end().catch(() => {});
    await target?.end().catch(() => {});
  }
}

/** The API roles that bypass RLS on the source (service_role on Supabase). */
async function bypassRoles(source: pg.ClientBase): Promise<string[]> {
  return (await query<{ rolname: string }>(source,
    `SELECT rolname FROM pg_catalog.pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role') AND rolbypassrls ORDER BY 1`, [], 'read the API roles')).map((r) => r.rolname);
}
