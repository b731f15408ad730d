-- Every ordinary or partitioned table and materialized view outside the system schemas (leaf
-- partitions are read through their parent; extension-owned tables such as spatial_ref_sys belong to
-- their extension), with its primary key, its columns and a size estimate. A materialized view is
-- compared like a table (usually without a key: as a multiset); `populated` says whether it can be
-- read at all. Managed-schema filtering happens in TypeScript.
SELECT n.nspname AS schema,
       c.relname AS name,
       c.relkind::text AS kind,
       c.relispopulated AS populated,
       c.relhassubclass AS has_children,
       greatest(c.reltuples, 0)::float8 AS est_rows,
       c.reltuples < 0 AS never_analysed,
       pg_relation_size(c.oid) / current_setting('block_size')::int AS pages,
       coalesce((SELECT array_agg(a.attname::text ORDER BY k.ord)
                   FROM pg_constraint pk
                   CROSS JOIN LATERAL unnest(pk.conkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                  WHERE pk.conrelid = c.oid AND pk.contype = 'p'), '{}') AS key,
       coalesce((SELECT json_agg(json_build_object(
                          'name', a.attname::text,
                          'type', format_type(a.atttypid, a.atttypmod),
                          'collatable', a.attcollation <> 0,
                          'generated', a.attgenerated <> '')
                        ORDER BY a.attnum)
                   FROM pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]') AS columns
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'm')
   AND NOT c.relispartition
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND n.nspname NOT LIKE 'pg\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 1, 2;
