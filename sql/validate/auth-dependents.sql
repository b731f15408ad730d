-- Objects of the project whose only references into the left-behind schemas are the auth tables
-- `auth migrate` brings home: foreign keys into auth.users (through its primary key index too)
-- and views reading auth.users / auth.identities. With the auth mapping these are on the target
-- and compared like everything else, no longer expected to be missing.
-- $1: text[] left-behind schemas; $2: text[] the brought-home tables (schema.table on the source)
WITH mapped AS (
  SELECT to_regclass(x) AS oid FROM unnest($2::text[]) AS x
),
dep AS (
  SELECT d.classid, d.objid,
         bool_and(rc.oid IS NOT NULL
                  AND coalesce((SELECT ix.indrelid FROM pg_index ix WHERE ix.indexrelid = rc.oid), rc.oid) IN (SELECT oid FROM mapped)) AS only_mapped
    FROM pg_depend d
    LEFT JOIN pg_class rc ON d.refclassid = 'pg_class'::regclass AND rc.oid = d.refobjid
    LEFT JOIN pg_proc rp ON d.refclassid = 'pg_proc'::regclass AND rp.oid = d.refobjid
    LEFT JOIN pg_type rt ON d.refclassid = 'pg_type'::regclass AND rt.oid = d.refobjid
    JOIN pg_namespace rn ON rn.oid = coalesce(rc.relnamespace, rp.pronamespace, rt.typnamespace)
   WHERE rn.nspname = ANY ($1::text[])
     AND d.classid IN ('pg_constraint'::regclass, 'pg_rewrite'::regclass)
   GROUP BY 1, 2
)
SELECT 'constraints' AS category, format('%I.%I.%I', n.nspname, c.relname, co.conname) AS object
  FROM dep
  JOIN pg_constraint co ON dep.classid = 'pg_constraint'::regclass AND co.oid = dep.objid
  JOIN pg_class c ON c.oid = co.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE dep.only_mapped AND n.nspname <> ALL ($1::text[])
UNION ALL
SELECT 'views', format('%I.%I', n.nspname, c.relname)
  FROM dep
  JOIN pg_rewrite rw ON dep.classid = 'pg_rewrite'::regclass AND rw.oid = dep.objid
  JOIN pg_class c ON c.oid = rw.ev_class
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE dep.only_mapped AND n.nspname <> ALL ($1::text[])
 ORDER BY 1, 2;
