-- Server facts and the signals that tell a Supabase project database from a plain one.
-- $1: text[] of platform role names to look for.
SELECT version() AS version,
       current_setting('server_version_num')::int AS version_num,
       current_user AS current_user,
       r.rolsuper AS superuser,
       r.rolbypassrls AS bypass_rls,
       current_database() AS database,
       pg_database_size(current_database()) AS database_bytes,
       current_setting('wal_level') AS wal_level,
       current_setting('TimeZone') AS timezone,
       -- looked up by name in the catalogs: to_regclass() raises an error without USAGE on the schema
       EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'auth' AND c.relname = 'users' AND c.relkind IN ('r', 'p')) AS has_auth_users,
       EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'storage' AND c.relname = 'objects' AND c.relkind IN ('r', 'p')) AS has_storage_objects,
       EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'extensions') AS has_extensions_schema,
       EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'supabase_realtime') AS has_realtime_publication,
       ARRAY(SELECT rolname::text FROM pg_roles WHERE rolname = ANY($1::text[]) ORDER BY rolname) AS platform_roles,
       now() AS snapshot_time
  FROM pg_roles r
 WHERE r.rolname = current_user;
