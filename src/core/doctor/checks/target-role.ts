/**
 * A target role that is not a superuser (typically the database owner, with PostGIS and the
 * `extensions` schema prepared once by an administrator): the schemas the extensions live in must
 * be usable by it, and default privileges can only be carried for roles it may act for.
 */
import type { Check, CheckOutcome } from '../../../checks/types.js';
import { loadSql, query } from '../../../db/sql.js';
import { quoteIdent } from '../../../db/sql-parse.js';
import { MANAGED_SCHEMAS } from '../../supabase/platform.js';
import { unavailable, type DoctorContext, type ReadySide } from '../context.js';
import { planExtensions, sourceExtensions, targetAvailableExtensions, targetSchemaOf } from './extensions.js';

interface SchemaPrivileges {
  schema: string;
  present: boolean;
  can_use: boolean;
  can_create: boolean;
  owner: string;
}

/**
 * `target.extensions-schema`: every schema the carried extensions live in exists and the role has
 * USAGE and CREATE on it (the copied tables' column types and defaults name it: without USAGE,
 * "permission denied for schema extensions"). A schema that must hold an extension only an
 * administrator can create is created by that administrator, owned by the role.
 */
export const targetExtensionsSchemaCheck: Check<DoctorContext> = {
  id: 'target.extensions-schema',
  title: 'Extension schemas usable',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.source) ?? unavailable(ctx.target);
    if (skip) return skip;
    const target = ctx.target as ReadySide;
    const f = target.facts;
    const plan = planExtensions(await sourceExtensions(ctx, ctx.source as ReadySide), await targetAvailableExtensions(ctx, target), f.is_superuser);
    const carried = [...plan.toCreate, ...plan.alreadyInstalled];
    const schemas = [...new Set(carried.map((e) => targetSchemaOf(ctx, e)))].sort();
    if (schemas.length === 0) return { status: 'pass', detail: 'no extension schema needed', evidence: { schemas } };
    if (f.is_superuser) return { status: 'pass', detail: `${f.current_user} is a superuser: ${schemas.join(', ')} usable`, evidence: { schemas } };
    const rows = await query<SchemaPrivileges>(target.client, loadSql('doctor/schema-privileges.sql'), [schemas], 'schema privileges on the target');
    // Schemas an administrator must create: one of its extensions needs a superuser.
    const adminMade = new Set(plan.toCreate.filter((e) => !e.trusted).map((e) => targetSchemaOf(ctx, e)));
    const role = quoteIdent(f.current_user);
    const problems: string[] = [];
    const adminSql: string[] = [];
    for (const r of rows) {
      if (!r.present) {
        if (adminMade.has(r.schema)) {
          problems.push(`schema ${r.schema} does not exist, and an administrator must create extensions in it`);
          adminSql.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(r.schema)} AUTHORIZATION ${role};`);
        } else if (!f.can_create_schema) {
          problems.push(`schema ${r.schema} does not exist and ${f.current_user} may not create it`);
          adminSql.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(r.schema)} AUTHORIZATION ${role};`);
        }
      } else if (!r.can_use || !r.can_create) {
        const lacking = [!r.can_use ? 'USAGE' : '', !r.can_create ? 'CREATE' : ''].filter(Boolean).join(' and ');
        problems.push(`${f.current_user} lacks ${lacking} on schema ${r.schema} (owner ${r.owner}): the copy would fail with "permission denied for schema ${r.schema}"`);
        adminSql.push(`GRANT USAGE, CREATE ON SCHEMA ${quoteIdent(r.schema)} TO ${role};`);
      }
    }
    const evidence = { schemas: rows.map((r) => ({ schema: r.schema, exists: r.present, usage: r.can_use, create: r.can_create, owner: r.owner || null })) };
    if (problems.length > 0) {
      return { status: 'fail', detail: problems.join('; '), hint: `have an administrator run the SQL below once on database ${f.database}; then rerun doctor`, evidence, adminSql };
    }
    return { status: 'pass', detail: `${f.current_user} may use and create in ${schemas.join(', ')}${rows.some((r) => !r.present) ? ' (created by the copy)' : ''}`, evidence };
  },
};

/**
 * `target.default-privileges`: `ALTER DEFAULT PRIVILEGES FOR ROLE r` runs only for a role the
 * target role may act for. Roles go through --owner-map; the rest are left out by the copy with a
 * warning (the copy still succeeds), so this is a WARN, not a FAIL.
 */
export const targetDefaultPrivilegesCheck: Check<DoctorContext> = {
  id: 'target.default-privileges',
  title: 'Default privileges carried',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.source) ?? unavailable(ctx.target);
    if (skip) return skip;
    const source = ctx.source as ReadySide;
    const target = ctx.target as ReadySide;
    const f = target.facts;
    const defaults = await query<{ role: string; schemas: string[] }>(source.client, loadSql('doctor/default-acl-roles.sql'), [[...MANAGED_SCHEMAS]], 'list default privileges');
    if (defaults.length === 0) return { status: 'pass', detail: 'the copied schemas set no default privileges', evidence: { roles: [] } };
    const mapped = defaults.map((d) => ({ ...d, on: ctx.settings.ownerMap[d.role] ?? d.role }));
    const actable = new Set((await query<{ role: string }>(target.client, loadSql('move/act-for-roles.sql'), [mapped.map((m) => m.on)], 'roles the target role can act for')).map((r) => r.role));
    const left = mapped.filter((m) => !actable.has(m.on));
    const evidence = { roles: mapped.map((m) => ({ role: m.role, onTarget: m.on, schemas: m.schemas, carried: actable.has(m.on) })) };
    if (left.length === 0) {
      return { status: 'pass', detail: `carried for ${mapped.map((m) => (m.on === m.role ? m.role : `${m.role} → ${m.on}`)).join(', ')}`, evidence };
    }
    return {
      status: 'warn',
      detail: `ALTER DEFAULT PRIVILEGES FOR ROLE ${left.map((m) => m.on).join(', ')} (schemas ${[...new Set(left.flatMap((m) => m.schemas))].join(', ')}) will be left out: ${f.current_user} cannot act for ${left.length === 1 ? 'that role' : 'those roles'} on the target`,
      hint: `copy with ${left.map((m) => `--owner-map ${m.role}=${f.current_user}`).join(' ')} to carry them for ${f.current_user}, or set them on the target yourself afterwards`,
      evidence,
    };
  },
};
