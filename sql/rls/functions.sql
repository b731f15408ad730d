-- Functions by oid ($1 oid[]), outside extensions and pg_catalog: what a policy calls.
SELECT p.oid::oid AS oid, n.nspname AS schema, p.proname AS name,
       pg_catalog.pg_get_function_identity_arguments(p.oid) AS args, p.pronargs AS nargs,
       l.lanname AS language, p.prosecdef AS security_definer, p.prosrc AS body,
       pg_catalog.pg_get_functiondef(p.oid) AS definition, pg_catalog.pg_get_userbyid(p.proowner) AS owner,
       coalesce((SELECT substr(s, length('search_path=') + 1) FROM unnest(p.proconfig) AS s WHERE s LIKE 'search_path=%'), NULL) AS search_path
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_catalog.pg_language l ON l.oid = p.prolang
 WHERE p.oid = ANY ($1::oid[]) AND n.nspname <> 'pg_catalog' AND p.prokind = 'f'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid AND d.deptype = 'e')
