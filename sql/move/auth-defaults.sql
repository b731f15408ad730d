-- Column defaults in the schemas being copied ($1) that call functions of the managed schemas
-- ($2, e.g. auth.uid()): a plain target has no such function, so they are set after the fact.
SELECT n.nspname AS schema, c.relname AS table_name, a.attname AS column_name,
       pg_get_expr(ad.adbin, ad.adrelid) AS expression
  FROM pg_attrdef ad
  JOIN pg_class c ON c.oid = ad.adrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
 WHERE n.nspname = ANY ($1::text[])
   AND EXISTS (SELECT 1 FROM pg_depend d JOIN pg_proc p ON p.oid = d.refobjid
                 JOIN pg_namespace pn ON pn.oid = p.pronamespace
                WHERE d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                  AND d.refclassid = 'pg_proc'::regclass AND pn.nspname = ANY ($2::text[]))
 ORDER BY 1, 2, 3;
