-- doctor: one row of facts about the server, the database and the connecting role.
-- Everything here is readable by an ordinary role; settings that need privileges are guarded.
SELECT
  current_setting('server_version_num')::int                         AS version_num,
  current_setting('server_version')                                  AS version,
  version()                                                          AS version_full,
  current_user                                                       AS current_user,
  current_database()                                                 AS database,
  d.oid::bigint                                                      AS database_oid,
  CASE WHEN has_function_privilege('pg_control_system()', 'EXECUTE')
       THEN (SELECT system_identifier::text FROM pg_control_system()) END AS system_identifier,
  pg_postmaster_start_time()::text                                   AS started_at,
  r.rolsuper                                                         AS is_superuser,
  r.rolcreaterole                                                    AS can_create_role,
  r.rolcreatedb                                                      AS can_create_db,
  r.rolreplication                                                   AS can_replicate,
  r.rolconnlimit                                                     AS role_conn_limit,
  d.datconnlimit                                                     AS database_conn_limit,
  has_database_privilege(d.oid, 'CREATE')                            AS can_create_schema,
  pg_has_role(d.datdba, 'USAGE')                                     AS owns_database,
  pg_get_userbyid(d.datdba)                                          AS database_owner,
  pg_is_in_recovery()                                                AS in_recovery,
  current_setting('default_transaction_read_only')                   AS default_read_only,
  current_setting('wal_level')                                       AS wal_level,
  current_setting('max_connections')::int                            AS max_connections,
  current_setting('superuser_reserved_connections')::int             AS reserved_connections,
  (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS connections_in_use,
  (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename = current_user) AS role_connections_in_use,
  (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = current_database()) AS database_connections_in_use,
  current_setting('statement_timeout')                               AS statement_timeout,
  current_setting('lock_timeout')                                    AS lock_timeout,
  current_setting('idle_in_transaction_session_timeout')             AS idle_in_transaction_session_timeout,
  current_setting('idle_session_timeout', true)                      AS idle_session_timeout,
  current_setting('transaction_timeout', true)                       AS transaction_timeout,
  pg_encoding_to_char(d.encoding)                                    AS encoding,
  d.datcollate                                                       AS collate,
  d.datctype                                                         AS ctype,
  pg_database_size(d.oid)::bigint                                    AS database_size,
  CASE WHEN pg_has_role('pg_read_all_settings', 'USAGE') THEN current_setting('data_directory') END AS data_directory,
  current_setting('port')::int                                       AS port
FROM pg_database d
JOIN pg_roles r ON r.rolname = current_user
WHERE d.datname = current_database();
