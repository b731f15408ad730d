/**
 * Rewrites of policy expressions and function bodies on the parse tree: the parser says where a
 * function call or a relation name starts, the scanner where it ends, and only those bytes change
 * (src/db/sql-parse.ts applyEdits). No regular expression reads SQL.
 */
import type { ScanToken } from 'libpg-query';
import { constantString } from './read.js';
import { applyEdits, type ByteEdit, findNodes, parseStatements, scanTokens, type SqlNode } from '../../db/sql-parse.js';

export interface CallSite {
  /** Name parts as written: `['auth', 'uid']` or `['is_moderator']`. */
  name: string[];
  /** The argument texts as written. */
  args: string[];
  /** Constant string arguments by position (undefined where the argument is not a string literal). */
  constArgs: Array<string | undefined>;
}

export interface RelationSite {
  schema?: string;
  name: string;
  hasAlias: boolean;
}

export interface RewriteRules {
  /** Replacement text for the whole call (`auth.uid()` → `($1::uuid)`), or undefined to keep it. */
  call?(site: CallSite): string | undefined;
  /** Replacement for the schema part only of a qualified call (`auth.uid` → `compat.uid`). */
  callSchema?(site: CallSite): string | undefined;
  /** Replacement for a relation's name (and alias, when it adds one), or undefined to keep it. */
  relation?(site: RelationSite): string | undefined;
  /** Replacement for a positional parameter `$n` (inlining a SQL function's body). */
  param?(n: number): string | undefined;
  /** Replacement for the type name of a cast (`'verified'::auth.factor_status` → `'verified'::text`). */
  castType?(site: TypeCastSite): string | undefined;
}

export interface TypeCastSite {
  /** Type name parts as written: `['auth', 'factor_status']`. */
  names: string[];
  /** Location of the type name in the SQL text. */
  location: number;
  /**
   * A string literal cast and compared for equality only (`col = 'x'::t`, `<>`, `IN (...)`,
   * `= ANY (ARRAY[...])`): comparing as text instead gives the same answer for every valid label.
   */
  literalEquality: boolean;
}

const EQUALITY = new Set(['=', '<>']);

/** Every type cast of a tree, and whether it is a literal compared for equality only. */
export function typeCasts(tree: unknown): TypeCastSite[] {
  const compared = new Set<unknown>();
  const inner = (n: unknown): unknown => (n as { TypeCast?: unknown } | undefined)?.TypeCast;
  const items = (n: unknown): unknown[] => {
    const x = n as { List?: { items?: unknown[] }; A_ArrayExpr?: { elements?: unknown[] } } | unknown[] | undefined;
    if (Array.isArray(x)) return x;
    return x?.List?.items ?? x?.A_ArrayExpr?.elements ?? [];
  };
  for (const e of findNodes(tree, 'A_Expr')) {
    const op = strings(e.name).join('.');
    if (!EQUALITY.has(op)) continue;
    if (e.kind === 'AEXPR_OP') [e.lexpr, e.rexpr].forEach((x) => compared.add(inner(x)));
    else if (e.kind === 'AEXPR_IN' || (e.kind === 'AEXPR_OP_ANY' && op === '=') || (e.kind === 'AEXPR_OP_ALL' && op === '<>')) {
      compared.add(inner(e.lexpr));
      items(e.rexpr).forEach((x) => compared.add(inner(x)));
    }
  }
  return findNodes(tree, 'TypeCast').map((c) => {
    const typeName = c.typeName as { names?: unknown; location?: number; arrayBounds?: unknown[] };
    return {
      names: strings(typeName.names),
      location: Number(typeName.location),
      literalEquality: compared.has(c) && constantString(c.arg) !== undefined && !(typeName.arrayBounds?.length),
    };
  });
}

const isIdentLike = (t: ScanToken): boolean => t.tokenName === 'IDENT' || t.keywordKind > 0;

function tokenIndexAt(tokens: ScanToken[], location: number): number {
  return tokens.findIndex((t) => t.start === location);
}

/** The tokens of a dotted name starting at token i: returns the index of its last token. */
function nameEnd(tokens: ScanToken[], i: number): number {
  let j = i;
  while (tokens[j + 1]?.text === '.' && tokens[j + 2] && isIdentLike(tokens[j + 2]!)) j += 2;
  return j;
}

