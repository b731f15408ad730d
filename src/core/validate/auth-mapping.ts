/**
 * validate's auth mapping: source `auth.users` ↔ the local users table and `auth.identities` ↔ the
 * local identities table, compared like any other table pair over the columns the layout keeps
 * (counts and content hashes); and the objects `auth migrate` brings home (foreign keys into the
 * users table, views reading it) compared like everything else instead of `expected`.
 */
import { loadSql } from '../../db/sql.js';
import { UsageError } from '../../errors.js';
import type { SideCatalog } from './catalog.js';
import type { SchemaDifference } from './types.js';
import type { Side } from './side.js';
import type { AuthMappingLayout, TableMapping } from './types.js';

const SOURCE_USERS = 'auth.users';
const SOURCE_IDENTITIES = 'auth.identities';

export interface AuthMapping {
  layout: AuthMappingLayout;
  /** How the layout was known: given by flags, or detected on the target. */
  how: 'given' | 'detected';
  mappings: TableMapping[];
}

/** The layout's local tables: keep → auth.users / auth.identities on the target. */
function localTables(layout: AuthMappingLayout): { users: string; identities: string | undefined } {
  if (layout.kind === 'keep') return { users: SOURCE_USERS, identities: SOURCE_IDENTITIES };
  return { users: layout.usersTable, identities: layout.identitiesTable };
}

/** Every source column whose local counterpart (renamed or not) exists on the target. */
function columnPairs(sourceTable: string, targetTable: string, source: SideCatalog, target: SideCatalog, renamed: Record<string, string>): Record<string, string> {
  const s = source.tables.get(sourceTable)!;
  const t = new Set(target.tables.get(targetTable)!.columns.map((c) => c.name));
  return Object.fromEntries(s.columns.map((c) => [c.name, renamed[c.name] ?? c.name] as const).filter(([, local]) => t.has(local)));
}

/**
 * The auth table pairs, when the source has Supabase Auth and the layout is given or detected (the
 * target holds auth.users: the keep layout). undefined when there is nothing to map.
 */
export function resolveAuthMapping(option: AuthMappingLayout | 'detect' | 'off' | undefined, source: SideCatalog, target: SideCatalog): AuthMapping | undefined {
  if (option === 'off' || !source.tables.has(SOURCE_USERS)) return undefined;
  let layout: AuthMappingLayout;
  let how: AuthMapping['how'] = 'given';
  if (option === undefined || option === 'detect') {
    if (!target.tables.has(SOURCE_USERS)) return undefined;
    layout = { kind: 'keep' };
    how = 'detected';
  } else layout = option;
  const local = localTables(layout);
  if (!target.tables.has(local.users)) {
    throw new UsageError(`the auth layout names ${local.users}, which the target does not have`, {
      hint: 'run `offramp auth migrate` first, or pass the layout it used (--auth-layout table --users-table schema.table)',
    });
  }
  const renamed = layout.kind === 'table' ? layout.columns ?? {} : {};
  const mappings: TableMapping[] = [{ source: SOURCE_USERS, target: local.users, columns: columnPairs(SOURCE_USERS, local.users, source, target, renamed) }];
  if (local.identities && source.tables.has(SOURCE_IDENTITIES) && target.tables.has(local.identities)) {
    mappings.push({ source: SOURCE_IDENTITIES, target: local.identities, columns: columnPairs(SOURCE_IDENTITIES, local.identities, source, target, {}) });
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
