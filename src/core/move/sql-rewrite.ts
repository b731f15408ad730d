/**
 * What the move pipeline reads from and changes in pg_dump's SQL, done on the PostgreSQL parse
 * tree (src/db/sql-parse.ts) instead of patterns over text: a name holding `;`, quotes, `$$`,
 * `--` or a newline is one identifier token, never a statement boundary or a keyword. Rewrites
 * edit only the bytes of the tokens they change and keep the rest of pg_dump's text as it was.
 */
import { applyEdits, findNodes, identifierValue, parseStatements, quoteIdent, rangeVarName, scanTokens, type ByteEdit, type SqlStatement } from '../../db/sql-parse.js';

type Node = Record<string, unknown>;

/** Statement-level split: the exact text of each statement, without its `;`. */
export function splitStatements(sql: string): string[] {
  return parseStatements(sql).map((s) => s.text);
}

/** Schema and name of the table a CREATE TABLE entry creates. */
export function createdTable(statements: SqlStatement[]): { schema: string | null; name: string } | undefined {
  const create = statements.find((s) => s.kind === 'CreateStmt');
  const rv = create?.node.relation as { schemaname?: string; relname?: string } | undefined;
  return rv?.relname ? { schema: rv.schemaname ?? null, name: rv.relname } : undefined;
}

/** `CREATE SCHEMA x` → `CREATE SCHEMA IF NOT EXISTS x` (the extensions step may have made it). */
export function createSchemaIfNotExists(sql: string, statements: SqlStatement[]): string {
  const edits: ByteEdit[] = [];
  const tokens = statements.some((s) => s.kind === 'CreateSchemaStmt' && !s.node.if_not_exists) ? scanTokens(sql) : [];
  for (const stmt of statements.filter((s) => s.kind === 'CreateSchemaStmt' && !s.node.if_not_exists)) {
    // CREATE SCHEMA is always the statement's first two tokens.
    const first = tokens.findIndex((t) => t.start >= stmt.start);
    const keyword = tokens[first + 1];
    if (!keyword || keyword.text.toUpperCase() !== 'SCHEMA') continue;
    edits.push({ start: keyword.end, end: keyword.end, replacement: ' IF NOT EXISTS' });
  }
  return applyEdits(sql, edits);
}

/**
 * Qualified references to schema `from` rewritten to `to` (`"extensions"."uuid_generate_v4"()`
 * → `"public"."uuid_generate_v4"()`): an identifier token naming `from`, followed by a dot.
 * String constants and function bodies are single tokens, so nothing inside them changes.
 */
export function renameSchemaReferences(sql: string, from: string, to: string): string {
  const tokens = scanTokens(sql);
  const edits: ByteEdit[] = [];
  for (let i = 0; i + 1 < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.tokenName === 'IDENT' && tokens[i + 1]!.text === '.' && tokens[i + 1]!.start === t.end && identifierValue(t) === from) {
      edits.push({ start: t.start, end: t.end, replacement: quoteIdent(to) });
    }
  }
  return applyEdits(sql, edits);
}

const locationOf = (node: unknown): number | undefined => {
  if (!node || typeof node !== 'object') return undefined;
  const inner = Object.values(node as Node)[0] as Node | undefined;
  const direct = (node as Node).location;
  if (typeof direct === 'number') return direct;
  return inner && typeof inner === 'object' && typeof inner.location === 'number' ? inner.location : undefined;
};

/**
 * The `DEFAULT <expr>` clauses of the named columns removed from a CREATE TABLE. The parse tree
 * gives where each clause starts; it ends before the next thing the tree knows of in that column
 * (another constraint, a COLLATE) or before the `,` / `)` that closes the column, found by the
 * scanner with parentheses counted. Checked by parsing the result again.
 */
