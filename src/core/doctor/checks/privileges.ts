/**
 * What the target role may do: write at all, create schemas, create the roles that policies and
 * grants name. (Creating extensions is in extensions.ts.)
 */
import type { Check, CheckOutcome } from '../../../checks/types.js';
import { loadSql, query } from '../../../db/sql.js';
import { API_ROLES, isPlatformRole, MANAGED_SCHEMAS } from '../../supabase/platform.js';
import { quoteIdent } from '../../../db/sql-parse.js';
import { unavailable, type DoctorContext, type ReadySide } from '../context.js';

/** `target.writable`: not a standby, not read-only by default. */
export const targetWritableCheck: Check<DoctorContext> = {
  id: 'target.writable',
  title: 'Target accepts writes',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.target);
    if (skip) return skip;
    const f = (ctx.target as ReadySide).facts;
    const evidence = { inRecovery: f.in_recovery, defaultTransactionReadOnly: f.default_read_only };
    if (f.in_recovery) {
      return { status: 'fail', detail: 'the target is a standby in recovery (read-only)', hint: 'point --target at the primary server', evidence };
    }
    if (f.default_read_only === 'on') {
      return {
        status: 'fail',
        detail: `default_transaction_read_only is on for ${f.current_user} in ${f.database}`,
        hint: `ALTER ROLE "${f.current_user}" SET default_transaction_read_only = off (or the same on the database)`,
        evidence,
      };
    }
    return { status: 'pass', detail: 'primary, read-write', evidence };
  },
};

/** `target.can-create-schemas`: CREATE on the target database. */
export const targetCreateSchemasCheck: Check<DoctorContext> = {
  id: 'target.can-create-schemas',
  title: 'Target may create schemas',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.target);
    if (skip) return skip;
    const f = (ctx.target as ReadySide).facts;
    const evidence = { user: f.current_user, database: f.database, owner: f.database_owner, superuser: f.is_superuser, canCreate: f.can_create_schema };
    if (f.can_create_schema) {
      const why = f.is_superuser ? 'superuser' : f.owns_database ? `owner of ${f.database}` : `has CREATE on ${f.database}`;
      return { status: 'pass', detail: `${f.current_user} can create schemas (${why})`, evidence };
    }
    return {
      status: 'fail',
      detail: `${f.current_user} has no CREATE privilege on database ${f.database} (owner: ${f.database_owner})`,
      hint: `as ${f.database_owner}: GRANT CREATE ON DATABASE "${f.database}" TO "${f.current_user}", or connect as the owner`,
      evidence,
    };
  },
};

interface ReferencedRole {
  role: string;
  via: string[];
}

/** `target.can-create-roles`: roles named by policies and grants exist or can be created. */
export const targetCreateRolesCheck: Check<DoctorContext> = {
  id: 'target.can-create-roles',
  title: 'Target may create roles',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.target);
    if (skip) return skip;
    const target = ctx.target as ReadySide;
    const f = target.facts;
    const canCreate = f.is_superuser || f.can_create_role;
    const why = f.is_superuser ? 'superuser' : f.can_create_role ? 'CREATEROLE' : 'neither CREATEROLE nor superuser';
    if (unavailable(ctx.source)) {
      return canCreate
        ? { status: 'pass', detail: `${f.current_user} can create roles (${why})`, evidence: { canCreate } }
        : {
            status: 'warn',
            detail: `${f.current_user} cannot create roles (${why}); roles named by RLS policies and grants must exist beforehand`,
            hint: `ALTER ROLE "${f.current_user}" CREATEROLE, or create the roles yourself (e.g. CREATE ROLE anon NOLOGIN)`,
            evidence: { canCreate },
          };
    }
    const source = ctx.source as ReadySide;
    const referenced = await query<ReferencedRole>(source.client, loadSql('doctor/referenced-roles.sql'), [[...MANAGED_SCHEMAS]], 'list roles named by policies and grants');
    // Platform roles other than the API roles are mapped or dropped, never created.
    const needed = referenced.filter((r) => API_ROLES.includes(r.role) || !isPlatformRole(r.role));
    const existing = new Set(
      (await query<{ role: string }>(target.client, loadSql('doctor/roles-exist.sql'), [needed.map((r) => r.role)], 'look up roles on the target')).map((r) => r.role),
    );
    const missing = needed.filter((r) => !existing.has(r.role)).map((r) => r.role);
    const evidence = { canCreate, needed: needed.map((r) => ({ role: r.role, via: r.via })), missing };
    if (missing.length === 0) {
      return { status: 'pass', detail: needed.length ? `roles named by policies and grants already exist: ${needed.map((r) => r.role).join(', ')}` : 'no roles need creating', evidence };
    }
    if (canCreate) return { status: 'pass', detail: `will create ${missing.join(', ')} (NOLOGIN) as ${f.current_user} (${why})`, evidence };
    // The copy creates these (RLS policies and grants name them): without CREATEROLE it cannot.
    return {
      status: 'fail',
      detail: `${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist on the target, policies or grants name ${missing.length === 1 ? 'it' : 'them'}, and ${f.current_user} cannot create roles (${why})`,
      hint: `have an administrator run the SQL below once (or ALTER ROLE "${f.current_user}" CREATEROLE); then rerun doctor`,
      evidence,
      adminSql: missing.map((r) => `CREATE ROLE ${quoteIdent(r)} NOLOGIN NOINHERIT${r === 'service_role' ? ' BYPASSRLS' : ''};`),
    };
  },
};
