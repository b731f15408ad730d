-- The source's auth tables offramp reads and their columns (a GoTrue older than a carried column
-- lacks it): one row per table that exists. Read inside the snapshot.
SELECT c.relname AS name,
       array_agg(a.attname::text ORDER BY a.attnum) AS columns
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
  JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE n.nspname = 'auth' AND c.relkind IN ('r', 'p')
   AND c.relname IN ('users', 'identities', 'sessions', 'refresh_tokens', 'mfa_factors')
 GROUP BY c.relname;
