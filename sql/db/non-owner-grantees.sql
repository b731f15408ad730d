-- Grantees other than the owner in a relation's ACL (PUBLIC as grantee 0), quoted for REVOKE.
-- $1: the relation (schema-qualified text, cast to regclass).
SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END AS grantee
  FROM pg_class AS c
 CROSS JOIN LATERAL aclexplode(c.relacl) AS a
  LEFT JOIN pg_roles AS r ON r.oid = a.grantee
 WHERE c.oid = $1::regclass
   AND a.grantee <> c.relowner
 ORDER BY 1;
