/**
 * `ALTER DEFAULT PRIVILEGES FOR ROLE r`: PostgreSQL runs it only for a role the session can act
 * for (superuser, or a member of r). On a target whose role is a plain database owner, the source's
 * `FOR ROLE postgres` fails ("must be member of role"). One rule: FOR ROLE names go through
 * --owner-map (objects owned by r on the source belong to the mapped role on the target, so its
 * defaults do too); a statement for a role the target role still cannot act for is left out with
 * a warning, never a failure. Read and rewritten on the parse tree (RoleSpec locations).
 */
import type pg from 'pg';
import { applyEdits, parseStatements, quoteIdent, scanTokens, type ByteEdit, type SqlStatement } from '../../db/sql-parse.js';
import { loadSql, query } from '../../db/sql.js';

type Node = Record<string, unknown>;

/** The FOR ROLE RoleSpecs of an ALTER DEFAULT PRIVILEGES statement (none for other statements). */
function forRoleSpecs(stmt: SqlStatement): Array<{ rolename: string; location: number }> {
  if (stmt.kind !== 'AlterDefaultPrivilegesStmt') return [];
  const options = (stmt.node.options as Node[] | undefined) ?? [];
  return options
    .map((o) => o.DefElem as Node | undefined)
    .filter((d): d is Node => d?.defname === 'roles')
    .flatMap((d) => (((d.arg as Node | undefined)?.List as Node | undefined)?.items as Node[] | undefined) ?? [])
    .map((i) => i.RoleSpec as { rolename?: string; location?: number } | undefined)
    .filter((r): r is { rolename: string; location: number } => typeof r?.rolename === 'string' && typeof r.location === 'number');
}

/** Role names after FOR ROLE in this statement. */
export function defaultPrivilegeRoles(stmt: SqlStatement): string[] {
  return forRoleSpecs(stmt).map((r) => r.rolename);
}

/** The statement's text with its FOR ROLE names mapped through --owner-map (only those tokens change). */
export function mapForRoles(stmt: SqlStatement, ownerMap: Record<string, string>): string {
  if (!defaultPrivilegeRoles(stmt).some((r) => ownerMap[r])) return stmt.text;
  // Parsed on its own so that locations are offsets into this statement's text.
  const [own] = parseStatements(stmt.text);
  const tokens = scanTokens(stmt.text);
  const edits: ByteEdit[] = [];
  for (const spec of own ? forRoleSpecs(own) : []) {
    const to = ownerMap[spec.rolename];
    const token = tokens.find((t) => t.start === spec.location);
    if (to && token) edits.push({ start: token.start, end: token.end, replacement: quoteIdent(to) });
  }
  return applyEdits(stmt.text, edits);
}

/** Of these roles, the ones the connecting role may act for on the target (itself, member of, or superuser). */
export async function rolesActableFor(client: pg.ClientBase, roles: string[]): Promise<Set<string>> {
  if (roles.length === 0) return new Set();
  const rows = await query<{ role: string }>(client, loadSql('move/act-for-roles.sql'), [roles], 'which roles the target role can act for');
  return new Set(rows.map((r) => r.role));
}
