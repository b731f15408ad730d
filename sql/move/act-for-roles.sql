-- Of the roles $1, those the connecting role may act for (ALTER DEFAULT PRIVILEGES FOR ROLE,
-- OWNER TO): a superuser any (also one the load is about to create); anyone else itself and the
-- roles it is a member of.
SELECT r AS role
  FROM unnest($1::text[]) AS r
 WHERE (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
    OR EXISTS (SELECT 1 FROM pg_roles x WHERE x.rolname = r AND pg_has_role(current_user, x.oid, 'MEMBER'))
 ORDER BY 1;
