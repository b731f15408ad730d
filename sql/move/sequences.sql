-- Sequence positions in the schemas being copied ($1), except those left out with their table
-- ($2 schemas and $3 names, pairwise). last_value is NULL for a sequence that was never used;
-- the target keeps its start value then.
SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text AS last_value
  FROM pg_sequences
 WHERE schemaname = ANY ($1::text[])
   AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS x(s, n) WHERE x.s = schemaname AND x.n = sequencename)
 ORDER BY 1;
