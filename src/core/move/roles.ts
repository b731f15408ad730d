/**
 * Roles on the target. Platform roles are never copied: statements that name one the target lacks
 * are dropped (and reported). The PostgREST API roles are created NOLOGIN when kept grants or
 * policies need them; custom roles are created with their attributes but never a password.
 */
import type pg from 'pg';
import { loadSql, query } from '../../db/sql.js';
import { API_ROLES, isPlatformRole } from '../supabase/platform.js';
import { quoteIdent } from '../../db/sql-parse.js';

export { rolesInStatement } from './sql-rewrite.js';

export interface RolePlan {
  create: Array<{ name: string; sql: string; reason: string }>;
  /** Roles that will exist on the target once `create` ran. */
  available: Set<string>;
  /** Platform roles that do not exist on the target: statements naming them are dropped. */
  missing: Set<string>;
}

/** A source role's attributes, as kept in a dump artifact (never a password). */
export interface RoleAttributes {
  name: string;
  inherit: boolean;
  createrole: boolean;
  createdb: boolean;
  login: boolean;
  bypassrls: boolean;
  connlimit: number;
}

export async function readRoleAttributes(source: pg.ClientBase, names: string[]): Promise<RoleAttributes[]> {
  return query<RoleAttributes>(source, loadSql('move/roles.sql'), [names], 'read role attributes');
}

/** Decide, for every referenced role the target lacks, whether to create it or drop what names it. */
export async function planRoles(attributes: RoleAttributes[], target: pg.ClientBase, referenced: Set<string>): Promise<RolePlan> {
  const targetRoles = new Set((await query<{ rolname: string }>(target, 'SELECT rolname FROM pg_roles')).map((r) => r.rolname));
  const wanted = [...referenced].filter((r) => !targetRoles.has(r));
  const byName = new Map(attributes.map((a) => [a.name, a]));
  const available = new Set(targetRoles);
  const missing = new Set<string>();
  const create: RolePlan['create'] = [];
  for (const name of wanted) {
    if (API_ROLES.includes(name)) {
      const bypass = name === 'service_role' ? ' BYPASSRLS' : '';
      create.push({ name, sql: `CREATE ROLE ${quoteIdent(name)} NOLOGIN NOINHERIT${bypass}`, reason: 'API role named by grants or policies' });
      available.add(name);
    } else if (isPlatformRole(name) || !byName.has(name)) {
      missing.add(name);
    } else {
      const a = byName.get(name)!;
      const flags = [
        a.login ? 'LOGIN' : 'NOLOGIN', a.inherit ? 'INHERIT' : 'NOINHERIT', a.createrole ? 'CREATEROLE' : '',
        a.createdb ? 'CREATEDB' : '', a.bypassrls ? 'BYPASSRLS' : '', a.connlimit >= 0 ? `CONNECTION LIMIT ${a.connlimit}` : '',
      ].filter(Boolean).join(' ');
      create.push({ name, sql: `CREATE ROLE ${quoteIdent(name)} ${flags}`, reason: a.login ? 'custom role (created without a password: set one before use)' : 'custom role' });
      available.add(name);
    }
  }
  return { create, available, missing };
}
