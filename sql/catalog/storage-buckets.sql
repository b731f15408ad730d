-- Buckets with their objects and bytes; sizes come from the metadata the storage server writes
-- (metadata->>'size'; non-numeric values count as 0).
SELECT b.id, b.name, coalesce(b.public, false) AS public,
       count(o.bucket_id)::int8 AS objects,
       coalesce(sum(CASE WHEN o.metadata->>'size' ~ '^[0-9]+$' THEN (o.metadata->>'size')::int8 ELSE 0 END), 0)::int8 AS bytes
  FROM storage.buckets b
  LEFT JOIN storage.objects o ON o.bucket_id = b.id
 GROUP BY b.id, b.name, b.public
 ORDER BY b.id;
