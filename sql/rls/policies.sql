-- Every policy with its table, command, roles (catalog order), kind and expressions. Run with
-- search_path = '' so that pg_get_expr qualifies every name the expressions use.
SELECT n.nspname AS schema, c.relname AS "table", p.polname AS name,
       CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
       ARRAY(SELECT CASE WHEN u.r = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(u.r)::text END
               FROM unnest(p.polroles) WITH ORDINALITY AS u(r, i) ORDER BY u.i) AS roles,
       p.polpermissive AS permissive,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using,
       pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,
       -- the functions the expressions call, resolved by the server itself (overloads included)
       ARRAY(SELECT DISTINCT d.refobjid::oid FROM pg_catalog.pg_depend d
              WHERE d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass AND d.objid = p.oid
                AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass) AS function_oids
  FROM pg_catalog.pg_policy p
  JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 ORDER BY 1, 2, 3
