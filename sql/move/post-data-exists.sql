-- Is a post-data object already on the target? (copy --resume checks before adding it again.)
-- $1 kind: index | constraint | trigger | policy | rule | statistics | index-attach
-- $2, $3 the table's schema and name (index-attach: the parent index; index, statistics: only $2 is used)
-- $4 the object's name (index-attach: the child index's name, in schema $5)
WITH rel AS (
  SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $2 AND c.relname = $3
)
SELECT CASE $1::text
  WHEN 'index' THEN EXISTS (
    SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $2 AND c.relname = $4 AND c.relkind IN ('i', 'I'))
  WHEN 'constraint' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = (SELECT oid FROM rel) AND conname = $4)
  WHEN 'trigger' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = (SELECT oid FROM rel) AND tgname = $4)
  WHEN 'policy' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_policy WHERE polrelid = (SELECT oid FROM rel) AND polname = $4)
  WHEN 'rule' THEN EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite WHERE ev_class = (SELECT oid FROM rel) AND rulename = $4)
  WHEN 'statistics' THEN EXISTS (
    SELECT 1 FROM pg_catalog.pg_statistic_ext s JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
     WHERE n.nspname = $2 AND s.stxname = $4)
  WHEN 'index-attach' THEN EXISTS (
    SELECT 1 FROM pg_catalog.pg_inherits i
      JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE i.inhparent = (SELECT oid FROM rel) AND n.nspname = $5 AND c.relname = $4)
  ELSE false
END AS present;
