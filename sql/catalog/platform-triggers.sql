-- User-level triggers on tables of the platform schemas $1 (auth, storage), with their function.
-- Internal (FK) triggers are left out. The caller tells project triggers from platform ones by the
-- schema of the function.
-- $1: text[] platform schemas.
SELECT n.nspname || '.' || c.relname AS table,
       t.tgname AS name,
       fn.nspname AS function_schema,
       fn.nspname || '.' || p.proname || '()' AS function,
       pg_get_userbyid(p.proowner) AS function_owner,
       p.prosecdef AS security_definer,
       (SELECT substr(s, length('search_path=') + 1) FROM unnest(p.proconfig) s WHERE s LIKE 'search_path=%' LIMIT 1) AS search_path,
       CASE WHEN t.tgtype & 2 <> 0 THEN 'BEFORE' WHEN t.tgtype & 64 <> 0 THEN 'INSTEAD OF' ELSE 'AFTER' END AS timing,
       array_remove(ARRAY[CASE WHEN t.tgtype & 4 <> 0 THEN 'INSERT' END, CASE WHEN t.tgtype & 16 <> 0 THEN 'UPDATE' END,
                          CASE WHEN t.tgtype & 8 <> 0 THEN 'DELETE' END, CASE WHEN t.tgtype & 32 <> 0 THEN 'TRUNCATE' END], NULL) AS events,
       CASE WHEN t.tgtype & 1 <> 0 THEN 'ROW' ELSE 'STATEMENT' END AS level,
       t.tgenabled <> 'D' AS enabled
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_proc p ON p.oid = t.tgfoid
  JOIN pg_namespace fn ON fn.oid = p.pronamespace
 WHERE NOT t.tgisinternal AND n.nspname = ANY($1::text[])
 ORDER BY 1, 2;
