-- doctor: for each schema name $1, whether it exists on this server and whether the connecting
-- role has USAGE and CREATE on it (tables fail with "permission denied for schema" without them).
SELECT s AS schema,
       n.oid IS NOT NULL AS present,
       coalesce(has_schema_privilege(n.oid, 'USAGE'), false) AS can_use,
       coalesce(has_schema_privilege(n.oid, 'CREATE'), false) AS can_create,
       coalesce(pg_get_userbyid(n.nspowner), '') AS owner
  FROM unnest($1::text[]) AS s
  LEFT JOIN pg_namespace n ON n.nspname = s
 ORDER BY 1;