export function removeColumnDefaults(sql: string, columns: string[]): string {
  const statements = parseStatements(sql);
  const create = statements.find((s) => s.kind === 'CreateStmt');
  if (!create) return sql;
  const elements = (create.node.tableElts as Node[] | undefined) ?? [];
  const tokens = scanTokens(sql);
  const edits: ByteEdit[] = [];
  elements.forEach((element, index) => {
    const column = element.ColumnDef as Node | undefined;
    if (!column || !columns.includes(column.colname as string)) return;
    const constraints = ((column.constraints as Node[] | undefined) ?? []).map((c) => c.Constraint as Node);
    const dflt = constraints.find((c) => c.contype === 'CONSTR_DEFAULT');
    if (!dflt) return;
    const start = dflt.location as number;
    const later = [
      ...constraints.map((c) => c.location as number),
      locationOf(column.collClause),
      ...elements.slice(index + 1).map(locationOf),
    ].filter((l): l is number => typeof l === 'number' && l > start);
    const boundary = later.length > 0 ? Math.min(...later) : create.end;
    let i = tokens.findIndex((t) => t.start === start);
    if (i < 1) throw new Error(`cannot find the DEFAULT of column ${column.colname as string}`);
    const before = tokens[i - 1]!;
    let depth = 0;
    let last = tokens[i]!;
    for (i++; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.start >= boundary) break;
      if (depth === 0 && (t.text === ',' || t.text === ')')) break;
      if (t.text === '(' || t.text === '[') depth++;
      if (t.text === ')' || t.text === ']') depth--;
      last = t;
    }
    edits.push({ start: before.end, end: last.end, replacement: '' });
  });
  const out = applyEdits(sql, edits);
  // The result must still be one valid CREATE TABLE, with those defaults gone and nothing else lost.
  const again = parseStatements(out);
  const recreated = again.find((s) => s.kind === 'CreateStmt');
  const left = findNodes(recreated?.node.tableElts, 'ColumnDef').filter((c) => columns.includes(c.colname as string)
    && findNodes(c.constraints, 'Constraint').some((k) => k.contype === 'CONSTR_DEFAULT'));
  if (again.length !== statements.length || !recreated || left.length > 0 || ((recreated.node.tableElts as Node[]).length !== elements.length)) {
    throw new Error(`removing the defaults of ${columns.join(', ')} did not give a valid CREATE TABLE`);
  }
  return out;
}

/**
 * The named table-level constraints (`CONSTRAINT name CHECK (...)`, as pg_dump writes them) removed
 * from a CREATE TABLE, with the comma that separated each from its neighbour. A constraint starts at
 * the location the parse tree gives and ends at the `,` / `)` that closes it, found by the scanner
 * with parentheses counted. Returns the new text and the names actually removed; checked by
 * parsing the result again.
 */
export function removeTableConstraints(sql: string, names: string[]): { sql: string; removed: string[] } {
  const statements = parseStatements(sql);
  const create = statements.find((s) => s.kind === 'CreateStmt');
  if (!create || names.length === 0) return { sql, removed: [] };
  const elements = (create.node.tableElts as Node[] | undefined) ?? [];
  const tokens = scanTokens(sql);
  const edits: ByteEdit[] = [];
  const removed: string[] = [];
  elements.forEach((element, index) => {
    const c = element.Constraint as Node | undefined;
    if (!c || !names.includes(c.conname as string)) return;
    let i = tokens.findIndex((t) => t.start === (c.location as number));
    if (i < 0) throw new Error(`cannot find constraint ${c.conname as string}`);
    const first = i;
    let depth = 0;
    let last = tokens[i]!;
    for (i++; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (depth === 0 && (t.text === ',' || t.text === ')')) break;
      if (t.text === '(' || t.text === '[') depth++;
      if (t.text === ')' || t.text === ']') depth--;
      last = t;
    }
    const closer = tokens[i];
    if (first > 0 && tokens[first - 1]!.text === ',') {
      edits.push({ start: tokens[first - 1]!.start, end: last.end, replacement: '' }); // ", CONSTRAINT x CHECK (...)"
    } else if (closer?.text === ',' && index + 1 < elements.length) {
      edits.push({ start: tokens[first]!.start, end: closer.end, replacement: '' }); // "CONSTRAINT x CHECK (...),"
    } else {
      edits.push({ start: tokens[first]!.start, end: last.end, replacement: '' });
    }
    removed.push(c.conname as string);
  });
  const out = applyEdits(sql, edits);
  const again = parseStatements(out);
  const recreated = again.find((s) => s.kind === 'CreateStmt');
  const elementsLeft = (recreated?.node.tableElts as Node[] | undefined) ?? [];
  if (again.length !== statements.length || !recreated || elementsLeft.length !== elements.length - removed.length
    || elementsLeft.some((e) => removed.includes((e.Constraint as Node | undefined)?.conname as string))) {
    throw new Error(`removing the constraints ${removed.join(', ')} did not give a valid CREATE TABLE`);
  }
  return { sql: out, removed };
}

