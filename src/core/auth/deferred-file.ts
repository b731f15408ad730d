/**
 * `.offramp/deferred-<db>.sql` after auth objects came home: the entries whose every statement
 * defines (or grants on, or comments) an object now on the target are taken out; every other entry
 * stays byte for byte. Entries are found with the scanner (copy writes one `-- <type> <schema>
 * <name>: <reason>` comment line before each entry's statements, and comments never occur between
 * the statements of an entry) and read with the parser. The file is replaced atomically (written
 * beside it 0600, then renamed); when nothing is left it is removed, as copy writes none then.
 */
import { existsSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { findNodes, parseStatements, scanTokens, type SqlStatement } from '../../db/sql-parse.js';
import { writePrivateFile } from '../move/private-files.js';
import { rangeVars } from './auth-refs.js';


interface Entry {
  start: number;
  end: number;
  statements: SqlStatement[];
}

/** Entries of a deferred file with their byte ranges (header comment to the next header). */
export function deferredEntries(text: string): Entry[] {
  const bytes = Buffer.from(text, 'utf8');
  const tokens = scanTokens(text);
  const headers = tokens.filter((t, i) => t.tokenName === 'SQL_COMMENT' && (t.start === 0 || bytes[t.start - 1] === 0x0a) && (i === 0 || tokens[i - 1]!.text === ';'));
  return headers.map((h, k) => {
    const end = k + 1 < headers.length ? headers[k + 1]!.start : bytes.length;
    return { start: h.start, end, statements: parseStatements(bytes.subarray(h.end, end).toString('utf8')) };
  });
}

/** `schema.name` keys of what a statement creates or decorates (see `objectKey` in bring-home.ts). */
export function statementKeys(st: SqlStatement): string[] {
  const rel = (rv: unknown): string | undefined => {
    const r = rv as { schemaname?: string; relname?: string } | undefined;
    return r?.relname ? `${r.schemaname ?? 'public'}.${r.relname}` : undefined;
  };
  const n = st.node;
  switch (st.kind) {
    case 'AlterTableStmt': {
      const cmds = findNodes(n.cmds, 'AlterTableCmd');
      const table = rel(n.relation);
      // Only ADD CONSTRAINT of a foreign key is an auth object; a DEFAULT or anything else is not ours.
      if (!table || cmds.length === 0 || cmds.some((c) => c.subtype !== 'AT_AddConstraint')) return [];
      return cmds.map((c) => `constraint ${table}.${(findNodes(c.def, 'Constraint')[0]?.conname as string) ?? ''}`);
    }
    case 'ViewStmt':
      return [`relation ${rel(n.view)}`];
    case 'CreateTableAsStmt':
      return [`relation ${rel((n.into as { rel?: unknown } | undefined)?.rel)}`];
    case 'RefreshMatViewStmt':
      return [`relation ${rel(n.relation)}`];
    case 'CreateTrigStmt':
      return [`trigger ${rel(n.relation)}.${n.trigname as string}`];
    case 'GrantStmt':
      if (n.objtype !== 'OBJECT_TABLE') return [];
      return findNodes(n.objects, 'RangeVar').map((r) => `relation ${rel(r)}`);
    case 'CommentStmt': {
      const names = findNodes(n.object, 'String').map((s) => s.sval as string);
      if (n.objtype === 'OBJECT_VIEW' || n.objtype === 'OBJECT_MATVIEW') return [`relation ${names.length > 1 ? names.join('.') : `public.${names[0]}`}`];
      if (n.objtype === 'OBJECT_COLUMN') return [`relation ${names.length > 2 ? names.slice(0, -1).join('.') : `public.${names[0]}`}`];
      return [];
    }
    default:
      return [];
  }
}

/**
 * Remove the entries every statement of which names an object in `home`. Returns how many
 * entries were removed and how many are left; the file is untouched when nothing is removed.
 */
export function pruneDeferredFile(path: string, home: Set<string>): { removed: number; left: number } {
  if (!existsSync(path)) return { removed: 0, left: 0 };
  const text = readFileSync(path, 'utf8');
  const entries = deferredEntries(text);
  const gone = entries.filter((e) => e.statements.length > 0 && e.statements.every((st) => {
    const keys = statementKeys(st);
    return keys.length > 0 && keys.every((k) => home.has(k));
  }));
  if (gone.length === 0) return { removed: 0, left: entries.length };
  const left = entries.length - gone.length;
  if (left === 0) {
    unlinkSync(path);
    return { removed: gone.length, left };
  }
  const bytes = Buffer.from(text, 'utf8');
  const kept: Buffer[] = [];
  let at = 0;
  for (const e of gone) {
    kept.push(bytes.subarray(at, e.start));
    at = e.end;
  }
  kept.push(bytes.subarray(at));
  const temporary = `${path}.${process.pid}.tmp`;
  writePrivateFile(temporary, Buffer.concat(kept));
  renameSync(temporary, path);
  return { removed: gone.length, left };
}

export interface StillDeferredEntry {
  kind: 'policy' | 'default' | 'check' | 'view' | 'materialized-view' | 'function' | 'grant' | 'comment' | 'foreign-key' | 'other';
  /** The entry's header line without `-- ` and the reason: `<type> <schema> <name>`. */
  name: string;
  /** The auth helpers or tables it names. */
  names: string[];
  reason: string;
  /** What its statements define or decorate (statementKeys). */
  keys: string[];
}

/** The entries left in the file that name something of `auth` (a helper such as auth.uid(), or a table), with what they are. */
export function authEntriesLeft(path: string): StillDeferredEntry[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const bytes = Buffer.from(text, 'utf8');
  const out: StillDeferredEntry[] = [];
  for (const e of deferredEntries(text)) {
    const names = new Set<string>();
    for (const st of e.statements) {
      for (const call of findNodes(st.node, 'FuncCall')) {
        const fn = ((call.funcname as Array<{ String?: { sval?: string } }>) ?? []).map((n) => n.String?.sval);
        if (fn.length === 2 && fn[0] === 'auth') names.add(`auth.${fn[1]}()`);
      }
      for (const rv of rangeVars(st.node)) if (rv.schemaname === 'auth') names.add(`auth.${rv.relname}`);
    }
    if (names.size === 0) continue;
    const header = bytes.subarray(e.start + 3, bytes.indexOf(0x0a, e.start)).toString('utf8');
    const colon = header.indexOf(': ');
    out.push({ kind: entryKind(e.statements), name: colon < 0 ? header : header.slice(0, colon), names: [...names], reason: colon < 0 ? '' : header.slice(colon + 2), keys: e.statements.flatMap(statementKeys) });
  }
  return out;
}

function entryKind(statements: SqlStatement[]): StillDeferredEntry['kind'] {
  const st = statements[0];
  if (!st) return 'other';
  switch (st.kind) {
    case 'CreatePolicyStmt':
      return 'policy';
    case 'ViewStmt':
      return 'view';
    case 'CreateTableAsStmt':
      return 'materialized-view';
    case 'CreateFunctionStmt':
      return 'function';
    case 'GrantStmt':
      return 'grant';
    case 'CommentStmt':
      return 'comment';
    case 'AlterTableStmt': {
      const cmd = findNodes(st.node.cmds, 'AlterTableCmd')[0];
      if (cmd?.subtype === 'AT_ColumnDefault') return 'default';
      const con = findNodes(cmd?.def, 'Constraint')[0];
      if (con?.contype === 'CONSTR_CHECK') return 'check';
      if (con?.contype === 'CONSTR_FOREIGN') return 'foreign-key';
      return 'other';
    }
    default:
      return 'other';
  }
}
