-- doctor: per-role and per-database settings that apply to this session (where a timeout comes from).
SELECT coalesce(r.rolname, '') AS role, coalesce(d.datname, '') AS database, s.setconfig AS settings
FROM pg_db_role_setting s
LEFT JOIN pg_roles r ON r.oid = s.setrole
LEFT JOIN pg_database d ON d.oid = s.setdatabase
WHERE (s.setrole = 0 OR r.rolname = current_user)
  AND (s.setdatabase = 0 OR d.datname = current_database());
