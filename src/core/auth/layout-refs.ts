/** The auth layout as the reference rewriter needs it: where each GoTrue table lives, and its renamed columns. */
import type { AuthRefMap, LocalTable } from './auth-refs.js';
import { AUTH_IDENTITY_COLUMNS, AUTH_USER_COLUMNS, identitiesTableOf, localColumn, usersTableOf, type AuthLayout, type AuthTable } from './layout.js';

/** Undefined for the keep layout: the local tables keep GoTrue's names, so nothing is rewritten. */
export function authRefMap(layout: AuthLayout): AuthRefMap | undefined {
  if (layout.kind === 'keep') return undefined;
  const table = (which: AuthTable): LocalTable => {
    const q = which === 'users' ? usersTableOf(layout) : identitiesTableOf(layout);
    const columns: Record<string, string> = {};
    for (const c of which === 'users' ? AUTH_USER_COLUMNS : AUTH_IDENTITY_COLUMNS) {
      const local = localColumn(layout, c.name, which);
      if (local !== c.name) columns[c.name] = local;
    }
    return { schema: q.schema, name: q.name, columns };
  };
  return { users: table('users'), identities: table('identities') };
}
