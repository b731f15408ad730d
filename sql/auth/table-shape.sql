-- What an existing table looks like, for the refusal to write into a table that is not offramp's
-- shape: its kind, its columns, and the column lists of its plain unique indexes (ON CONFLICT
-- needs one on id). No row when the table does not exist. $1 schema, $2 table.
SELECT c.relkind::text AS kind,
       coalesce((SELECT json_agg(json_build_object(
                   'name', a.attname,
                   'type', format_type(a.atttypid, a.atttypmod),
                   'notNull', a.attnotnull,
                   'hasDefault', a.atthasdef,
                   'generated', a.attgenerated <> '') ORDER BY a.attnum)
                   FROM pg_attribute AS a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]') AS columns,
       coalesce((SELECT json_agg((SELECT array_agg(a.attname::text ORDER BY k.ord)
                                    FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                                    JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.attnum))
                   FROM pg_index AS i
                  WHERE i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL), '[]') AS unique_keys
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relname = $2;
