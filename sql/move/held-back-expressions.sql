-- Column defaults and CHECK constraints in the schemas being copied ($1) whose expression depends
-- (pg_depend) on something that stays behind: an object of a left-behind schema ($2, e.g. auth.uid())
-- that no extension brings along, or a member of an extension the target never gets ($3, the
-- platform-only ones, e.g. pgjwt's extensions.sign). The table is created without them and they are
-- deferred with the reason: one rule, whatever the object is.
-- Generated columns are left out (their expression is the column's value, not a default), and so
-- are inherited CHECKs (pg_dump writes only a table's own ones into its CREATE TABLE).
WITH held AS (
  SELECT 'default' AS kind, ad.adrelid AS relid, a.attname::text AS column_name, NULL::text AS constraint_name,
         pg_get_expr(ad.adbin, ad.adrelid) AS expression, 'pg_attrdef'::regclass AS classid, ad.oid AS objid
    FROM pg_attrdef ad
    JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum AND a.attgenerated = ''
  UNION ALL
  SELECT 'check', co.conrelid, NULL, co.conname::text, pg_get_constraintdef(co.oid), 'pg_constraint'::regclass, co.oid
    FROM pg_constraint co
   WHERE co.contype = 'c' AND co.conrelid <> 0 AND co.conislocal
),
stays AS (
  SELECT h.classid, h.objid,
         -- for the reason only: plain names (the query runs with quote_all_identifiers on)
         array_agg(DISTINCT CASE d.refclassid
                              WHEN 'pg_proc'::regclass THEN (SELECT format('%s.%s()', pn.nspname, p.proname) FROM pg_proc p
                                                               JOIN pg_namespace pn ON pn.oid = p.pronamespace WHERE p.oid = d.refobjid)
                              WHEN 'pg_class'::regclass THEN (SELECT format('%s %s.%s', io.type, cn.nspname, c.relname) FROM pg_class c
                                                                JOIN pg_namespace cn ON cn.oid = c.relnamespace WHERE c.oid = d.refobjid)
                              ELSE format('%s %s', io.type, io.identity) END) AS depends_on,
         array_remove(array_agg(DISTINCT e.extname::text), NULL) AS extensions
    FROM held h
    JOIN pg_depend d ON d.classid = h.classid AND d.objid = h.objid AND d.deptype = 'n'
    CROSS JOIN LATERAL pg_identify_object(d.refclassid, d.refobjid, 0) io
    -- the schema by name (io.schema is quoted under quote_all_identifiers)
    LEFT JOIN pg_class rc ON d.refclassid = 'pg_class'::regclass AND rc.oid = d.refobjid
    LEFT JOIN pg_proc rp ON d.refclassid = 'pg_proc'::regclass AND rp.oid = d.refobjid
    LEFT JOIN pg_type rt ON d.refclassid = 'pg_type'::regclass AND rt.oid = d.refobjid
    LEFT JOIN pg_namespace rn ON rn.oid = coalesce(rc.relnamespace, rp.pronamespace, rt.typnamespace)
    LEFT JOIN pg_depend m ON m.classid = d.refclassid AND m.objid = d.refobjid AND m.deptype = 'e'
    LEFT JOIN pg_extension e ON e.oid = m.refobjid
   WHERE (e.oid IS NULL AND rn.nspname = ANY ($2::text[])) OR e.extname = ANY ($3::text[])
   GROUP BY 1, 2
)
SELECT h.kind, n.nspname AS schema, c.relname AS table_name, h.column_name, h.constraint_name, h.expression,
       s.depends_on, s.extensions
  FROM held h
  JOIN stays s ON s.classid = h.classid AND s.objid = h.objid
  JOIN pg_class c ON c.oid = h.relid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY ($1::text[])
 ORDER BY 2, 3, 1, 4, 5;
