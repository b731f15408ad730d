-- Event triggers (database-wide DDL hooks; creating one needs a superuser).
SELECT e.evtname AS name, e.evtevent AS event, n.nspname || '.' || p.proname || '()' AS function,
       pg_get_userbyid(e.evtowner) AS owner, e.evtenabled <> 'D' AS enabled
  FROM pg_event_trigger e
  JOIN pg_proc p ON p.oid = e.evtfoid
  JOIN pg_namespace n ON n.oid = p.pronamespace
 ORDER BY e.evtname;
