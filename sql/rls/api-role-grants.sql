-- Table privileges the API roles hold on the given tables ($1: 'schema.table' list, unquoted).
SELECT n.nspname AS schema, c.relname AS "table", pg_catalog.pg_get_userbyid(a.grantee) AS grantee, a.privilege_type AS privilege
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace,
       LATERAL aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) AS a
 WHERE n.nspname || '.' || c.relname = ANY ($1::text[])
   AND a.grantee IN (SELECT oid FROM pg_catalog.pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role'))
 ORDER BY 1, 2, 3, 4
