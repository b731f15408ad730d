-- Resolve function names a body calls ($1: schema-or-empty, $2: name, $3: search path schemas).
SELECT p.oid::oid AS oid, n.nspname AS schema
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE p.proname = $2 AND CASE WHEN $1 = '' THEN n.nspname = ANY ($3::text[]) ELSE n.nspname = $1 END
