-- doctor: roles that user objects name in RLS policies or grants (the target needs them to exist).
-- The owner's own grants are left out: owners are mapped to the target's role, not recreated.
-- $1: schemas to ignore (platform-managed).
WITH user_relations AS (
  SELECT c.oid, c.relowner, c.relacl
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    AND n.nspname NOT LIKE 'pg\_%'
    AND n.nspname <> 'information_schema'
    AND n.nspname <> ALL ($1::text[])
),
grants AS (
  SELECT r.relowner, (aclexplode(r.relacl)).grantee AS grantee
  FROM user_relations r
  WHERE r.relacl IS NOT NULL
),
named AS (
  SELECT unnest(p.polroles) AS roleid, 'policy' AS via
  FROM pg_policy p JOIN user_relations r ON r.oid = p.polrelid
  UNION ALL
  SELECT g.grantee, 'grant' FROM grants g WHERE g.grantee <> g.relowner
)
SELECT a.rolname AS role, array_agg(DISTINCT named.via ORDER BY named.via) AS via
FROM named
JOIN pg_roles a ON a.oid = named.roleid
GROUP BY a.rolname
ORDER BY a.rolname;
