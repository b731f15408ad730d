/**
 * References from the project's SQL to GoTrue's `auth.users` / `auth.identities`, read and
 * rewritten on the PostgreSQL parse tree (libpg-query) for the `table` layout: every edit is a
 * byte range of scanner tokens at a location the parser reported, so the rest of the text stays
 * byte for byte. What cannot be placed exactly (dynamic SQL, unqualified names where auth is on
 * the search_path, a renamed column the parser cannot tie to its table) is reported as a problem
 * and the object stays deferred; nothing is guessed.
 */
import type { ScanToken } from 'libpg-query';
import {
  applyEdits, findNodes, identifierValue, parsePlpgsqlFunction, parseStatements, quoteIdent, scanTokens, type ByteEdit,
} from '../../db/sql-parse.js';

export type GoTrueTable = 'users' | 'identities';

/** Where a GoTrue table lives on the target, and its columns that carry another name there. */
export interface LocalTable {
  schema: string;
  name: string;
  /** GoTrue column name → local column name (only the renamed ones need to be listed). */
  columns: Record<string, string>;
}

export type AuthRefMap = Record<GoTrueTable, LocalTable>;

/** The request helpers the RLS stage provides: objects calling them are that stage's. */
export const AUTH_HELPERS = ['uid', 'jwt', 'role', 'email'] as const;

export interface AuthRefs {
  tables: GoTrueTable[];
  /** `auth.uid`, ... called anywhere in the text. */
  helpers: string[];
}

export interface Rewrite {
  sql: string;
  changed: boolean;
  /** Why the text cannot be rewritten safely (empty when it can). */
  problems: string[];
}

const GOTRUE_TABLES: readonly string[] = ['users', 'identities'];

interface RangeVarNode { schemaname?: string; relname?: string; catalogname?: string; location?: number; alias?: { aliasname?: string } }

/**
 * Every RangeVar of a tree: in node lists they come wrapped (`{RangeVar: {...}}`), in typed
 * fields (`relation`, `pktable`, `view`) inline, so they are recognised by their own fields.
 */
export function rangeVars(node: unknown, out: RangeVarNode[] = []): RangeVarNode[] {
  if (Array.isArray(node)) {
    for (const item of node) rangeVars(item, out);
  } else if (node && typeof node === 'object') {
    if ('relname' in node && 'relpersistence' in node) out.push(node as RangeVarNode);
    for (const value of Object.values(node)) rangeVars(value, out);
  }
  return out;
}

function gotrueTableOf(rv: RangeVarNode): GoTrueTable | undefined {
  return rv.schemaname === 'auth' && rv.relname && GOTRUE_TABLES.includes(rv.relname) ? (rv.relname as GoTrueTable) : undefined;
}

/** Tables and helpers of `auth` a parse tree names. */
export function authRefsOfTree(tree: unknown, into: AuthRefs = { tables: [], helpers: [] }): AuthRefs {
  for (const rv of rangeVars(tree)) {
    const t = gotrueTableOf(rv);
    if (t && !into.tables.includes(t)) into.tables.push(t);
  }
  for (const call of findNodes(tree, 'FuncCall')) {
    const name = ((call.funcname as Array<{ String?: { sval?: string } }>) ?? []).map((n) => n.String?.sval);
    if (name.length === 2 && name[0] === 'auth' && (AUTH_HELPERS as readonly string[]).includes(name[1]!)) {
      const helper = `auth.${name[1]}()`;
      if (!into.helpers.includes(helper)) into.helpers.push(helper);
    }
  }
  return into;
}

/** The body of a CREATE FUNCTION statement: its `AS` string token and the content's byte range. */
export interface FunctionBody {
  language: string;
  /** Null for a SQL-standard body (BEGIN ATOMIC / RETURN), which is part of the statement's tree. */
  token: ScanToken | null;
  content: string;
  contentStart: number;
  tag: string;
}

