-- Every ordinary or partitioned table and materialized view outside the system schemas (leaf
-- partitions are read through their parent; extension-owned tables such as spatial_ref_sys belong to
-- their extension), with its primary key, its columns and a size estimate. A materialized view is
-- compared like a table (usually without a key: as a multiset); `populated` says whether it can be
-- read at all. Managed-schema filtering happens in TypeScript.
-- $1: text[] left-behind schemas a later stage translates; $2: text[] extensions the target never
-- gets. `held_back`: what of those a materialized view reads, directly or through other views
-- (copy defers such a view).
WITH RECURSIVE held(oid, label) AS (
  SELECT rw.ev_class, coalesce('extension ' || e.extname, rn.nspname::text)
    FROM pg_rewrite rw
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
    LEFT JOIN pg_class rc ON d.refclassid = 'pg_class'::regclass AND rc.oid = d.refobjid
    LEFT JOIN pg_proc rp ON d.refclassid = 'pg_proc'::regclass AND rp.oid = d.refobjid
    JOIN pg_namespace rn ON rn.oid = coalesce(rc.relnamespace, rp.pronamespace)
    LEFT JOIN pg_depend m ON m.classid = d.refclassid AND m.objid = d.refobjid AND m.deptype = 'e'
    LEFT JOIN pg_extension e ON e.oid = m.refobjid AND e.extname = ANY ($2::text[])
   WHERE e.oid IS NOT NULL OR (m.objid IS NULL AND rn.nspname = ANY ($1::text[]))
  UNION
  SELECT rw.ev_class, h.label
    FROM held h
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = h.oid
    JOIN pg_rewrite rw ON rw.oid = d.objid AND rw.ev_class <> h.oid
)
SELECT n.nspname AS schema,
       c.relname AS name,
       c.relkind::text AS kind,
       c.relispopulated AS populated,
       CASE WHEN c.relkind = 'm' THEN (SELECT array_agg(DISTINCT h.label ORDER BY h.label) FROM held h WHERE h.oid = c.oid) END AS held_back,
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
