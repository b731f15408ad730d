-- Catalog dependencies (pg_depend) of project objects on
--   (a) objects that belong to an extension (types, functions, operator classes, languages), and
--   (b) objects in the platform schemas given in $2 (auth, storage: tables, columns, functions, types),
--   (c) the project's own functions, when a policy, view, default or constraint calls them.
-- "Project objects" are tables, columns, indexes, views, functions, defaults, constraints, policies,
-- triggers and types in schemas not listed in $1 (the managed schemas), plus policies and triggers
-- that the project put on tables of the $2 schemas (their function lives outside $1, or policies at all).
-- Partitions are left out (their columns, indexes, defaults, constraints and triggers are clones
-- of the partitioned table's, which is reported).
-- $1: text[] managed schemas; $2: text[] platform schemas whose objects are tracked (auth, storage).
WITH member AS MATERIALIZED (
  SELECT d.classid, d.objid, e.extname
    FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
   WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
),
user_ns AS MATERIALIZED (
  SELECT oid, nspname FROM pg_namespace
   WHERE nspname <> ALL($1::text[]) AND nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_'
),
-- The referenced objects worth reporting, chosen first so that only their dependents are resolved
-- (PostGIS alone has thousands of internal dependencies).
target AS MATERIALIZED (
  SELECT m.classid, m.objid, m.extname::text AS extname, NULL::text AS platform_name, NULL::text AS platform_kind
    FROM member m WHERE m.extname <> 'plpgsql'
  UNION ALL
  -- array types of extension types are not members themselves
  SELECT 'pg_type'::regclass, t.oid, m.extname, NULL, NULL
    FROM pg_type t JOIN member m ON m.classid = 'pg_type'::regclass AND m.objid = t.typelem
   WHERE t.typelem <> 0 AND t.typcategory = 'A'
  UNION ALL
  SELECT 'pg_class'::regclass, c.oid, NULL, n.nspname || '.' || c.relname, 'relation'
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = ANY($2::text[]) AND c.relkind NOT IN ('i', 'I', 'S')
  UNION ALL
  SELECT 'pg_proc'::regclass, p.oid, NULL, n.nspname || '.' || p.proname, 'function'
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = ANY($2::text[])
  UNION ALL
  SELECT 'pg_type'::regclass, t.oid, NULL, n.nspname || '.' || t.typname, 'type'
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = ANY($2::text[])
  UNION ALL
  -- the project's own functions: their bodies may use auth.* (the caller follows this one hop)
  SELECT 'pg_proc'::regclass, p.oid, NULL, n.nspname || '.' || p.proname, 'project-function'
    FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace
   WHERE NOT EXISTS (SELECT 1 FROM member m WHERE m.classid = 'pg_proc'::regclass AND m.objid = p.oid)
),
dep AS MATERIALIZED (
  SELECT d.classid, d.objid, d.objsubid, t.extname, t.platform_name, t.platform_kind
    FROM target t
    JOIN pg_depend d ON d.refclassid = t.classid AND d.refobjid = t.objid
   WHERE d.deptype IN ('n', 'a')
     AND d.classid IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_attrdef'::regclass, 'pg_constraint'::regclass,
                       'pg_policy'::regclass, 'pg_trigger'::regclass, 'pg_rewrite'::regclass, 'pg_type'::regclass)
     -- extension members depending on other members are the extension's business
     AND NOT EXISTS (SELECT 1 FROM member m WHERE m.classid = d.classid AND m.objid = d.objid)
),
-- What each dependent object is, where it lives and which table it hangs off.
dependent AS (
  SELECT dep.*, o.kind, o.schema, o.name, o.tbl_schema, o.tbl_name, o.fn_schema
    FROM dep
    CROSS JOIN LATERAL (
      SELECT CASE WHEN dep.objsubid <> 0 THEN 'column'
                  ELSE CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'i' THEN 'index' WHEN 'I' THEN 'index'
                                      WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
                                      ELSE 'other' END END AS kind,
             n.nspname AS schema,
             CASE WHEN dep.objsubid <> 0 THEN c.relname || '.' || (SELECT attname FROM pg_attribute WHERE attrelid = c.oid AND attnum = dep.objsubid)
                  ELSE c.relname END AS name,
             n.nspname AS tbl_schema,
             coalesce((SELECT ic.relname FROM pg_index x JOIN pg_class ic ON ic.oid = x.indrelid WHERE x.indexrelid = c.oid), c.relname) AS tbl_name,
             NULL::name AS fn_schema
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE dep.classid = 'pg_class'::regclass AND c.oid = dep.objid AND NOT c.relispartition
      UNION ALL
      SELECT 'function', n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL, NULL, NULL
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE dep.classid = 'pg_proc'::regclass AND p.oid = dep.objid
      UNION ALL
      SELECT 'default', n.nspname, c.relname || '.' || a.attname, n.nspname, c.relname, NULL
        FROM pg_attrdef ad JOIN pg_class c ON c.oid = ad.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
       WHERE dep.classid = 'pg_attrdef'::regclass AND ad.oid = dep.objid AND NOT c.relispartition
      UNION ALL
      SELECT 'constraint', n.nspname, k.conname, tn.nspname, tc.relname, NULL
        FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
        LEFT JOIN pg_class tc ON tc.oid = k.conrelid LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
       WHERE dep.classid = 'pg_constraint'::regclass AND k.oid = dep.objid AND k.conparentid = 0
      UNION ALL
      SELECT 'policy', n.nspname, pol.polname, n.nspname, c.relname, NULL
        FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE dep.classid = 'pg_policy'::regclass AND pol.oid = dep.objid
      UNION ALL
      SELECT 'trigger', n.nspname, tg.tgname, n.nspname, c.relname, fn.nspname
        FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_proc p ON p.oid = tg.tgfoid JOIN pg_namespace fn ON fn.oid = p.pronamespace
       WHERE dep.classid = 'pg_trigger'::regclass AND tg.oid = dep.objid AND NOT tg.tgisinternal AND tg.tgparentid = 0
      UNION ALL
      SELECT CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END, n.nspname, c.relname, NULL, NULL, NULL
        FROM pg_rewrite rw JOIN pg_class c ON c.oid = rw.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE dep.classid = 'pg_rewrite'::regclass AND rw.oid = dep.objid AND rw.rulename = '_RETURN'
      UNION ALL
      SELECT 'type', n.nspname, t.typname, NULL, NULL, NULL
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE dep.classid = 'pg_type'::regclass AND t.oid = dep.objid AND t.typtype IN ('d', 'c', 'r', 'm')
         AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
    ) o
),
project AS (
  SELECT * FROM dependent
   WHERE schema <> ALL($1::text[])
      OR (kind = 'policy' AND tbl_schema = ANY($2::text[]))
      OR (kind = 'trigger' AND tbl_schema = ANY($2::text[]) AND fn_schema <> ALL($1::text[]))
)
SELECT DISTINCT kind, schema, name, tbl_schema AS table_schema, tbl_name AS table_name,
       extname AS extension, platform_name, platform_kind
  FROM project
 WHERE (platform_kind IS DISTINCT FROM 'project-function' OR kind IN ('policy', 'view', 'materialized view', 'default', 'constraint'))
   -- a policy or trigger depends on the table it is on: that is not a reference
   AND (platform_name IS NULL OR NOT (kind IN ('policy', 'trigger') AND platform_name = tbl_schema || '.' || tbl_name))
 ORDER BY kind, schema, name;
