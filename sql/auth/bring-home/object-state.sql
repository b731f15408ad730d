-- The target's current definition of one object ($1 kind, $2 relation or function identity, $3
-- name), or no row: compared before and after applying it, so an object already present and
-- equal is reported as such and its unchanged re-creation rolled back.
SELECT pg_catalog.concat_ws(E'\n', pg_catalog.pg_get_constraintdef(c.oid), c.convalidated::text,
                            pg_catalog.obj_description(c.oid, 'pg_constraint')) AS state
  FROM pg_catalog.pg_constraint c
 WHERE $1 = 'foreign-key' AND c.conrelid = pg_catalog.to_regclass($2) AND c.conname = $3
UNION ALL
SELECT pg_catalog.concat_ws(E'\n', pg_catalog.pg_get_triggerdef(t.oid), t.tgenabled::text, pg_catalog.obj_description(t.oid, 'pg_trigger'))
  FROM pg_catalog.pg_trigger t
 WHERE $1 = 'trigger' AND t.tgrelid = pg_catalog.to_regclass($2) AND t.tgname = $3 AND NOT t.tgisinternal
UNION ALL
SELECT pg_catalog.concat_ws(E'\n', c.relkind::text, pg_catalog.pg_get_viewdef(c.oid), c.reloptions::text, c.relacl::text,
                            pg_catalog.obj_description(c.oid, 'pg_class'),
                            (SELECT pg_catalog.string_agg(a.attname || ' ' || a.attacl::text, ',' ORDER BY a.attnum)
                               FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL),
                            (SELECT pg_catalog.string_agg(a.attnum || ' ' || pg_catalog.col_description(c.oid, a.attnum), ',' ORDER BY a.attnum)
                               FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND pg_catalog.col_description(c.oid, a.attnum) IS NOT NULL))
  FROM pg_catalog.pg_class c
 WHERE $1 IN ('view', 'materialized-view') AND c.oid = pg_catalog.to_regclass($2) AND c.relkind IN ('v', 'm')
UNION ALL
SELECT pg_catalog.concat_ws(E'\n', pg_catalog.pg_get_functiondef(p.oid), p.proacl::text, pg_catalog.obj_description(p.oid, 'pg_proc'))
  FROM pg_catalog.pg_proc p
 WHERE $1 = 'function' AND p.oid = pg_catalog.to_regprocedure($2)
