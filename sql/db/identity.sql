-- What names this database whatever host name, pooler or port reached it: the cluster's system
-- identifier (or, where pg_control_system() is not granted, the postmaster's start time and port)
-- plus the database OID.
SELECT coalesce(
         CASE WHEN has_function_privilege('pg_control_system()', 'EXECUTE')
              THEN (SELECT system_identifier::text FROM pg_control_system()) END,
         pg_postmaster_start_time()::text || '/' || current_setting('port'))
       || '/' || (SELECT oid FROM pg_database WHERE datname = current_database())::text AS identity;
