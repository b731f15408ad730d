-- Roles that own objects in project schemas (not in $1), are granted privileges on them (ACLs and
-- default privileges), or are named by policies ($2: platform schemas whose policies count too).
-- pg_roles is readable by every role; passwords are never selected.
-- $1: text[] managed schemas; $2: text[] platform schemas.
WITH user_ns AS (
  SELECT oid, nspname, nspowner, nspacl FROM pg_namespace
   WHERE nspname <> ALL($1::text[]) AND nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_'
),
not_member AS (
  SELECT classid, objid FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
),
owners AS (
  SELECT nspowner AS role FROM user_ns
  UNION ALL
  SELECT c.relowner FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
     AND NOT EXISTS (SELECT 1 FROM not_member m WHERE m.classid = 'pg_class'::regclass AND m.objid = c.oid)
  UNION ALL
  SELECT p.proowner FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace
   WHERE NOT EXISTS (SELECT 1 FROM not_member m WHERE m.classid = 'pg_proc'::regclass AND m.objid = p.oid)
  UNION ALL
  SELECT t.typowner FROM pg_type t JOIN user_ns n ON n.oid = t.typnamespace
   WHERE t.typtype IN ('e', 'd', 'r', 'm') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
),
acls AS (
  SELECT nspacl AS acl FROM user_ns
  UNION ALL
  SELECT c.relacl FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
     AND NOT EXISTS (SELECT 1 FROM not_member m WHERE m.classid = 'pg_class'::regclass AND m.objid = c.oid)
  UNION ALL
  SELECT p.proacl FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace
   WHERE NOT EXISTS (SELECT 1 FROM not_member m WHERE m.classid = 'pg_proc'::regclass AND m.objid = p.oid)
  UNION ALL
  SELECT da.defaclacl FROM pg_default_acl da WHERE da.defaclnamespace = 0 OR da.defaclnamespace IN (SELECT oid FROM user_ns)
),
grantees AS (
  -- an owner's own entry in an explicit ACL is not a grant
  SELECT a.grantee AS role FROM acls, aclexplode(acls.acl) AS a WHERE acls.acl IS NOT NULL AND a.grantee <> a.grantor
),
policy_roles AS (
  SELECT unnest(pol.polroles) AS role
    FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.oid IN (SELECT oid FROM user_ns) OR n.nspname = ANY($2::text[])
),
usage AS (
  SELECT role, count(*) FILTER (WHERE src = 'o') AS owns, count(*) FILTER (WHERE src = 'g') AS grants,
         count(*) FILTER (WHERE src = 'p') AS policies
    FROM (SELECT role, 'o' AS src FROM owners UNION ALL SELECT role, 'g' FROM grantees UNION ALL SELECT role, 'p' FROM policy_roles) u
   WHERE role <> 0
   GROUP BY role
)
SELECT r.rolname AS name, r.rolcanlogin AS login, r.rolsuper AS superuser, r.rolbypassrls AS bypass_rls,
       r.rolcreaterole AS create_role, r.rolcreatedb AS create_db, r.rolreplication AS replication, r.rolinherit AS inherit,
       ARRAY(SELECT g.rolname::text FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid
              WHERE am.member = r.oid ORDER BY 1) AS member_of,
       u.owns::int AS owns, u.grants::int AS grants, u.policies::int AS policies
  FROM usage u JOIN pg_roles r ON r.oid = u.role
 ORDER BY r.rolname;
