/**
 * app mode: RLS moves into the backend. For every table with RLS and every command, the effective
 * rule as ONE parameterised predicate, built as PostgreSQL builds it (rowsecurity.c): the
 * applicable permissive policies OR-ed, the restrictive ones AND-ed, `FOR ALL` counted for every
 * command, USING and WITH CHECK apart (WITH CHECK falls back to USING for UPDATE and ALL), each
 * policy's roles folded in as a condition on the request role. Claims become parameters on the
 * parse tree: auth.uid() → ($1::uuid), auth.jwt() → ($2::jsonb), auth.role() → ($3::text).
 * Reads of other RLS tables inside a policy see only what the request may see there, so they
 * become sub-selects filtered by that table's SELECT predicate; small SQL helpers are inlined.
 */
import type pg from 'pg';
import { query } from '../../db/sql.js';
import { findNodes, parseStatements } from '../../db/sql-parse.js';
import type { Progress } from '../../output/progress.js';
import { ownsTable } from './classify.js';
import { functionKey, type RlsCatalog, type SourceFunction, type SourcePolicy } from './read.js';
import { ident, literal, rewriteExpression, rewriteSql, type RewriteRules } from './rewrite.js';
import type { TargetFacts } from './translate.js';
import type { AppPredicate, AppTableRules, TranslatedPolicy } from './types.js';

export const APP_PARAMETERS = [
  { name: '$1', type: 'uuid', meaning: "the user id: the JWT's sub claim (NULL for anon)" },
  { name: '$2', type: 'jsonb', meaning: 'the JWT claims, the whole payload with "role" set to the request role (NULL when there are none)' },
  { name: '$3', type: 'text', meaning: 'the request role: anon, authenticated or service_role (the JWT role claim)' },
];

const MAX_DEPTH = 6;

interface Ctx {
  catalog: RlsCatalog;
  rlsTables: Set<string>;
  bypass: string[];
  /** Tables whose SELECT predicate is being built (a cycle stops inlining). */
  stack: string[];
  /** Inside a SECURITY DEFINER helper: its owner reads without RLS (postgres bypasses RLS on Supabase). */
  definer: boolean;
  notes: Set<string>;
}

function findFunction(ctx: Ctx, name: string[], searchPath: string[]): SourceFunction | undefined {
  const [schema, fname] = name.length > 1 ? [name[name.length - 2]!, name[name.length - 1]!] : [undefined, name[0]!];
  const all = [...ctx.catalog.functions.values()].filter((f) => f.name === fname);
  if (schema) return all.find((f) => f.schema === schema);
  for (const s of searchPath) {
    const hit = all.find((f) => f.schema === s);
    if (hit) return hit;
  }
  return undefined;
}

const readsClaims = (fn: SourceFunction, ctx: Ctx, seen = new Set<string>()): boolean => {
  if (seen.has(functionKey(fn))) return false;
  seen.add(functionKey(fn));
  if (fn.refs.calls.some((c) => c.startsWith('auth.')) || fn.refs.settings.some((s) => s.startsWith('request.jwt'))) return true;
  if (!fn.securityDefiner && fn.refs.relations.some((r) => ctx.rlsTables.has(r))) return true;
  return fn.callsFunctions.some((k) => { const g = ctx.catalog.functions.get(k); return g ? readsClaims(g, ctx, seen) : false; });
};

function rules(ctx: Ctx, searchPath: string[]): RewriteRules {
  return {
    call: (site) => {
      const [a, b] = site.name;
      if (site.name.length === 2 && a === 'auth') {
        if (b === 'uid') return '($1::uuid)';
        if (b === 'jwt') return '($2::jsonb)';
        if (b === 'role') return '($3::text)';
        if (b === 'email') return "($2::jsonb ->> 'email')";
        ctx.notes.add(`calls auth.${b}(), which has no app-side equivalent: port it by hand`);
        return undefined;
      }
      if (site.name[site.name.length - 1] === 'current_setting' && (site.name.length === 1 || a === 'pg_catalog')) {
        const setting = site.constArgs[0];
        if (setting === 'request.jwt.claims' || setting === 'request.jwt.claim') return '($2::jsonb::text)';
        if (setting?.startsWith('request.jwt.claim.')) return `($2::jsonb ->> ${literal(setting.slice('request.jwt.claim.'.length))})`;
        return undefined;
      }
      const fn = findFunction(ctx, site.name, searchPath);
      if (!fn || !readsClaims(fn, ctx)) return undefined;
      return inlineFunction(fn, site.args, ctx);
    },
    relation: (rel) => {
      if (ctx.definer) return undefined;
      const key = `${rel.schema ?? searchPath[0] ?? 'public'}.${rel.name}`;
      if (!ctx.rlsTables.has(key)) return undefined;
      if (ctx.stack.includes(key) || ctx.stack.length >= MAX_DEPTH) {
        ctx.notes.add(`reads ${key} inside its own policies (a cycle): the backend must filter ${key} there as well`);
        return undefined;
      }
      const [schema, table] = [key.slice(0, key.indexOf('.')), rel.name];
      const inner = tablePredicate(ctx, schema, table, 'SELECT', 'using');
      return `(SELECT * FROM ${ident(schema)}.${ident(table)} WHERE ${inner.sql})${rel.hasAlias ? '' : ` AS ${ident(table)}`}`;
    },
  };
}

