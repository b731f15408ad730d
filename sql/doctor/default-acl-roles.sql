-- doctor: roles whose default privileges (ALTER DEFAULT PRIVILEGES FOR ROLE r IN SCHEMA s) the
-- copy carries: pg_dump with a schema selection dumps those of the copied schemas only.
-- $1: schemas that belong to the platform (not copied).
SELECT r.rolname AS role, array_agg(DISTINCT n.nspname ORDER BY n.nspname) AS schemas
  FROM pg_default_acl d
  JOIN pg_roles r ON r.oid = d.defaclrole
  JOIN pg_namespace n ON n.oid = d.defaclnamespace
 WHERE n.nspname NOT LIKE 'pg\_%'
   AND n.nspname <> 'information_schema'
   AND n.nspname <> ALL ($1::text[])
 GROUP BY r.rolname
 ORDER BY r.rolname;
