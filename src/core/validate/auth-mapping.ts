/**
 * validate's auth mapping: source `auth.users` ↔ the local users table and `auth.identities` ↔ the
 * local identities table, compared like any other table pair over the columns the layout keeps
 * (counts and content hashes); and the objects `auth migrate` brings home (foreign keys into the
 * users table, views reading it) compared like everything else instead of `expected`.
 */
import { loadSql } from '../../db/sql.js';
import { UsageError } from '../../errors.js';
import type { SideCatalog } from './catalog.js';
import type { SchemaObject } from './schema.js';
import type { SchemaDifference } from './types.js';
import type { Side } from './side.js';
import type { TableMapping } from './types.js';
import { identitiesTableOf, KEEP_LAYOUT, localColumn, usersTableOf, type AuthLayout, type AuthTable } from '../auth/layout.js';
import { MIGRATIONS_SCHEMA } from '../auth/tables.js';

const SOURCE_USERS = 'auth.users';
const SOURCE_IDENTITIES = 'auth.identities';

export interface AuthMapping {
  layout: AuthLayout;
  /** How the layout was known: given by flags, or detected on the target. */
  how: 'given' | 'detected';
  mappings: TableMapping[];
}

/** Every source column whose local counterpart (renamed or not) exists on the target. */
function columnPairs(sourceTable: string, targetTable: string, source: SideCatalog, target: SideCatalog, layout: AuthLayout, table: AuthTable): Record<string, string> {
  const s = source.tables.get(sourceTable)!;
  const t = new Set(target.tables.get(targetTable)!.columns.map((c) => c.name));
  return Object.fromEntries(s.columns.map((c) => [c.name, localColumn(layout, c.name, table)] as const).filter(([, local]) => t.has(local)));
}

/** auth migrate's history of the keep layout (node-pg-migrate's table, a10's tables.ts). */
const KEEP_HISTORY = `${MIGRATIONS_SCHEMA}.auth_users_keep`;

/**
 * The auth table pairs, when the source has Supabase Auth and the layout is given or detected (the
 * target holds auth.users: the keep layout). undefined when there is nothing to map.
 */
export function resolveAuthMapping(option: AuthLayout | 'detect' | 'off' | undefined, source: SideCatalog, target: SideCatalog): AuthMapping | undefined {
  if (option === 'off' || !source.tables.has(SOURCE_USERS)) return undefined;
  let layout: AuthLayout;
  let how: AuthMapping['how'] = 'given';
  if (option === undefined || option === 'detect') {
    // auth migrate's keep history, or GoTrue's table itself on the target: the keep layout. A
    // table layout's history is named by a hash of its tables: it has to be given (--auth-layout table).
    if (!target.tables.has(KEEP_HISTORY) && !target.tables.has(SOURCE_USERS)) return undefined;
    layout = KEEP_LAYOUT;
    how = 'detected';
  } else layout = option;
  const id = (q: { schema: string; name: string }): string => `${q.schema}.${q.name}`; // the catalog's keys
  const users = id(usersTableOf(layout));
  const identities = id(identitiesTableOf(layout));
  if (!target.tables.has(users)) {
    throw new UsageError(`the auth layout names ${users}, which the target does not have`, {
      hint: 'run `offramp auth migrate` first, or pass the layout it used (--auth-layout table --users-table schema.table)',
    });
  }
  const mappings: TableMapping[] = [{ source: SOURCE_USERS, target: users, columns: columnPairs(SOURCE_USERS, users, source, target, layout, 'users') }];
  if (source.tables.has(SOURCE_IDENTITIES) && target.tables.has(identities)) {
    mappings.push({ source: SOURCE_IDENTITIES, target: identities, columns: columnPairs(SOURCE_IDENTITIES, identities, source, target, layout, 'identities') });
  }
  return { layout, how, mappings };
}

/**
 * Objects that only reference the brought-home tables are on the target after `auth migrate`: one
 * missing there is a difference like any other, not an intended one.
 */
export async function judgeBroughtHome(source: Side, leftBehind: string[], mapping: AuthMapping, differences: SchemaDifference[]): Promise<void> {
  const rows = await source.query<{ category: string; object: string }>(loadSql('validate/auth-dependents.sql'),
    [leftBehind, mapping.mappings.map((m) => m.source)], 'objects auth migrate brings home');
  const home = new Set(rows.map((r) => `${r.category} ${r.object}`));
  for (const d of differences) {
    if (d.severity !== 'expected' || !home.has(`${d.category} ${d.object}`)) continue;
    if (d.change !== 'missing_on_target' && !(d.change === 'changed' && d.target === '(none)')) continue;
    d.severity = 'fail';
    d.reason = `auth migrate brings it home with ${mapping.mappings[0]!.target}: it should be on the target`;
  }
}

const quoted = (qualified: string): string => qualified.split('.').map((p) => (/^[a-z_][a-z0-9_$]*$/.test(p) ? p : `"${p.replace(/"/g, '""')}"`)).join('.');

/**
 * The table layout's local tables sit in a compared schema (public.users) but are the source's
 * auth.users, proven by the data comparison: they and what hangs off them are not "extra" on the
 * target. (The keep layout's schema auth is left out of the schema diff on both sides anyway.)
 */
export function withoutMappedTables(objects: SchemaObject[], mapping: AuthMapping): SchemaObject[] {
  if (mapping.layout.kind === 'keep') return objects;
  const tables = new Set(mapping.mappings.map((m) => quoted(m.target)));
  return objects.filter((o) => {
    if ((o.category === 'tables' || o.category === 'rls') && tables.has(o.object)) return false;
    if (['columns', 'constraints', 'triggers', 'policies'].includes(o.category) && [...tables].some((t) => o.object.startsWith(`${t}.`))) return false;
    const parent = o.attrs._parent as [string, string] | null | undefined;
    return !(Array.isArray(parent) && parent[0] === 'tables' && tables.has(parent[1]));
  });
}
