-- All objects, including any whose bucket row is missing.
SELECT count(*)::int8 AS objects,
       coalesce(sum(CASE WHEN metadata->>'size' ~ '^[0-9]+$' THEN (metadata->>'size')::int8 ELSE 0 END), 0)::int8 AS bytes
  FROM storage.objects;
