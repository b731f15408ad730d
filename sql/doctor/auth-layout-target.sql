-- Can the target hold auth migrate's keep layout ($1 = the users table's schema, $2 = its name)?
-- The table's columns when it exists; otherwise whether the schema exists and the role may create
-- in it (or create it: CREATE on the database, checked in server-facts).
SELECT n.oid IS NOT NULL AS schema_exists,
       coalesce(has_schema_privilege(n.oid, 'CREATE'), false) AS can_create_in_schema,
       c.oid IS NOT NULL AS table_exists,
       coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum)
                   FROM pg_catalog.pg_attribute AS a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}') AS columns
  FROM (SELECT 1) AS one
  LEFT JOIN pg_catalog.pg_namespace AS n ON n.nspname = $1
  LEFT JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = $2 AND c.relkind IN ('r', 'p');
