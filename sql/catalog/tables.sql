-- Every ordinary and partitioned table outside the system schemas, with what copy, validate and
-- rls translate need to know about it. Extension member tables (e.g. spatial_ref_sys) are left out.
-- Row estimates come from pg_class.reltuples (-1 = never analysed).
SELECT c.oid::int8 AS oid,
       n.nspname AS schema,
       c.relname AS name,
       pg_get_userbyid(c.relowner) AS owner,
       c.relkind::text AS relkind,
       c.relispartition AS is_partition,
       (SELECT pn.nspname || '.' || pc.relname FROM pg_inherits i
          JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE i.inhrelid = c.oid AND c.relispartition LIMIT 1) AS partition_of,
       c.reltuples::float8 AS reltuples,
       pg_relation_size(c.oid)::int8 AS heap_bytes,
       pg_total_relation_size(c.oid)::int8 AS total_bytes,
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p') AS has_pk,
       EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid AND x.indisunique AND x.indpred IS NULL
                  AND x.indexprs IS NULL AND x.indisvalid
                  AND NOT EXISTS (SELECT 1 FROM unnest(x.indkey::int2[]) k(attnum)
                                    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                                   WHERE NOT a.attnotnull)) AS has_unique_key,
       c.relrowsecurity AS rls_enabled,
       c.relforcerowsecurity AS rls_forced,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::int AS policies,
       ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
               AND NOT a.attisdropped AND a.attgenerated <> '' ORDER BY a.attnum) AS generated_columns,
       ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
               AND NOT a.attisdropped AND a.attidentity <> '' ORDER BY a.attnum) AS identity_columns,
       COALESCE((SELECT json_agg(json_build_object(
                   'constraint', k.conname,
                   'columns', ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(attnum, i)
                                      JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.i),
                   'onDelete', CASE k.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
                                                  WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END)
                   ORDER BY k.conname)
                  FROM pg_constraint k
                 WHERE k.conrelid = c.oid AND k.contype = 'f' AND k.conparentid = 0 AND k.confrelid = (SELECT uc.oid FROM pg_class uc JOIN pg_namespace un ON un.oid = uc.relnamespace WHERE un.nspname = 'auth' AND uc.relname = 'users')), '[]') AS fks_to_auth_users,
       -- the view also covers FOR ALL TABLES and FOR TABLES IN SCHEMA publications
       EXISTS (SELECT 1 FROM pg_publication_tables pt
                WHERE pt.pubname = 'supabase_realtime' AND pt.schemaname = n.nspname AND pt.tablename = c.relname) AS in_realtime_publication,
       has_table_privilege(c.oid, 'SELECT') AND has_schema_privilege(n.oid, 'USAGE') AS readable,
       -- Would a count(*) by the connecting role be filtered by RLS? (check_enable_rls)
       (c.relrowsecurity AND NOT r.rolsuper AND NOT r.rolbypassrls
          AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))) AS rls_filters_reader
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_roles r ON r.rolname = current_user
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND n.nspname !~ '^pg_(toast_)?temp_'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                     AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')
 ORDER BY n.nspname, c.relname;
