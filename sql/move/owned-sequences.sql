-- Sequences owned by the given tables ($1: table OIDs): serial columns' sequences (OWNED BY,
-- dependency 'a') and identity columns' sequences (dependency 'i').
SELECT n.nspname AS schema, s.relname AS name
  FROM pg_depend d
  JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
  JOIN pg_namespace n ON n.oid = s.relnamespace
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
   AND d.deptype IN ('a', 'i')
   AND d.refobjid = ANY ($1::oid[])
 ORDER BY 1, 2;
