-- doctor: extensions installed in this database, with the user objects that depend on them.
-- $1: schemas that belong to the platform (their objects are not counted as user objects).
WITH members AS (
  SELECT m.refobjid AS extoid, m.classid, m.objid
  FROM pg_depend m
  WHERE m.refclassid = 'pg_extension'::regclass AND m.deptype = 'e'
),
dependents AS (
  SELECT DISTINCT mb.extoid, d.classid, d.objid, d.objsubid
  FROM members mb
  JOIN pg_depend d ON d.refclassid = mb.classid AND d.refobjid = mb.objid AND d.deptype = 'n'
  WHERE d.classid IN ('pg_class'::regclass, 'pg_attrdef'::regclass, 'pg_rewrite'::regclass, 'pg_proc'::regclass,
                      'pg_constraint'::regclass, 'pg_trigger'::regclass, 'pg_type'::regclass)
    -- objects of an extension (this one or another) are not user objects
    AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = d.classid AND x.objid = d.objid AND x.deptype = 'e')
),
placed AS (
  SELECT dp.extoid, dp.classid, dp.objid, dp.objsubid,
         CASE dp.classid
           WHEN 'pg_class'::regclass THEN (
             SELECT c.relnamespace FROM pg_class c
             WHERE c.oid = dp.objid
               AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_type'::regclass AND x.objid = c.reltype AND x.deptype = 'e'))
           WHEN 'pg_attrdef'::regclass THEN (SELECT c.relnamespace FROM pg_attrdef a JOIN pg_class c ON c.oid = a.adrelid WHERE a.oid = dp.objid)
           WHEN 'pg_rewrite'::regclass THEN (SELECT c.relnamespace FROM pg_rewrite rw JOIN pg_class c ON c.oid = rw.ev_class WHERE rw.oid = dp.objid)
           WHEN 'pg_proc'::regclass THEN (SELECT p.pronamespace FROM pg_proc p WHERE p.oid = dp.objid)
           WHEN 'pg_constraint'::regclass THEN (SELECT co.connamespace FROM pg_constraint co WHERE co.oid = dp.objid)
           WHEN 'pg_trigger'::regclass THEN (SELECT c.relnamespace FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.oid = dp.objid)
           WHEN 'pg_type'::regclass THEN (SELECT ty.typnamespace FROM pg_type ty WHERE ty.oid = dp.objid AND ty.typelem = 0)
         END AS nsp
  FROM dependents dp
),
user_dependents AS (
  SELECT p.extoid, pg_describe_object(p.classid, p.objid, p.objsubid) AS what
  FROM placed p
  JOIN pg_namespace n ON n.oid = p.nsp
  WHERE n.nspname <> ALL ($1::text[])
    AND n.nspname NOT LIKE 'pg\_%'
    AND n.nspname <> 'information_schema'
)
SELECT e.extname AS name,
       e.extversion AS version,
       n.nspname AS schema,
       (SELECT count(*)::int FROM user_dependents u WHERE u.extoid = e.oid) AS user_dependents,
       coalesce((SELECT (array_agg(u.what ORDER BY u.what))[1:5] FROM user_dependents u WHERE u.extoid = e.oid), '{}') AS examples
FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace
ORDER BY e.extname;
