-- Every object of the project's own schemas ($1: the managed schemas, left out) that depends on
-- auth.users or auth.identities: foreign keys into them, triggers on them calling the project's
-- functions, views and materialized views reading them (pg_depend of their rewrite rule), and the
-- project's SQL and PL/pgSQL functions (which of those name the tables is read from their bodies
-- by the parser: PostgreSQL records no dependency for a function body). DDL is the server's own
-- deparse, read with search_path = pg_catalog so that every name comes out schema-qualified.
WITH gotrue AS (
  SELECT c.oid, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'auth' AND c.relname IN ('users', 'identities')
)
SELECT 'foreign-key' AS kind, n.nspname AS schema, rel.relname AS relation, con.conname AS name,
       rel.relkind = 'p' AS partitioned, NULL::boolean AS populated,
       pg_catalog.format('ALTER TABLE %s %I.%I ADD CONSTRAINT %I %s', CASE WHEN rel.relkind = 'p' THEN '' ELSE 'ONLY' END,
                         n.nspname, rel.relname, con.conname, pg_catalog.pg_get_constraintdef(con.oid)) AS ddl,
       pg_catalog.obj_description(con.oid, 'pg_constraint') AS comment, NULL::text AS identity, NULL::text AS trigger_function
  FROM pg_catalog.pg_constraint con
  JOIN pg_catalog.pg_class rel ON rel.oid = con.conrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = rel.relnamespace
 WHERE con.contype = 'f' AND con.confrelid IN (SELECT oid FROM gotrue) AND con.conparentid = 0
   AND NOT (n.nspname = ANY ($1::text[]))
UNION ALL
SELECT 'trigger', 'auth', g.relname, t.tgname, false, NULL, pg_catalog.pg_get_triggerdef(t.oid),
       pg_catalog.obj_description(t.oid, 'pg_trigger'), NULL, pg_catalog.pg_get_functiondef(p.oid)
  FROM pg_catalog.pg_trigger t
  JOIN gotrue g ON g.oid = t.tgrelid
  JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
  JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
 WHERE NOT t.tgisinternal AND NOT (pn.nspname = ANY ($1::text[]))
UNION ALL
SELECT DISTINCT CASE v.relkind WHEN 'm' THEN 'materialized-view' ELSE 'view' END, n.nspname, v.relname, v.relname, false,
       v.relispopulated, NULL, NULL, NULL, NULL
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND r.oid = d.objid
  JOIN pg_catalog.pg_class v ON v.oid = r.ev_class
  JOIN pg_catalog.pg_namespace n ON n.oid = v.relnamespace
 WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid IN (SELECT oid FROM gotrue)
   AND v.relkind IN ('v', 'm') AND NOT (n.nspname = ANY ($1::text[]))
UNION ALL
SELECT 'function', n.nspname, NULL, p.proname, false, NULL, pg_catalog.pg_get_functiondef(p.oid), NULL, p.oid::pg_catalog.regprocedure::text, NULL
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_catalog.pg_language l ON l.oid = p.prolang
 WHERE l.lanname IN ('sql', 'plpgsql') AND p.prokind IN ('f', 'p')
   AND NOT (n.nspname = ANY ($1::text[])) AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND e.objid = p.oid AND e.deptype = 'e')
ORDER BY 1, 2, 3, 4
