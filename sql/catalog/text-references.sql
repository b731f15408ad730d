-- Text fallback for views, column defaults and policies: `schema.name` occurrences of the platform
-- schemas $2 in their definitions (pg_depend already covers most; this catches what it cannot,
-- e.g. names inside dynamic SQL strings). Project objects only: schemas not in $1, plus policies
-- on tables of the $2 schemas.
-- $1: text[] managed schemas; $2: text[] platform schemas.
WITH src AS (
  SELECT CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END AS kind, n.nspname AS schema, c.relname AS name,
         NULL::text AS table_schema, NULL::text AS table_name, pg_get_viewdef(c.oid) AS def
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('v', 'm') AND n.nspname <> ALL($1::text[])
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                       AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')
  UNION ALL
  SELECT 'default', n.nspname, c.relname || '.' || a.attname, n.nspname, c.relname, pg_get_expr(ad.adbin, ad.adrelid)
    FROM pg_attrdef ad JOIN pg_class c ON c.oid = ad.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
   WHERE n.nspname <> ALL($1::text[]) AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
     AND NOT c.relispartition
  UNION ALL
  SELECT 'policy', n.nspname, pol.polname, n.nspname, c.relname,
         concat_ws(' ', pg_get_expr(pol.polqual, pol.polrelid), pg_get_expr(pol.polwithcheck, pol.polrelid))
    FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE (n.nspname <> ALL($1::text[]) AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_')
      OR n.nspname = ANY($2::text[])
)
SELECT kind, schema, name, table_schema, table_name,
       ARRAY(SELECT DISTINCT lower(m[1]) || '.' || lower(m[2]) || CASE WHEN m[3] = '(' THEN '()' ELSE '' END
               FROM regexp_matches(def, '"?\m([A-Za-z_][A-Za-z0-9_]*)"?\s*\.\s*"?([A-Za-z_][A-Za-z0-9_$]*)"?\s*(\(?)', 'g') AS m
              WHERE lower(m[1]) = ANY($2::text[])
              ORDER BY 1) AS platform_refs
  FROM src
 WHERE def ~* '(auth|storage)'
 ORDER BY kind, schema, name;
