-- The tables rls verify proves: every ordinary or partitioned table with row level security on,
-- with the columns that identify a row (the primary key, else a unique index
-- over NOT NULL plain columns; none: rows are compared by digest), the columns an INSERT may name,
-- and the enabled triggers with their functions (a trigger that could reach outside the transaction stops the
-- write probes of its table).
SELECT n.nspname AS schema,
       c.relname AS name,
       format('%I.%I', n.nspname, c.relname) AS qualified,
       (SELECT array_agg(a.attname::text ORDER BY k.ord)
          FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.attnum) AS key,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                                   'base', t.typname, 'insertable', a.attgenerated = '', 'identity', a.attidentity <> '') ORDER BY a.attnum), '[]')
          FROM pg_attribute AS a JOIN pg_type AS t ON t.oid = a.atttypid
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
       (SELECT coalesce(jsonb_agg(jsonb_build_object('trigger', tg.tgname, 'schema', fn.nspname, 'function', f.proname,
                                   'language', l.lanname, 'body', f.prosrc) ORDER BY tg.tgname), '[]')
          FROM pg_trigger AS tg
          JOIN pg_proc AS f ON f.oid = tg.tgfoid
          JOIN pg_namespace AS fn ON fn.oid = f.pronamespace
          JOIN pg_language AS l ON l.oid = f.prolang
         WHERE tg.tgrelid = c.oid AND NOT tg.tgisinternal AND tg.tgenabled <> 'D') AS triggers
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
  LEFT JOIN LATERAL (
        SELECT x.indkey FROM pg_index AS x
         WHERE x.indrelid = c.oid AND x.indisvalid
           AND (x.indisprimary OR (x.indisunique AND x.indpred IS NULL AND x.indexprs IS NULL
                AND NOT EXISTS (SELECT 1 FROM pg_attribute AS a
                                 WHERE a.attrelid = c.oid AND a.attnum = ANY (x.indkey::int2[]) AND NOT a.attnotnull)))
         ORDER BY x.indisprimary DESC, x.indnkeyatts, x.indexrelid
         LIMIT 1) AS i ON true
 WHERE c.relrowsecurity
   AND c.relkind IN ('r', 'p')
   AND ($1::text[] IS NULL OR format('%I.%I', n.nspname, c.relname) = ANY ($1::text[]) OR c.relname = ANY ($1::text[])
        OR format('%s.%s', n.nspname, c.relname) = ANY ($1::text[]))
 ORDER BY n.nspname, c.relname
