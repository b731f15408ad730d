-- Signals that tell a Supabase project database from a plain one (see src/core/supabase/platform.ts),
-- and which roles exist (grants to roles the target lacks are judged with this).
-- $1: text[] of platform role names to look for.
SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'auth' AND c.relname = 'users' AND c.relkind IN ('r', 'p')) AS has_auth_users,
       EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'storage' AND c.relname = 'objects' AND c.relkind IN ('r', 'p')) AS has_storage_objects,
       ARRAY(SELECT rolname::text FROM pg_roles WHERE rolname = ANY($1::text[]) ORDER BY rolname) AS platform_roles,
       ARRAY(SELECT rolname::text FROM pg_roles ORDER BY rolname) AS roles,
       ARRAY(SELECT nspname::text FROM pg_namespace ORDER BY nspname) AS schemas,
       current_user::text AS current_user,
       hashtextextended('offramp-probe', 0)::text AS hash_probe;