/** A PRIMARY KEY / UNIQUE constraint split into an index build and a quick attach. */
export function splitKeyConstraint(stmt: SqlStatement): { index: string; attach: string } | undefined {
  if (stmt.kind !== 'AlterTableStmt') return undefined;
  const cmds = (stmt.node.cmds as Node[] | undefined) ?? [];
  if (cmds.length !== 1) return undefined;
  const cmd = cmds[0]!.AlterTableCmd as Node | undefined;
  const c = (cmd?.def as Node | undefined)?.Constraint as Node | undefined;
  if (!cmd || cmd.subtype !== 'AT_AddConstraint' || !c || !c.conname) return undefined;
  const kind = c.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : c.contype === 'CONSTR_UNIQUE' ? 'UNIQUE' : undefined;
  // Anything beyond plain key columns (INCLUDE, WITH, NULLS NOT DISTINCT, WITHOUT OVERLAPS, a
  // tablespace) runs as pg_dump wrote it.
  if (!kind || c.including || c.options || c.indexspace || c.nulls_not_distinct || c.without_overlaps || c.indexname) return undefined;
  const keys = (c.keys as Node[] | undefined)?.map((k) => (k.String as { sval: string }).sval);
  const table = rangeVarName(stmt.node.relation);
  if (!keys?.length || !table) return undefined;
  const name = quoteIdent(c.conname as string);
  // Protobuf leaves false fields out: no `inh` means ONLY.
  const only = (stmt.node.relation as Node).inh ? '' : 'ONLY ';
  const deferrable = c.deferrable ? ` DEFERRABLE${c.initdeferred ? ' INITIALLY DEFERRED' : ''}` : '';
  return {
    index: `CREATE UNIQUE INDEX ${name} ON ${table} USING btree (${keys.map(quoteIdent).join(', ')})`,
    attach: `ALTER TABLE ${only}${table} ADD CONSTRAINT ${name} ${kind} USING INDEX ${name}${deferrable}`,
  };
}

/** The table ("schema"."table") an index, constraint, trigger, rule or policy belongs to. */
export function statementTable(stmt: SqlStatement | undefined): string | undefined {
  if (!stmt) return undefined;
  const n = stmt.node;
  switch (stmt.kind) {
    case 'IndexStmt':
    case 'AlterTableStmt':
    case 'CreateTrigStmt':
    case 'RuleStmt':
      return rangeVarName(n.relation);
    case 'CreatePolicyStmt':
    case 'AlterPolicyStmt':
      return rangeVarName(n.table);
    default:
      return undefined;
  }
}

/** CREATE INDEX ... ON ONLY a partitioned parent (attached to partition indexes later). */
export function isIndexOnOnly(stmt: SqlStatement | undefined): boolean {
  return stmt?.kind === 'IndexStmt' && !(stmt.node.relation as Node | undefined)?.inh;
}

/** Schemas the foreign keys of these statements point into. */
export function foreignKeySchemas(statements: SqlStatement[]): string[] {
  return statements.flatMap((s) => findNodes(s.node, 'Constraint'))
    .filter((c) => c.contype === 'CONSTR_FOREIGN')
    .map((c) => (c.pktable as { schemaname?: string } | undefined)?.schemaname)
    .filter((s): s is string => Boolean(s));
}

/** Role names a statement refers to: grantees, FOR ROLE, policy TO lists, GRANTED BY, owners. */
export function rolesInStatement(stmt: SqlStatement): string[] {
  const roles = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const o = node as Node;
      // A RoleSpec: wrapped in lists ({RoleSpec: {...}}), bare in single fields (grantor).
      if (typeof o.roletype === 'string') {
        if (o.roletype === 'ROLESPEC_CSTRING' && typeof o.rolename === 'string') roles.add(o.rolename);
        return;
      }
      Object.values(o).forEach(walk);
    }
  };
  walk(stmt.node);
  return [...roles];
}
