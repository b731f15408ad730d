/**
 * Read a source's row level security with the real PostgreSQL parser: every policy (command,
 * roles, permissive/restrictive, USING and WITH CHECK as pg_get_expr prints them, and their parse
 * trees) and every function the policies call, transitively — SQL bodies parsed with libpg-query,
 * plpgsql bodies with parsePlPgSQL. The source is only read.
 */
import type pg from 'pg';
import { connect } from '../../db/connect.js';
import { loadSql, query } from '../../db/sql.js';
import { findNodes, loadSqlParser, type SqlNode } from '../../db/sql-parse.js';
import { UsageError } from '../../errors.js';

export type PolicyCommand = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'ALL';

/** What an expression or function body refers to, read from its parse tree. */
export interface References {
  /** Functions called, `schema.name` when qualified, bare `name` otherwise (resolved in `functions`). */
  calls: string[];
  /** Relations read, `schema.name` (unqualified names resolved against the search path given). */
  relations: string[];
  /** Constant first arguments of current_setting(...), e.g. `request.jwt.claims`. */
  settings: string[];
  /** Column names referenced (the last field of each column reference), to check a table's columns on the target. */
  columns: string[];
}

/** A parsed SQL expression: the text, `SELECT <text>` parsed, and the offset of the text in it. */
export interface ParsedExpression {
  text: string;
  /** The ResTarget's value node of `SELECT <text>`. */
  tree: SqlNode;
  refs: References;
}

export interface SourceFunction {
  oid: number;
  schema: string;
  name: string;
  /** Identity arguments, as `pg_get_function_identity_arguments` gives them. */
  args: string;
  nargs: number;
  language: string;
  securityDefiner: boolean;
  owner: string;
  body: string;
  /** `CREATE OR REPLACE FUNCTION ...` as pg_get_functiondef gives it. */
  definition: string;
  searchPath: string | null;
  refs: References;
  /** Qualified `schema.name(args)` of the user functions this one calls (resolved on the source). */
  callsFunctions: string[];
  /** Why the body could not be read completely (parse failures), if any. */
  unreadable?: string;
}

export interface SourcePolicy {
  schema: string;
  table: string;
  name: string;
  command: PolicyCommand;
  /** Role names in catalog order; `public` for PUBLIC. */
  roles: string[];
  permissive: boolean;
  using: ParsedExpression | null;
  withCheck: ParsedExpression | null;
  /** Every user function the policy calls, directly or through another function (signature keys). */
  functions: SourceFunction[];
  /** Set when an expression does not parse (the policy is then not translatable). */
  parseError?: string;
}

export interface RlsTable {
  schema: string;
  table: string;
  enabled: boolean;
  forced: boolean;
}

export interface RlsCatalog {
  policies: SourcePolicy[];
  tables: RlsTable[];
  /** Every function reached, by `schema.name(args)`. */
  functions: Map<string, SourceFunction>;
}

export const functionKey = (f: { schema: string; name: string; args: string }): string => `${f.schema}.${f.name}(${f.args})`;

type Parser = typeof import('libpg-query');
let parser: Parser | undefined;
async function pgParser(): Promise<Parser> {
  await loadSqlParser();
  parser ??= await import('libpg-query');
  return parser;
}

const SELECT_PREFIX = 'SELECT ';

/** Parse one SQL expression; throws UsageError naming what did not parse. */
export function parseExpression(p: Parser, text: string, what: string): ParsedExpression {
  let tree: SqlNode;
  try {
    const result = p.parseSync(`${SELECT_PREFIX}${text}`);
    const select = (result.stmts?.[0]?.stmt as unknown as { SelectStmt?: { targetList?: Array<{ ResTarget: { val: SqlNode } }> } }).SelectStmt;
    const val = select?.targetList?.[0]?.ResTarget.val;
    if (!val || (result.stmts?.length ?? 0) !== 1 || select?.targetList?.length !== 1) throw new Error('not one expression');
    tree = val;
  } catch (error) {
    throw new UsageError(`${what} does not parse: ${(error as Error).message}`, { hint: 'fix the expression on the source (or drop the policy) and run again' });
  }
  return { text, tree, refs: referencesOf(tree, []) };
}

/** A string literal, also when cast ('request.jwt.claims'::text, as pg_get_expr prints it). */
export function constantString(node: unknown): string | undefined {
  const n = node as { A_Const?: { sval?: { sval?: string } }; TypeCast?: { arg?: unknown } } | undefined;
  if (n?.TypeCast) return constantString(n.TypeCast.arg);
  return n?.A_Const?.sval?.sval;
}

