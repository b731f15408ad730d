-- Attributes of the named roles on the source (no passwords: offramp never copies them).
SELECT rolname AS name, rolsuper AS superuser, rolinherit AS inherit, rolcreaterole AS createrole,
       rolcreatedb AS createdb, rolcanlogin AS login, rolreplication AS replication,
       rolbypassrls AS bypassrls, rolconnlimit AS connlimit
  FROM pg_roles
 WHERE rolname = ANY ($1::text[]);
