-- doctor: tables and sequences the connecting role could not read during a copy.
-- $1: schemas to look at other than user schemas (e.g. auth, storage); $2: schemas to ignore;
-- $3: qualified names left out on purpose (platform migration bookkeeping).
SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
       n.nspname = ANY ($1::text[]) AS managed
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'S')
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  AND (n.nspname = ANY ($1::text[]) OR n.nspname <> ALL ($2::text[]))
  AND (n.nspname || '.' || c.relname) <> ALL ($3::text[])
  AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid AND x.deptype = 'e')
  AND NOT has_table_privilege(c.oid, 'SELECT')
ORDER BY managed, n.nspname, c.relname;