const stringsOf = (nodes: unknown): string[] => ((nodes as Array<{ String?: { sval?: string } }>) ?? []).map((n) => n.String?.sval ?? '');

/** Functions, relations and settings a parse tree refers to (CTE names are not relations). */
export function referencesOf(tree: unknown, searchPath: string[]): References {
  const calls = new Set<string>();
  const relations = new Set<string>();
  const settings = new Set<string>();
  const columns = new Set<string>();
  for (const ref of findNodes(tree, 'ColumnRef')) {
    const last = stringsOf(ref.fields).at(-1);
    if (last) columns.add(last);
  }
  const ctes = new Set(findNodes(tree, 'CommonTableExpr').map((c) => String(c.ctename)));
  for (const call of findNodes(tree, 'FuncCall')) {
    const name = stringsOf(call.funcname).join('.');
    calls.add(name);
    if (name === 'current_setting' || name === 'pg_catalog.current_setting') {
      const first = constantString((call.args as unknown[] | undefined)?.[0]);
      if (first !== undefined) settings.add(first);
    }
  }
  for (const rv of findNodes(tree, 'RangeVar')) {
    const relname = String(rv.relname);
    if (!rv.schemaname && ctes.has(relname)) continue;
    relations.add(rv.schemaname ? `${String(rv.schemaname)}.${relname}` : `${searchPath[0] ?? 'public'}.${relname}`);
  }
  return { calls: [...calls].sort(), relations: [...relations].sort(), settings: [...settings].sort(), columns: [...columns].sort() };
}

const mergeRefs = (a: References, b: References): References => ({
  calls: [...new Set([...a.calls, ...b.calls])].sort(),
  relations: [...new Set([...a.relations, ...b.relations])].sort(),
  settings: [...new Set([...a.settings, ...b.settings])].sort(),
  columns: [...new Set([...a.columns, ...b.columns])].sort(),
});

