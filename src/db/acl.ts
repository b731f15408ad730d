/**
 * A relation created after copy (a deferred view brought in by a later stage) gets the target's
 * default privileges at once: the platform's `ALTER DEFAULT PRIVILEGES ... GRANT ALL ON TABLES TO anon,
 * authenticated, service_role`, which copy reproduced. pg_dump's ACL entries only add GRANTs to the
 * owner-only starting point (acldefault), so replaying them on such a relation leaves extra
 * privileges behind. Emptying the ACL down to the owner first makes the replay exact.
 */
import type pg from 'pg';
import { loadSql, query } from './sql.js';

/** Revoke everything every non-owner grantee holds on `relation` (schema-qualified, quoted as needed). */
export async function revokeNonOwnerGrants(client: pg.ClientBase, relation: string): Promise<string[]> {
  const rows = await query<{ grantee: string }>(client, loadSql('db/non-owner-grantees.sql'), [relation], `read the grants on ${relation}`);
  const grantees = rows.map((r) => r.grantee);
  if (grantees.length > 0) await query(client, `REVOKE ALL ON TABLE ${relation} FROM ${grantees.join(', ')}`, [], `reset the grants on ${relation}`);
  return grantees;
}
