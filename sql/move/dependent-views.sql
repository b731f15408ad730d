-- Views and materialized views that read the given relations ($1: OIDs), directly or through other
-- such views: left out with an excluded table, since they could never be created without it.
WITH RECURSIVE dependent(oid) AS (
  SELECT unnest($1::oid[])
  UNION
  SELECT r.ev_class
    FROM dependent d
    JOIN pg_depend dep ON dep.refclassid = 'pg_class'::regclass AND dep.refobjid = d.oid AND dep.classid = 'pg_rewrite'::regclass
    JOIN pg_rewrite r ON r.oid = dep.objid
   WHERE r.ev_class <> d.oid
)
SELECT n.nspname AS schema, c.relname AS name
  FROM dependent d
  JOIN pg_class c ON c.oid = d.oid AND c.relkind IN ('v', 'm')
  JOIN pg_namespace n ON n.oid = c.relnamespace
 ORDER BY 1, 2;
