-- Exact row counts of the given tables, inside the caller's snapshot. Each count runs as its own
-- statement through query_to_xml so that one SQL text serves any list of tables.
-- $1: oid[] of tables. The caller sets row_security = off so that a count RLS would filter
-- raises an error instead of returning a smaller number.
SELECT t.oid::int8 AS oid,
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM %s', t.oid::regclass), false, true, '')))[1]::text::int8 AS n
  FROM unnest($1::oid[]) AS t(oid);
