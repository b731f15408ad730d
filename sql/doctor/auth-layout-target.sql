-- Can the role create auth migrate's tables in schema $1? Whether the schema exists and the role
-- may create in it (creating the schema itself needs CREATE on the database: server-facts).
SELECT n.oid IS NOT NULL AS schema_exists,
       coalesce(has_schema_privilege(n.oid, 'CREATE'), false) AS can_create_in_schema
  FROM (SELECT 1) AS one
  LEFT JOIN pg_catalog.pg_namespace AS n ON n.nspname = $1;