export function functionBody(functionDef: string): FunctionBody {
  const [stmt] = parseStatements(functionDef);
  if (!stmt || stmt.kind !== 'CreateFunctionStmt') throw new Error('not a CREATE FUNCTION statement');
  const options = (stmt.node.options as Array<{ DefElem: { defname: string; arg?: unknown; location: number } }>) ?? [];
  const language = String(findNodes(options.find((o) => o.DefElem.defname === 'language')?.DefElem, 'String')[0]?.sval ?? 'sql');
  const as = options.find((o) => o.DefElem.defname === 'as');
  if (!as) return { language, token: null, content: '', contentStart: 0, tag: '' };
  const tokens = scanTokens(functionDef);
  const at = tokens.findIndex((t) => t.start >= as.DefElem.location);
  const token = tokens.slice(at).find((t) => t.tokenName === 'SCONST');
  if (!token) throw new Error('function body string not found');
  const tag = token.text.startsWith('$') ? token.text.slice(0, token.text.indexOf('$', 1) + 1) : '';
  if (!tag) throw new Error('function body is not dollar-quoted');
  const tagBytes = Buffer.byteLength(tag);
  const content = Buffer.from(functionDef, 'utf8').subarray(token.start + tagBytes, token.end - tagBytes).toString('utf8');
  return { language, token, content, contentStart: token.start + tagBytes, tag };
}

/** What a function names in `auth`: from its SQL body's tree, its PL/pgSQL queries' trees, or its SQL-standard body. */
export function authRefsOfFunction(functionDef: string): AuthRefs & { unreadable?: string } {
  const body = functionBody(functionDef);
  if (!body.token) return authRefsOfTree(parseStatements(functionDef).map((s) => s.node));
  if (body.language === 'sql') return authRefsOfTree(parseStatements(body.content).map((s) => s.node));
  if (body.language === 'plpgsql') {
    const refs: AuthRefs = { tables: [], helpers: [] };
    const queries = plpgsqlQueries(functionDef);
    for (const q of queries.trees) authRefsOfTree(q, refs);
    // Dynamic SQL: a string the body runs may name the tables; the object is theirs, but unreadable.
    const named = scanTokens(body.content).map((t) => (t.tokenName === 'SCONST' ? stringNamesAuthTable(t.text) : undefined)).find(Boolean);
    if (named) {
      if (!refs.tables.includes(named)) refs.tables.push(named);
      return { ...refs, unreadable: `a string (dynamic SQL) names auth.${named}` };
    }
    return queries.unparsed.length > 0 ? { ...refs, unreadable: `PL/pgSQL expression the parser cannot read on its own: ${queries.unparsed[0]}` } : refs;
  }
  return { tables: [], helpers: [] };
}

/** Every SQL query embedded in a PL/pgSQL function, parsed (expressions as `SELECT expr`). */
function plpgsqlQueries(functionDef: string): { trees: unknown[]; unparsed: string[] } {
  const tree = parsePlpgsqlFunction(functionDef);
  const trees: unknown[] = [];
  const unparsed: string[] = [];
  for (const expr of findNodes(tree, 'PLpgSQL_expr')) {
    const query = String(expr.query ?? '');
    const mode = Number(expr.parseMode ?? 0);
    // parseMode 0 is a whole statement; the others are expressions or assignments (`x := expr`).
    const candidates = mode === 0 ? [query] : [`SELECT ${query}`, `SELECT ${query.slice(query.indexOf(':=') + 2)}`];
    const parsed = candidates.map((c) => { try { return parseStatements(c).map((s) => s.node); } catch { return undefined; } }).find(Boolean);
    if (parsed) trees.push(parsed);
    else unparsed.push(query.slice(0, 80));
  }
  return { trees, unparsed };
}

/** The index of the token starting exactly at `location`. */
function tokenAt(tokens: ScanToken[], location: number | undefined): number {
  return location === undefined ? -1 : tokens.findIndex((t) => t.start === location);
}

const isIdent = (t: ScanToken | undefined): boolean => t !== undefined && (t.tokenName === 'IDENT' || t.keywordName !== 'NO_KEYWORD');

/**
 * Rewrite `auth.users` / `auth.identities` (and renamed columns qualified by those tables' names
 * or aliases) in plain SQL text. Column references that keep a view's output name get `AS` the
 * GoTrue name, so a view's columns do not change.
 */
