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
       -- every hash function the fast row hash uses (src/core/validate/rowsql.ts): equal on both
       -- servers, or md5 is used
       concat_ws(',', hashtextextended('offramp-probe', 0), hashint8extended(-42, 3), hashint4extended(7, 1),
                 uuid_hash_extended('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 5),
                 timestamp_hash_extended('2000-01-02 03:04:05.678901', 9)) AS hash_probe;
