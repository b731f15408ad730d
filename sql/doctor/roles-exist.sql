-- doctor: which of these role names exist on this server. $1: role names.
SELECT rolname AS role FROM pg_roles WHERE rolname = ANY ($1::text[]) ORDER BY rolname;