export function rewriteSqlText(sql: string, map: AuthRefMap): Rewrite {
  const statements = parseStatements(sql);
  const tokens = scanTokens(sql);
  const edits: ByteEdit[] = [];
  const problems: string[] = [];
  for (const st of statements) {
    const tables = new Map<string, LocalTable>();
    const edited = new Set<number>();
    for (const rv of rangeVars(st.node)) {
      const t = gotrueTableOf(rv);
      if (!t) continue;
      const i = tokenAt(tokens, rv.location);
      if (rv.catalogname || i < 0 || identifierValue(tokens[i]!) !== 'auth' || tokens[i + 1]?.text !== '.' || !isIdent(tokens[i + 2]) || identifierValue(tokens[i + 2]!) !== t) {
        problems.push(`cannot place the reference to auth.${t} in the text`);
        continue;
      }
      const local = map[t];
      edits.push({ start: tokens[i]!.start, end: tokens[i + 2]!.end, replacement: `${quoteIdent(local.schema)}.${quoteIdent(local.name)}` });
      tables.set(rv.alias?.aliasname ?? t, local);
      // A foreign key's referenced columns: `REFERENCES auth.users(id, ...)` right after the name.
      for (const con of findNodes(st.node, 'Constraint')) {
        if ((con.pktable as RangeVarNode | undefined)?.location !== rv.location) continue;
        let j = i + 3;
        if (tokens[j]?.text !== '(') continue;
        for (j++; j < tokens.length && tokens[j]!.text !== ')'; j++) {
          if (tokens[j]!.text === ',') continue;
          const renamed = local.columns[identifierValue(tokens[j]!)];
          if (renamed) edits.push({ start: tokens[j]!.start, end: tokens[j]!.end, replacement: quoteIdent(renamed) });
          edited.add(j);
        }
      }
    }
    const renamedNames = new Set([...tables.values()].flatMap((l) => Object.entries(l.columns).filter(([g, n]) => g !== n).map(([g]) => g)));
    if (renamedNames.size === 0) continue;
    const bareOutputs = new Set(findNodes(st.node, 'ResTarget')
      .filter((r) => !r.name && (r.val as { ColumnRef?: unknown } | undefined)?.ColumnRef)
      .map((r) => ((r.val as { ColumnRef: { location: number } }).ColumnRef.location)));
    for (const ref of findNodes(st.node, 'ColumnRef')) {
      const fields = (ref.fields as Array<{ String?: { sval: string } }>).map((f) => f.String?.sval);
      if (fields.length !== 2 || fields.some((f) => f === undefined)) continue;
      const local = tables.get(fields[0]!);
      const renamed = local?.columns[fields[1]!];
      const i = tokenAt(tokens, ref.location as number);
      if (!local || !renamed || i < 0 || tokens[i + 1]?.text !== '.' || identifierValue(tokens[i + 2]!) !== fields[1]) continue;
      const keepName = bareOutputs.has(ref.location as number) ? ` AS ${quoteIdent(fields[1]!)}` : '';
      edits.push({ start: tokens[i + 2]!.start, end: tokens[i + 2]!.end, replacement: `${quoteIdent(renamed)}${keepName}` });
      edited.add(i + 2);
    }
    // Closure: a renamed column's name left anywhere in the statement (unqualified, in SET or an
    // INSERT column list, ...) may still mean the GoTrue column: refuse rather than guess.
    tokens.forEach((t, k) => {
      if (t.start >= st.start && t.end <= st.end && isIdent(t) && !edited.has(k) && renamedNames.has(identifierValue(t))) {
        problems.push(`column "${identifierValue(t)}" may name a renamed GoTrue column the parser cannot tie to its table`);
      }
    });
  }
  const out = applyEdits(sql, edits);
  return { sql: out, changed: out !== sql, problems: [...new Set(problems)] };
}

/**
 * Rewrite a function definition (pg_get_functiondef's text). SQL bodies are parsed and edited in
 * place; PL/pgSQL bodies are read with PL/pgSQL's parser (every embedded query parsed), and the
 * references found there are edited at the scanner's tokens of the body — only when the two agree
 * on how many there are, so a reference inside dynamic SQL (a string) is never missed silently.
 */
