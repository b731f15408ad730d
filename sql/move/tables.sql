-- Tables whose rows move: ordinary tables and leaf partitions in the schemas being copied,
-- without extension-owned tables (spatial_ref_sys is filled by CREATE EXTENSION on the target).
-- $1: schemas to copy. Columns exclude dropped and generated ones (COPY cannot write those).
SELECT c.oid::int8 AS oid,
       n.nspname AS schema,
       c.relname AS name,
       c.relkind::text AS kind,
       c.relispartition AS is_partition,
       greatest(c.reltuples, 0)::int8 AS estimated_rows,
       c.relpages::int8 AS pages,
       pg_table_size(c.oid)::int8 AS bytes,
       (SELECT array_agg(quote_ident(a.attname) ORDER BY a.attnum)
          FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns,
       (SELECT array_agg(DISTINCT t.typname::text)
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
          JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS extension_types
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname = ANY ($1::text[])
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY bytes DESC, schema, name;
