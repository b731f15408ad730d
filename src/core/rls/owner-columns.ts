/**
 * Which columns a table's policies compare with the requesting user's id — `auth.uid() = author_id`,
 * `(select auth.uid()) = user_id`, `auth.uid() IN (sender_id, recipient_id)`, `owner_id =
 * auth.uid()::text`, `(storage.foldername(name))[1] = auth.uid()::text` — read from the policies'
 * parse trees (the real PostgreSQL parser). Write probes put the principal's id into these columns
 * of their candidate rows, so an INSERT a user is meant to be allowed is actually tried.
 */
import { findNodes, loadSqlParser, parseStatements, type SqlNode } from '../../db/sql-parse.js';

export interface OwnerColumn {
  column: string;
  /** `value`: the column holds the id; `first-folder`: the first `/` segment of a path holds it. */
  shape: 'value' | 'first-folder';
}

const names = (list: unknown): string[] =>
  Array.isArray(list) ? list.map((n) => String(((n as SqlNode).String as { sval?: string } | undefined)?.sval ?? '')) : [];

/** Is this expression the requesting user's id: uid(), jwt() ->> 'sub', wrapped in casts or a scalar sub-select? */
function isUserId(node: unknown): boolean {
  if (!node || typeof node !== 'object') return false;
  const n = node as SqlNode;
  if (n.TypeCast) return isUserId((n.TypeCast as SqlNode).arg);
  if (n.FuncCall) {
    const fn = names((n.FuncCall as SqlNode).funcname);
    return fn[fn.length - 1] === 'uid' && !((n.FuncCall as SqlNode).args);
  }
  if (n.SubLink) {
    const link = n.SubLink as SqlNode;
    if (link.subLinkType !== 'EXPR_SUBLINK') return false;
    const select = (link.subselect as SqlNode | undefined)?.SelectStmt as SqlNode | undefined;
    const targets = select?.targetList as SqlNode[] | undefined;
    return !select?.fromClause && targets?.length === 1 && isUserId((targets[0]!.ResTarget as SqlNode).val);
  }
  if (n.A_Expr) {
    const e = n.A_Expr as SqlNode;
    const op = names(e.name)[0];
    let rexpr = e.rexpr as SqlNode | undefined;
    if (rexpr?.TypeCast) rexpr = (rexpr.TypeCast as SqlNode).arg as SqlNode; // 'sub'::text, as pg_get_expr prints it
    const right = rexpr?.A_Const as SqlNode | undefined;
    const sval = (right?.sval as { sval?: string } | undefined)?.sval;
    const left = (e.lexpr as SqlNode | undefined)?.FuncCall as SqlNode | undefined;
    return e.kind === 'AEXPR_OP' && op === '->>' && sval === 'sub' && names(left?.funcname).at(-1) === 'jwt';
  }
  return false;
}

function columnOf(node: unknown): OwnerColumn | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const n = node as SqlNode;
  if (n.TypeCast) return columnOf((n.TypeCast as SqlNode).arg);
  if (n.ColumnRef) {
    const fields = names((n.ColumnRef as SqlNode).fields);
    const last = fields[fields.length - 1];
    return last ? { column: last, shape: 'value' } : undefined;
  }
  if (n.A_Indirection) {
    // (storage.foldername(col))[1]
    const ind = n.A_Indirection as SqlNode;
    const fn = (ind.arg as SqlNode | undefined)?.FuncCall as SqlNode | undefined;
    const args = fn?.args as unknown[] | undefined;
    const index = ((((ind.indirection as SqlNode[] | undefined)?.[0]?.A_Indices as SqlNode | undefined)?.uidx as SqlNode | undefined)?.A_Const as SqlNode | undefined)?.ival as { ival?: number } | undefined;
    if (names(fn?.funcname).at(-1) === 'foldername' && args?.length === 1 && index?.ival === 1) {
      const inner = columnOf(args[0]);
      return inner ? { column: inner.column, shape: 'first-folder' } : undefined;
    }
  }
  return undefined;
}

/** The owner columns named in these policy expression trees (t11's reader parses them: read.ts). */
export function ownerColumnsIn(trees: unknown[]): OwnerColumn[] {
  const found = new Map<string, OwnerColumn>();
  for (const tree of trees) {
    for (const e of findNodes(tree, 'A_Expr')) {
      const op = names(e.name)[0];
      const candidates: unknown[] = [];
      if (e.kind === 'AEXPR_OP' && op === '=') {
        if (isUserId(e.lexpr)) candidates.push(e.rexpr);
        if (isUserId(e.rexpr)) candidates.push(e.lexpr);
      } else if ((e.kind === 'AEXPR_OP_ANY' || e.kind === 'AEXPR_IN') && op === '=' && isUserId(e.lexpr)) {
        const r = e.rexpr as SqlNode;
        const items = (r.A_ArrayExpr as SqlNode | undefined)?.elements ?? (r.List as SqlNode | undefined)?.items ?? r;
        if (Array.isArray(items)) candidates.push(...items);
      }
      for (const c of candidates) {
        const col = columnOf(c);
        if (col && !found.has(col.column)) found.set(col.column, col);
      }
    }
  }
  return [...found.values()];
}

/** The same from expression texts (as pg_get_expr prints them), parsed here. */
export async function ownerColumns(expressions: Array<string | null | undefined>): Promise<OwnerColumn[]> {
  await loadSqlParser();
  return ownerColumnsIn(expressions.filter((x): x is string => !!x).map((x) => parseStatements(`SELECT ${x}`)[0]?.node));
}
