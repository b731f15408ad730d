-- RLS policies of the project: on tables of schemas not in $1, and on tables of the platform
-- schemas $2 (auth, storage), where the platform itself creates none.
-- $1: text[] managed schemas; $2: text[] platform schemas.
SELECT n.nspname AS schema, c.relname AS table, pol.polname AS name,
       CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
       pol.polpermissive AS permissive,
       ARRAY(SELECT CASE WHEN r.oid = 0 THEN 'public' ELSE pg_get_userbyid(r.oid)::text END
               FROM unnest(pol.polroles) AS r(oid) ORDER BY 1) AS roles,
       pg_get_expr(pol.polqual, pol.polrelid) AS using,
       pg_get_expr(pol.polwithcheck, pol.polrelid) AS with_check
  FROM pg_policy pol
  JOIN pg_class c ON c.oid = pol.polrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE (n.nspname <> ALL($1::text[]) AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_')
    OR n.nspname = ANY($2::text[])
 ORDER BY n.nspname, c.relname, pol.polname;
