/**
 * What the move tests compare between a source and a target database: exact row counts and a
 * content hash per table (computed by the servers with pinned settings), and a fingerprint of
 * the schema objects (columns, indexes, constraints, sequences, views, functions, triggers,
 * policies, RLS flags) of the given schemas.
 */
import { withClient } from '../../src/db/connect.js';

export const PIN = `SET search_path = pg_catalog; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET bytea_output = 'hex'`;

export interface TableState {
  rows: number;
  hash: string;
}

/** count(*) and an order-independent md5 over every row's text, per ordinary table or partition. */
export async function tableStates(url: string, schemas: string[]): Promise<Record<string, TableState>> {
  return withClient(url, { role: 'admin' }, async (c) => {
    await c.query(PIN);
    const { rows: tables } = await c.query<{ t: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname = ANY ($1)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY 1`,
      [schemas],
    );
    const out: Record<string, TableState> = {};
    for (const { t } of tables) {
      const { rows } = await c.query<{ n: string; h: string | null }>(
        `SELECT count(*) AS n, md5(string_agg(x, ',' ORDER BY x)) AS h FROM (SELECT md5(r::text) AS x FROM ONLY ${t} r) s`,
      );
      out[t] = { rows: Number(rows[0]!.n), hash: rows[0]!.h ?? 'empty' };
    }
    return out;
  });
}

/** One line per schema object of the given schemas, comparable across servers. */
export async function schemaFingerprint(url: string, schemas: string[]): Promise<string[]> {
  return withClient(url, { role: 'admin' }, async (c) => {
    // Deparsed SQL depends on search_path (the fixture sets one for role postgres): qualify everything.
    await c.query('SET search_path = pg_catalog');
    const { rows } = await c.query<{ line: string }>(
      `SELECT 'column ' || table_schema || '.' || table_name || '.' || column_name || ' ' || data_type || ' ' || udt_name || ' null=' || is_nullable
              || ' generated=' || coalesce(generation_expression, '') || ' identity=' || is_identity AS line
         FROM information_schema.columns WHERE table_schema = ANY ($1)
       -- A default is its own line: a copy may defer a default (it calls what stays behind) and keep the column.
       UNION ALL SELECT 'default ' || table_schema || '.' || table_name || '.' || column_name || ' ' || column_default
         FROM information_schema.columns WHERE table_schema = ANY ($1) AND column_default IS NOT NULL
       UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = ANY ($1)
       UNION ALL SELECT format('constraint %s %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid), convalidated)
         FROM pg_constraint WHERE connamespace::regnamespace::text = ANY ($1)
       UNION ALL SELECT format('trigger %s %s %s', tgrelid::regclass, tgname, pg_get_triggerdef(oid)) FROM pg_trigger
         WHERE NOT tgisinternal AND tgrelid::regclass::text NOT LIKE 'auth.%' AND (SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = tgrelid) = ANY ($1)
       UNION ALL SELECT format('policy %s.%s %s %s %s %s %s', schemaname, tablename, policyname, cmd, roles, qual, with_check) FROM pg_policies WHERE schemaname = ANY ($1)
       UNION ALL SELECT format('rls %s %s %s', oid::regclass, relrowsecurity, relforcerowsecurity) FROM pg_class
         WHERE relkind IN ('r','p') AND relnamespace::regnamespace::text = ANY ($1)
       UNION ALL SELECT format('sequence %s.%s %s', schemaname, sequencename, last_value) FROM pg_sequences WHERE schemaname = ANY ($1)
       UNION ALL SELECT format('view %s.%s %s', schemaname, viewname, md5(definition)) FROM pg_views WHERE schemaname = ANY ($1)
       UNION ALL SELECT format('function %s(%s) %s %s', p.oid::regproc, pg_get_function_identity_arguments(p.oid), p.prosecdef, md5(p.prosrc))
         FROM pg_proc p WHERE p.pronamespace::regnamespace::text = ANY ($1)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
       UNION ALL SELECT format('type %s %s', t.oid::regtype, t.typtype) FROM pg_type t
         WHERE t.typnamespace::regnamespace::text = ANY ($1) AND t.typtype IN ('e', 'd')
       ORDER BY 1`,
      [schemas],
    );
    return rows.map((r) => r.line);
  });
}

export async function sql<T extends Record<string, unknown> = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  return withClient(url, { role: 'admin' }, async (c) => (await c.query<T>(text, values)).rows);
}
