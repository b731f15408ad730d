/**
 * The real PostgreSQL parser (libpg-query, compiled to WASM) for every place offramp splits,
 * reads or rewrites SQL. Statements keep pg_dump's exact text; rewrites are byte-range edits at
 * locations the parser or scanner reported, so nothing outside the edited tokens changes.
 *
 * libpg-query reports locations as byte offsets into the UTF-8 encoding of the text, not as
 * JavaScript string indices: everything here slices Buffers, never strings, by those offsets.
 */
import type { ScanToken } from 'libpg-query';
import { OfframpError } from '../errors.js';

type Parser = typeof import('libpg-query');

/** A parse-tree node: `{ TypeName: { ...fields } }`, as libpg-query returns it. */
export type SqlNode = Record<string, unknown>;

export interface SqlStatement {
  /** The statement exactly as written, without the terminating `;` and surrounding blanks. */
  text: string;
  /** Node type of the statement, e.g. `GrantStmt`, `CreateStmt`, `AlterTableStmt`. */
  kind: string;
  /** The statement's own fields (the value under `kind`). */
  node: Record<string, unknown>;
  /** Byte range of `text` within the parsed source. */
  start: number;
  end: number;
}

let loading: Promise<void> | undefined;
let parser: Parser | undefined;

/**
 * Load the WASM parser once; every synchronous function below needs it loaded. Imported lazily:
 * importing libpg-query starts compiling its 1.7 MB WASM module, which only commands that read
 * SQL should pay for (and copy starts it while pg_dump runs).
 */
export function loadSqlParser(): Promise<void> {
  loading ??= import('libpg-query').then(async (module) => {
    await module.loadModule();
    parser = module;
  });
  return loading;
}

function loaded(): Parser {
  if (!parser) throw new Error('the SQL parser is not loaded: await loadSqlParser() first');
  return parser;
}

/** SQL offramp was given (a dump, a statement) that the PostgreSQL parser rejects. */
export class SqlParseError extends OfframpError {
  constructor(message: string, sql: string) {
    super('INTERNAL', message, {
      hint: 'the PostgreSQL parser rejected SQL that pg_dump wrote; rerun with --verbose and report it with the statement',
      detail: sql.length > 2000 ? `${sql.slice(0, 2000)}…` : sql,
    });
  }
}

const isBlank = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0c;

/** Split and parse SQL text into statements, each with its exact text and its parse tree. */
export function parseStatements(sql: string): SqlStatement[] {
  const { parseSync } = loaded();
  let result;
  try {
    result = parseSync(sql);
  } catch (error) {
    throw new SqlParseError(`cannot parse SQL: ${(error as Error).message}`, sql);
  }
  const bytes = Buffer.from(sql, 'utf8');
  const out: SqlStatement[] = [];
  for (const raw of result.stmts ?? []) {
    let start = raw.stmt_location ?? 0;
    // stmt_len 0 means "to the end of the text" (the last statement without a semicolon).
    let end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
    while (start < end && isBlank(bytes[start]!)) start++;
    while (end > start && (isBlank(bytes[end - 1]!) || bytes[end - 1] === 0x3b)) end--;
    const stmt = raw.stmt as unknown as SqlNode;
    const kind = Object.keys(stmt)[0]!;
    out.push({ text: bytes.subarray(start, end).toString('utf8'), kind, node: stmt[kind] as Record<string, unknown>, start, end });
  }
  return out;
}

/** The scanner's tokens (byte offsets), for edits the parse tree gives no end location for. */
export function scanTokens(sql: string): ScanToken[] {
  const { scanSync } = loaded();
  try {
    return scanSync(sql).tokens;
  } catch (error) {
    throw new SqlParseError(`cannot scan SQL: ${(error as Error).message}`, sql);
  }
}

export interface ByteEdit {
  /** Byte offsets into the UTF-8 text. */
  start: number;
  end: number;
  replacement: string;
}

/** Apply non-overlapping byte-range edits; the text between them stays byte for byte. */
export function applyEdits(sql: string, edits: ByteEdit[]): string {
  if (edits.length === 0) return sql;
  const bytes = Buffer.from(sql, 'utf8');
  const parts: Buffer[] = [];
  let at = 0;
  for (const e of [...edits].sort((a, b) => a.start - b.start)) {
    if (e.start < at) throw new Error(`overlapping SQL edits at byte ${e.start}`);
    parts.push(bytes.subarray(at, e.start), Buffer.from(e.replacement, 'utf8'));
    at = e.end;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts).toString('utf8');
}

/** The value of an identifier token as PostgreSQL reads it (quoted: exact; bare: lower-cased). */
export function identifierValue(token: ScanToken): string {
  return token.text.startsWith('"') ? token.text.slice(1, -1).replace(/""/g, '"') : token.text.toLowerCase();
}

/** Every node of a given type anywhere under `node` (depth first, in tree order). */
export function findNodes(node: unknown, type: string, out: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(node)) {
    for (const item of node) findNodes(item, type, out);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === type && value && typeof value === 'object' && !Array.isArray(value)) out.push(value as Record<string, unknown>);
      findNodes(value, type, out);
    }
  }
  return out;
}

/** PostgreSQL identifier quoting, always quoted (as pg_dump --quote-all-identifiers writes them). */
export const quoteIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;

/** `"schema"."name"` (or `"name"`) of a parse-tree RangeVar. */
export function rangeVarName(rv: unknown): string | undefined {
  const r = rv as { schemaname?: string; relname?: string } | undefined;
  if (!r?.relname) return undefined;
  return r.schemaname ? `${quoteIdent(r.schemaname)}.${quoteIdent(r.relname)}` : quoteIdent(r.relname);
}

/**
 * PL/pgSQL's own parser over a whole CREATE FUNCTION statement: the function's statements with
 * every embedded SQL query as text (`PLpgSQL_expr.query`), which `parseStatements` then reads.
 */
export function parsePlpgsqlFunction(createFunctionSql: string): unknown {
  const { parsePlPgSQLSync } = loaded();
  try {
    return parsePlPgSQLSync(createFunctionSql);
  } catch (error) {
    throw new SqlParseError(`cannot parse PL/pgSQL: ${(error as Error).message}`, createFunctionSql);
  }
}
