-- Owners of the objects in the copied schemas ($1), each with the ALTER statement that gives
-- it to another role on the target (the role name is appended by the caller). Tables left out
-- by --exclude-table ($2 schemas, $3 names) are skipped.
SELECT r.rolname AS owner, format('ALTER SCHEMA %I OWNER TO ', n.nspname) AS stmt
  FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
 WHERE n.nspname = ANY ($1::text[])
UNION ALL
SELECT r.rolname, format('ALTER %s %I.%I OWNER TO ',
         CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                        WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_roles r ON r.oid = c.relowner
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND n.nspname = ANY ($1::text[])
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
   -- tables (and their sequences) left out by --exclude-table: $2 schemas and $3 names, pairwise
   AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS x(s, r) WHERE x.s = n.nspname AND x.r = c.relname)
   -- sequences owned by a column follow their table
   AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                          AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
UNION ALL
SELECT r.rolname, format('ALTER ROUTINE %I.%I(%s) OWNER TO ', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_roles r ON r.oid = p.proowner
 WHERE n.nspname = ANY ($1::text[])
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT r.rolname, format('ALTER TYPE %I.%I OWNER TO ', n.nspname, t.typname)
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_roles r ON r.oid = t.typowner
 WHERE t.typtype IN ('e', 'd', 'c', 'r') AND n.nspname = ANY ($1::text[])
   AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e');
