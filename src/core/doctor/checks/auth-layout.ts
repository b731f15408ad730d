/**
 * `target.auth-layout`: can the target hold the users `auth migrate` brings home? Either the role
 * may create the `auth` schema and its tables, or the users table already exists in offramp's shape
 * (GoTrue's column names, which the user's functions, triggers and policies name unchanged).
 */
import type { Check, CheckOutcome } from '../../../checks/types.js';
import { loadSql, query } from '../../../db/sql.js';
import { quoteIdent } from '../../../db/sql-parse.js';
import { unavailable, type DoctorContext, type ReadySide } from '../context.js';
import { displayName, KEEP_LAYOUT } from '../../auth/layout.js';
import { plannedTables, shapeProblems } from '../../auth/tables.js';

type ShapeRow = NonNullable<Parameters<typeof shapeProblems>[1]>;

export const targetAuthLayoutCheck: Check<DoctorContext> = {
  id: 'target.auth-layout',
  title: 'Target can hold the auth users',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.target);
    if (skip) return skip;
    if (ctx.source.client) {
      const [src] = await query<{ present: boolean }>(ctx.source.client, "SELECT to_regclass('auth.users') IS NOT NULL AS present", [], 'look for auth.users');
      if (!src?.present) return { status: 'skip', detail: 'the source has no auth.users: nothing for auth migrate to bring' };
    }
    const target = ctx.target as ReadySide;
    const f = target.facts;
    // The same judgement auth migrate makes before it writes (a10's shapeProblems), for the keep layout.
    const existing: string[] = [];
    const problems: string[] = [];
    for (const planned of plannedTables(KEEP_LAYOUT, ['users'])) {
      const [shape] = await query<ShapeRow>(target.client, loadSql('auth/table-shape.sql'), [planned.table.schema, planned.table.name], 'read the target auth tables');
      if (!shape) continue;
      existing.push(displayName(planned.table));
      problems.push(...shapeProblems(planned, shape).map((p) => `${displayName(planned.table)}: ${p}`));
    }
    const [r] = await query<{ schema_exists: boolean; can_create_in_schema: boolean }>(target.client, loadSql('doctor/auth-layout-target.sql'), ['auth'], 'read the target auth schema');
    const evidence = { schemaExists: r!.schema_exists, canCreateInSchema: r!.can_create_in_schema, existing };
    if (problems.length) {
      return {
        status: 'fail',
        detail: `the target already has auth tables that are not offramp's shape: ${problems.join('; ')}`,
        hint: 'auth migrate never writes into a foreign table: rename or drop it, or use --layout table --users-table <another table>',
        evidence: { ...evidence, problems },
      };
    }
    if (existing.length === 2) return { status: 'pass', detail: "auth.users and auth.identities exist in offramp's shape: auth migrate upserts into them", evidence };
    const who = quoteIdent(f.current_user);
    if (r!.schema_exists) {
      if (r!.can_create_in_schema) return { status: 'pass', detail: `${f.current_user} can create auth.users and auth.identities in the existing schema auth`, evidence };
      return {
        status: 'fail',
        detail: `schema auth exists but ${f.current_user} may not create tables in it`,
        hint: 'an administrator grants CREATE on schema auth, or use --layout table',
        adminSql: [`GRANT USAGE, CREATE ON SCHEMA auth TO ${who};`],
        evidence,
      };
    }
    if (f.can_create_schema) return { status: 'pass', detail: `${f.current_user} can create schema auth with auth.users and auth.identities`, evidence };
    return {
      status: 'fail',
      detail: `${f.current_user} may not create schema auth on ${f.database}`,
      hint: 'an administrator creates the schema for the role once, or use --layout table',
      adminSql: [`CREATE SCHEMA auth AUTHORIZATION ${who};`],
      evidence,
    };
  },
};
