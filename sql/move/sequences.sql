-- Sequence positions in the schemas being copied ($1). last_value is NULL for a sequence that
-- was never used; the target keeps its start value then.
SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text AS last_value
  FROM pg_sequences
 WHERE schemaname = ANY ($1::text[])
 ORDER BY 1;