export function rewriteFunctionDef(functionDef: string, map: AuthRefMap): Rewrite {
  const body = functionBody(functionDef);
  if (!body.token) return rewriteSqlText(functionDef, map);
  let inner: Rewrite;
  if (body.language === 'sql') inner = rewriteSqlText(body.content, map);
  else if (body.language === 'plpgsql') inner = rewritePlpgsqlBody(functionDef, body.content, map);
  else return { sql: functionDef, changed: false, problems: [`a ${body.language} body cannot be read by the SQL parser`] };
  if (!inner.changed) return { ...inner, sql: functionDef };
  const sql = applyEdits(functionDef, [{ start: body.token.start, end: body.token.end, replacement: `${body.tag}${inner.sql}${body.tag}` }]);
  return { sql, changed: true, problems: inner.problems };
}

function rewritePlpgsqlBody(functionDef: string, content: string, map: AuthRefMap): Rewrite {
  const problems: string[] = [];
  const queries = plpgsqlQueries(functionDef);
  let expected = 0;
  for (const tree of queries.trees) {
    expected += (rangeVars(tree)).filter((rv) => gotrueTableOf(rv)).length;
  }
  const tokens = scanTokens(content);
  const edits: ByteEdit[] = [];
  const renamed = new Set(Object.values(map).flatMap((l) => Object.entries(l.columns).filter(([g, n]) => g !== n).map(([g]) => g)));
  tokens.forEach((t, i) => {
    if (t.tokenName === 'SCONST' && stringNamesAuthTable(t.text) !== undefined) problems.push('a string (dynamic SQL) names auth.users or auth.identities');
    if (!isIdent(t) || identifierValue(t) !== 'auth' || tokens[i + 1]?.text !== '.' || !isIdent(tokens[i + 2])) return;
    const table = identifierValue(tokens[i + 2]!);
    if (table !== 'users' && table !== 'identities') return;
    const local = map[table];
    edits.push({ start: t.start, end: tokens[i + 2]!.end, replacement: `${quoteIdent(local.schema)}.${quoteIdent(local.name)}` });
  });
  if (queries.unparsed.length > 0 && edits.length > 0) problems.push(`PL/pgSQL expression the parser cannot read on its own: ${queries.unparsed[0]}`);
  if (edits.length !== expected) problems.push(`the body names auth tables ${edits.length} times but its parsed queries read them ${expected} times`);
  if (edits.length > 0 && tokens.some((t) => isIdent(t) && renamed.has(identifierValue(t)))) {
    problems.push('the body uses a column the layout renames; PL/pgSQL column references are not rewritten');
  }
  const sql = applyEdits(content, edits);
  return { sql, changed: sql !== content, problems: [...new Set(problems)] };
}

/** Whether a string literal, read as SQL, names auth.users / auth.identities (dynamic SQL). */
function stringNamesAuthTable(literal: string): GoTrueTable | undefined {
  const inner = literal.startsWith('$') ? literal.slice(literal.indexOf('$', 1) + 1, literal.lastIndexOf('$', literal.length - 2)) : literal.slice(literal.indexOf("'") + 1, -1).split("''").join("'");
  let tokens: ScanToken[];
  try {
    tokens = scanTokens(inner);
  } catch {
    return undefined;
  }
  const at = tokens.findIndex((t, i) => isIdent(t) && identifierValue(t) === 'auth' && tokens[i + 1]?.text === '.' && isIdent(tokens[i + 2]) && GOTRUE_TABLES.includes(identifierValue(tokens[i + 2]!)));
  return at < 0 ? undefined : (identifierValue(tokens[at + 2]!) as GoTrueTable);
}

/**
 * The given column names a function's body uses as identifiers (e.g. `new.raw_user_meta_data`):
 * a trigger moved to a table where such a column has another name would fail every insert, so
 * it is kept deferred instead. Read on the scanner's tokens of the body (PL/pgSQL or SQL).
 */
export function functionUsesColumns(functionDef: string, columns: string[]): string[] {
  const body = functionBody(functionDef);
  const tokens = body.token ? scanTokens(body.content) : scanTokens(functionDef);
  const wanted = new Set(columns);
  return [...new Set(tokens.filter((t) => isIdent(t) && wanted.has(identifierValue(t))).map(identifierValue))];
}
