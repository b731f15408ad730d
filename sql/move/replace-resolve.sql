-- The target's objects that pg_dump entries would create again ($1 type, $2 schema, $3 name,
-- pairwise, from the entry headers; functions in $4 as [{schema, name, args: [type, ...]}], matched
-- on their argument types so that an overload of the same name is not taken for them): the ones already there, each once, with what DROP needs
-- (pg_identify_object), the extension it belongs to (offramp never drops those) and whether it is
-- an internal part of another object (an identity sequence goes with its table, never alone).
WITH wanted AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS w(type, schema, name)
), found AS (
  SELECT 'pg_class'::regclass::oid AS classid, to_regclass(format('%I.%I', schema, name))::oid AS objid
    FROM wanted
   WHERE type IN ('TABLE', 'VIEW', 'MATERIALIZED VIEW', 'SEQUENCE', 'FOREIGN TABLE')
  UNION
  -- a type's name may be taken by a table (its row type): then the table is what is in the way
  SELECT CASE WHEN coalesce(r.relkind, 'c') <> 'c' THEN 'pg_class'::regclass::oid ELSE 'pg_type'::regclass::oid END,
         CASE WHEN coalesce(r.relkind, 'c') <> 'c' THEN r.oid ELSE t.oid END
    FROM wanted w
    JOIN pg_type t ON t.oid = to_regtype(format('%I.%I', w.schema, w.name))
    LEFT JOIN pg_class r ON r.oid = t.typrelid
   WHERE w.type IN ('TYPE', 'DOMAIN')
  UNION
  -- to_regtype, not to_regprocedure: that one fails outright on an argument type the target lacks
  SELECT 'pg_proc'::regclass::oid, p.oid
    FROM jsonb_to_recordset($4::jsonb) AS w(schema text, name text, args text[])
    JOIN pg_namespace n ON n.nspname = w.schema
    JOIN pg_proc p ON p.pronamespace = n.oid AND p.proname = w.name
   -- (an oidvector counts from 0: both sides rebuilt as plain arrays; 0 for a type the target lacks)
   WHERE ARRAY(SELECT unnest(p.proargtypes::oid[])) = ARRAY(SELECT coalesce(to_regtype(a.t)::oid, 0) FROM unnest(w.args) WITH ORDINALITY AS a(t, i) ORDER BY a.i)
)
SELECT f.classid::int8 AS classid,
       f.objid::int8 AS objid,
       i.type,
       i.identity,
       (SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
         WHERE d.classid = f.classid AND d.objid = f.objid AND d.deptype = 'e'
           AND d.refclassid = 'pg_extension'::regclass LIMIT 1) AS extension,
       EXISTS (SELECT 1 FROM pg_depend d
                WHERE d.classid = f.classid AND d.objid = f.objid AND d.deptype = 'i'
                  AND NOT (d.refclassid = f.classid AND d.refobjid = f.objid)) AS internal
  FROM found f
 CROSS JOIN LATERAL pg_identify_object(f.classid, f.objid, 0) i
 WHERE f.objid IS NOT NULL
 ORDER BY f.classid, i.identity;