/** The SQL fragments of a plpgsql function (every PLpgSQL_expr's query), parsed one by one. */
function plpgsqlTrees(p: Parser, definition: string): { trees: unknown[]; failures: string[] } {
  const trees: unknown[] = [];
  const failures: string[] = [];
  let parsed: unknown;
  try {
    parsed = p.parsePlPgSQLSync(definition);
  } catch (error) {
    return { trees, failures: [`plpgsql body does not parse: ${(error as Error).message}`] };
  }
  for (const expr of findNodes(parsed, 'PLpgSQL_expr')) {
    const q = String(expr.query ?? '');
    // Assignments come as `var := expr`; conditions as bare expressions; statements as statements.
    const assign = /^\s*[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?\s*:?=\s*/.exec(q);
    const candidates = [q, `${SELECT_PREFIX}${q}`, ...(assign ? [`${SELECT_PREFIX}${q.slice(assign[0].length)}`] : [])];
    let ok = false;
    for (const c of candidates) {
      try {
        trees.push(p.parseSync(c));
        ok = true;
        break;
      } catch {
        // try the next reading of the fragment
      }
    }
    if (!ok) failures.push(`plpgsql fragment does not parse: ${q.slice(0, 80)}`);
  }
  return { trees, failures };
}

interface FunctionRow {
  oid: number; schema: string; name: string; args: string; nargs: number; language: string; security_definer: boolean;
  body: string; definition: string; owner: string; search_path: string | null;
}

/** Read every policy and RLS table of a server, and the functions the policies reach. */
export async function readRlsCatalog(client: pg.ClientBase): Promise<RlsCatalog> {
  const p = await pgParser();
  await client.query("SELECT pg_catalog.set_config('search_path', '', false)");
  try {
    const rows = await query<{ schema: string; table: string; name: string; command: PolicyCommand; roles: string[]; permissive: boolean; using: string | null; with_check: string | null; function_oids: number[] }>(
      client, loadSql('rls/policies.sql'), [], 'read the policies');
    const tables = (await query<{ schema: string; table: string; enabled: boolean; forced: boolean }>(client, loadSql('rls/rls-tables.sql'), [], 'read the RLS tables'))
      .map((r) => ({ schema: r.schema, table: r.table, enabled: r.enabled, forced: r.forced }));

    const functions = new Map<string, SourceFunction>();
    const byOid = new Map<number, SourceFunction>();
    const callees = new Map<number, number[]>();
    const readFunctions = async (oids: number[]): Promise<void> => {
      const wanted = [...new Set(oids.map(Number))].filter((o) => !byOid.has(o));
      if (wanted.length === 0) return;
      const fnRows = await query<FunctionRow>(client, loadSql('rls/functions.sql'), [wanted], 'read the functions policies call');
      const next: number[] = [];
      for (const r of fnRows) {
        const searchPath = r.search_path === null ? ['public'] : r.search_path.split(',').map((s) => s.trim().replace(/^"(.*)"$/, '$1')).filter((s) => s && s !== '$user');
        let refs: References = { calls: [], relations: [], settings: [], columns: [] };
        const failures: string[] = [];
        if (r.language === 'sql') {
          try {
            refs = referencesOf(p.parseSync(r.body), searchPath);
          } catch (error) {
            failures.push(`SQL body does not parse: ${(error as Error).message}`);
          }
        } else if (r.language === 'plpgsql') {
          const { trees, failures: f } = plpgsqlTrees(p, r.definition);
          failures.push(...f);
          for (const t of trees) refs = mergeRefs(refs, referencesOf(t, searchPath));
        } else {
          failures.push(`a ${r.language} function: its body is not SQL`);
        }
        const fn: SourceFunction = {
          oid: Number(r.oid), schema: r.schema, name: r.name, args: r.args, nargs: Number(r.nargs), language: r.language,
          securityDefiner: r.security_definer, owner: r.owner, body: r.body, definition: r.definition, searchPath: r.search_path,
          refs, callsFunctions: [], ...(failures.length ? { unreadable: failures.join('; ') } : {}),
        };
        // Resolve what the body calls, as the server would: qualified, or along the function's search path.
        for (const call of refs.calls) {
          const parts = call.split('.');
          const [schema, name] = parts.length > 1 ? [parts[parts.length - 2]!, parts[parts.length - 1]!] : ['', parts[0]!];
          const hits = await query<{ oid: number; schema: string }>(client, loadSql('rls/resolve-functions.sql'), [schema, name, ['pg_catalog', ...searchPath]], 'resolve a function name');
          next.push(...hits.filter((h) => h.schema !== 'pg_catalog').map((h) => Number(h.oid)));
        }
        byOid.set(fn.oid, fn);
        functions.set(functionKey(fn), fn);
        callees.set(fn.oid, next.splice(0));
      }
      const following = fnRows.flatMap((r) => callees.get(Number(r.oid)) ?? []);
      await readFunctions(following);
    };
    await readFunctions(rows.flatMap((r) => r.function_oids.map(Number)));
    // Each function's direct callees, then the transitive closure per policy.
    for (const fn of byOid.values()) {
      fn.callsFunctions = [...new Set((callees.get(fn.oid) ?? []).map((o) => byOid.get(o)).filter((x): x is SourceFunction => !!x).map(functionKey))];
    }
    const closure = (keys: string[]): SourceFunction[] => {
      const seen = new Map<string, SourceFunction>();
      const walk = (k: string): void => {
        const fn = functions.get(k);
        if (!fn || seen.has(k)) return;
        seen.set(k, fn);
        fn.callsFunctions.forEach(walk);
      };
      keys.forEach(walk);
      return [...seen.values()];
    };

    const policies: SourcePolicy[] = rows.map((r) => {
      const what = `policy "${r.name}" on ${r.schema}.${r.table}`;
      let using: ParsedExpression | null = null;
      let withCheck: ParsedExpression | null = null;
      let parseError: string | undefined;
      try {
        using = r.using === null ? null : parseExpression(p, r.using, `the USING expression of ${what}`);
        withCheck = r.with_check === null ? null : parseExpression(p, r.with_check, `the WITH CHECK expression of ${what}`);
      } catch (error) {
        parseError = (error as Error).message;
      }
      const direct = r.function_oids.map((o) => byOid.get(Number(o))).filter((x): x is SourceFunction => !!x).map(functionKey);
      return {
        schema: r.schema, table: r.table, name: r.name, command: r.command, roles: r.roles, permissive: r.permissive,
        using, withCheck, functions: closure(direct), ...(parseError ? { parseError } : {}),
      };
    });
    return { policies, tables, functions };
  } finally {
    await client.query('RESET search_path');
  }
}

/** Every policy of the source (and the functions each reaches). Takes a URL (opened read-only) or a client. */
export async function readPolicies(source: string | pg.ClientBase): Promise<SourcePolicy[]> {
  if (typeof source !== 'string') return (await readRlsCatalog(source)).policies;
  const client = await connect(source, { role: 'source', applicationName: 'offramp rls' });
  try {
    return (await readRlsCatalog(client)).policies;
  } finally {
    await client.end();
  }
}
