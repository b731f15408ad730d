-- Which of the platform tables inspect reads exist, and whether the connecting role may read them
-- (SELECT on the table and USAGE on its schema). Looked up by name in the catalogs, because
-- to_regclass() raises an error when the role lacks USAGE on the schema.
-- $1: text[] of `schema.table` names.
SELECT t.name, c.oid::int8 AS oid, c.oid IS NOT NULL AS present,
       coalesce(has_table_privilege(c.oid, 'SELECT') AND has_schema_privilege(n.oid, 'USAGE'), false) AS readable
  FROM unnest($1::text[]) AS t(name)
  LEFT JOIN pg_namespace n ON n.nspname = split_part(t.name, '.', 1)
  LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = split_part(t.name, '.', 2) AND c.relkind IN ('r', 'p');
