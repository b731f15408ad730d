-- Installed extensions (but plpgsql), their schema, version and whether objects of the schemas
-- being copied ($1) depend on them: column types, defaults, functions, views, indexes.
SELECT e.extname AS name,
       e.extversion AS version,
       n.nspname AS schema,
       e.extrelocatable AS relocatable,
       coalesce((
         SELECT array_agg(DISTINCT dep.descr ORDER BY dep.descr)
           FROM (
             SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS descr,
                    coalesce(
                      (SELECT cn.nspname FROM pg_class c JOIN pg_namespace cn ON cn.oid = c.relnamespace
                        WHERE d.classid = 'pg_class'::regclass AND c.oid = d.objid),
                      (SELECT pn.nspname FROM pg_proc p JOIN pg_namespace pn ON pn.oid = p.pronamespace
                        WHERE d.classid = 'pg_proc'::regclass AND p.oid = d.objid),
                      (SELECT an.nspname FROM pg_attrdef ad JOIN pg_class c ON c.oid = ad.adrelid
                         JOIN pg_namespace an ON an.oid = c.relnamespace
                        WHERE d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid),
                      (SELECT rn.nspname FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
                         JOIN pg_namespace rn ON rn.oid = c.relnamespace
                        WHERE d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid)) AS nsp
               FROM pg_depend m
               JOIN pg_depend d ON d.refclassid = m.classid AND d.refobjid = m.objid AND d.deptype = 'n'
              WHERE m.refclassid = 'pg_extension'::regclass AND m.refobjid = e.oid AND m.deptype = 'e'
           ) dep
          WHERE dep.nsp = ANY ($1::text[])), '{}') AS dependents
  FROM pg_extension e
  JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname <> 'plpgsql'
 ORDER BY 1;
