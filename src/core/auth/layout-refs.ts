/** The auth layout as the reference rewriter needs it: where each GoTrue table lives, and its renamed columns. */
import type { AuthRefMap } from './auth-refs.js';
import type { AuthLayout } from './layout.js';

/** Undefined for the keep layout: the local tables keep GoTrue's names, so nothing is rewritten. */
export function authRefMap(layout: AuthLayout): AuthRefMap | undefined {
  if (layout.kind === 'keep') return undefined;
  return {
    users: { schema: layout.users.schema, name: layout.users.name, columns: layout.columns.users },
    identities: { schema: layout.identities.schema, name: layout.identities.name, columns: layout.columns.identities },
  };
}