/** From the `(` at index open, the index of its matching `)`, and the top-level argument spans. */
function callArgs(tokens: ScanToken[], open: number): { close: number; spans: Array<[number, number]> } {
  let depth = 0;
  const spans: Array<[number, number]> = [];
  let argStart = -1;
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k]!.text;
    if (t === '(' || t === '[') {
      depth++;
      if (depth === 1) { argStart = k + 1; continue; }
    } else if (t === ')' || t === ']') {
      depth--;
      if (depth === 0) {
        if (argStart < k) spans.push([tokens[argStart]!.start, tokens[k - 1]!.end]);
        return { close: k, spans };
      }
    } else if (t === ',' && depth === 1) {
      spans.push([tokens[argStart]!.start, tokens[k - 1]!.end]);
      argStart = k + 1;
    }
  }
  throw new Error('unbalanced parentheses in a function call');
}

const strings = (nodes: unknown): string[] => ((nodes as Array<{ String?: { sval?: string } }>) ?? []).map((n) => n.String?.sval ?? '');

/**
 * Apply the rules to `sql` (whose parse tree is `tree`, locations relative to `sql`). An edit inside
 * another edit's range is dropped: the outer replacement already carries its own rewritten text.
 */
export function rewriteSql(sql: string, tree: unknown, rules: RewriteRules): string {
  const tokens = scanTokens(sql);
  const bytes = Buffer.from(sql, 'utf8');
  const text = (a: number, b: number): string => bytes.subarray(a, b).toString('utf8');
  const edits: ByteEdit[] = [];
  for (const call of findNodes(tree, 'FuncCall')) {
    const i = tokenIndexAt(tokens, Number(call.location));
    if (i < 0) continue;
    const last = nameEnd(tokens, i);
    if (tokens[last + 1]?.text !== '(') continue;
    const { close, spans } = callArgs(tokens, last + 1);
    const argNodes = (call.args as SqlNode[] | undefined) ?? [];
    const site: CallSite = {
      name: strings(call.funcname),
      args: spans.map(([a, b]) => text(a, b)),
      constArgs: argNodes.map(constantString),
    };
    const whole = rules.call?.(site);
    if (whole !== undefined) {
      edits.push({ start: tokens[i]!.start, end: tokens[close]!.end, replacement: whole });
      continue;
    }
    const schema = site.name.length > 1 ? rules.callSchema?.(site) : undefined;
    if (schema !== undefined) edits.push({ start: tokens[i]!.start, end: tokens[i]!.end, replacement: schema });
  }
  for (const rv of findNodes(tree, 'RangeVar')) {
    const i = tokenIndexAt(tokens, Number(rv.location));
    if (i < 0) continue;
    const last = nameEnd(tokens, i);
    const replacement = rules.relation?.({ ...(rv.schemaname ? { schema: String(rv.schemaname) } : {}), name: String(rv.relname), hasAlias: !!rv.alias });
    if (replacement !== undefined) edits.push({ start: tokens[i]!.start, end: tokens[last]!.end, replacement });
  }
  for (const pr of findNodes(tree, 'ParamRef')) {
    const replacement = rules.param?.(Number(pr.number));
    const i = tokenIndexAt(tokens, Number(pr.location));
    if (replacement !== undefined && i >= 0) edits.push({ start: tokens[i]!.start, end: tokens[i]!.end, replacement });
  }
  if (rules.castType) {
    for (const site of typeCasts(tree)) {
      const replacement = rules.castType(site);
      const i = tokenIndexAt(tokens, site.location);
      if (replacement !== undefined && i >= 0) edits.push({ start: tokens[i]!.start, end: tokens[nameEnd(tokens, i)]!.end, replacement });
    }
  }
  // Outer edits win over the edits they contain.
  const sorted = edits.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: ByteEdit[] = [];
  for (const e of sorted) {
    const prev = kept[kept.length - 1];
    if (prev && e.start < prev.end) continue;
    kept.push(e);
  }
  return applyEdits(sql, kept);
}

const PREFIX = 'SELECT ';

/** Rewrite one expression (as pg_get_expr prints it). */
export function rewriteExpression(expr: string, rules: RewriteRules): string {
  const sql = `${PREFIX}${expr}`;
  const [stmt] = parseStatements(sql);
  return rewriteSql(sql, stmt?.node, rules).slice(PREFIX.length);
}

/** Double-quoted identifier (always quoted: names holding capitals or spaces stay exact). */
export const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;
export const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;