/** A SQL helper's single SELECT as a scalar sub-select, its $n replaced by the call's arguments. */
function inlineFunction(fn: SourceFunction, args: string[], ctx: Ctx): string | undefined {
  const label = `${fn.schema}.${fn.name}(${fn.args})`;
  const cant = (why: string): undefined => {
    ctx.notes.add(`calls ${label}, which reads the request's claims or RLS tables and ${why}: port it to the backend`);
    return undefined;
  };
  if (fn.language !== 'sql') return cant(`is ${fn.language} (not inlined)`);
  const stmts = parseStatements(fn.body);
  if (stmts.length !== 1 || stmts[0]!.kind !== 'SelectStmt') return cant('is not a single SELECT');
  // Parameters used by name would need the body's column scoping to substitute safely: not inlined.
  const argNames = new Set(fn.args ? fn.args.split(',').map((a) => a.trim().split(/\s+/)).filter((w) => w.length > 1).map((w) => w[0]!) : []);
  const body = stmts[0]!.text;
  const bodyTree = parseStatements(body)[0]!.node;
  const byName = findNodes(bodyTree, 'ColumnRef').some((c) => {
    const fields = (c.fields as Array<{ String?: { sval?: string } }>) ?? [];
    return fields.length === 1 && argNames.has(fields[0]!.String?.sval ?? '');
  });
  if (byName) return cant('refers to its parameters by name');
  const searchPath = fn.searchPath === null ? ['public'] : fn.searchPath.split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1')).filter(Boolean);
  const inner: Ctx = { ...ctx, definer: ctx.definer || fn.securityDefiner };
  const r = rules(inner, searchPath.length ? searchPath : ['public']);
  const rewritten = rewriteSql(body, bodyTree, { ...r, param: (n) => (args[n - 1] !== undefined ? `(${args[n - 1]})` : undefined) });
  return `(${rewritten})`;
}

function policyExpression(p: SourcePolicy, which: 'using' | 'check', ctx: Ctx): string | undefined {
  const e = which === 'using' ? p.using : (p.withCheck ?? ((p.command === 'UPDATE' || p.command === 'ALL') ? p.using : null));
  if (!e) return undefined;
  return rewriteExpression(e.text, rules(ctx, ['public']));
}

function roleCondition(roles: string[]): string | undefined {
  if (roles.includes('public')) return undefined;
  return `$3::text IN (${roles.map(literal).join(', ')})`;
}

/** The effective predicate of one table and command, as rowsecurity.c combines the policies. */
function tablePredicate(ctx: Ctx, schema: string, table: string, command: 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE', which: 'using' | 'check'): AppPredicate {
  const key = `${schema}.${table}`;
  const inner: Ctx = { ...ctx, stack: [...ctx.stack, key] };
  const applicable = ctx.catalog.policies.filter((p) => p.schema === schema && p.table === table && (p.command === command || p.command === 'ALL') && !p.parseError);
  const permissive: string[] = [];
  const restrictive: string[] = [];
  const names: string[] = [];
  for (const p of applicable) {
    const expr = policyExpression(p, which, inner);
    if (expr === undefined) continue;
    names.push(p.name);
    const role = roleCondition(p.roles);
    if (p.permissive) permissive.push(role ? `(${role} AND (${expr}))` : `(${expr})`);
    else restrictive.push(role ? `(NOT ${role} OR (${expr}))` : `(${expr})`);
  }
  const core = [permissive.length ? `(${permissive.join(' OR ')})` : 'false', ...restrictive].join(' AND ');
  const sql = ctx.bypass.length ? `(${roleCondition(ctx.bypass)} OR ${core})` : core;
  return { sql, policies: names, notes: [] };
}

export function appPredicates(catalog: RlsCatalog, policies: TranslatedPolicy[], bypass: string[], storageKept: boolean): AppTableRules[] {
  const rlsTables = new Set(catalog.tables.filter((t) => t.enabled).map((t) => `${t.schema}.${t.table}`));
  const out: AppTableRules[] = [];
  // Supabase's own tables (auth.users has RLS too) stay with their stages.
  for (const t of catalog.tables.filter((x) => x.enabled && ownsTable(x.schema, storageKept))) {
    const build = (command: 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE', which: 'using' | 'check'): AppPredicate => {
      const ctx: Ctx = { catalog, rlsTables, bypass, stack: [], definer: false, notes: new Set() };
      const pred = tablePredicate(ctx, t.schema, t.table, command, which);
      const reported = policies.filter((p) => p.schema === t.schema && p.table === t.table && pred.policies.includes(p.name) && p.class === 'not-translatable');
      return { ...pred, notes: [...ctx.notes, ...reported.map((p) => `policy "${p.name}": ${p.reasons[0]}`)] };
    };
    out.push({
      schema: t.schema, table: t.table, forced: t.forced,
      using: { SELECT: build('SELECT', 'using'), UPDATE: build('UPDATE', 'using'), DELETE: build('DELETE', 'using') },
      withCheck: { INSERT: build('INSERT', 'check'), UPDATE: build('UPDATE', 'check') },
    });
  }
  return out;
}

/** --disable-rls --yes: RLS off (and NO FORCE) on the target tables, in one transaction. */
export async function disableRls(target: pg.Client, tables: AppTableRules[], facts: TargetFacts, progress: Progress): Promise<string[]> {
  const step = progress.step('turning row level security off on the target tables');
  const done: string[] = [];
  await target.query('BEGIN');
  try {
    for (const t of tables.filter((x) => facts.tables.has(`${x.schema}.${x.table}`))) {
      await query(target, `ALTER TABLE ${ident(t.schema)}.${ident(t.table)} DISABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY`, [], `disable RLS on ${t.schema}.${t.table}`);
      done.push(`${t.schema}.${t.table}`);
    }
    await target.query('COMMIT');
  } catch (error) {
    await target.query('ROLLBACK').catch(() => {});
    step.fail();
    throw error;
  }
  step.succeed(`RLS off on ${done.length} tables`);
  return done;
}
