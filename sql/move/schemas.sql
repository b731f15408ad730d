-- Every non-system schema of the source, with whether an extension owns it.
SELECT n.nspname AS name,
       EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                 AND d.objid = n.oid AND d.deptype = 'e') AS extension_owned
  FROM pg_namespace n
 WHERE n.nspname NOT IN ('information_schema', 'pg_catalog', 'pg_toast')
   AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
 ORDER BY 1;
