-- What DROP ... CASCADE of the objects offramp is about to replace ($1 classid, $2 objid, pairwise)
-- would take with it that is NOT part of them: a column of another table, a view, a foreign key,
-- a trigger or policy of another table, an extension's object... One row per such object, named
-- by pg_identify_object; no rows means the drops stay inside the replaced set.
WITH RECURSIVE
seed AS (
  SELECT * FROM unnest($1::oid[], $2::oid[]) AS s(classid, objid)
),
edges AS (
  -- dropping an object drops what depends on it (any dependency but the obsolete 'pinned')
  SELECT refclassid AS fc, refobjid AS fo, refobjsubid AS fs, classid AS tc, objid AS tob, objsubid AS ts
    FROM pg_depend WHERE deptype <> 'p'
  UNION ALL
  -- an internal part cannot go alone: dropping it drops its owner (a view's rule takes the view)
  SELECT classid, objid, objsubid, refclassid, refobjid, 0
    FROM pg_depend WHERE deptype = 'i'
),
closure(classid, objid, objsubid) AS (
  SELECT classid, objid, 0 FROM seed
  UNION
  -- a whole object passes the drop on to everything depending on any part of it; a column only
  -- to what depends on that column
  SELECT e.tc, e.tob, e.ts
    FROM closure c JOIN edges e ON e.fc = c.classid AND e.fo = c.objid AND (c.objsubid = 0 OR e.fs = c.objsubid)
),
ownership AS (
  -- X belongs to Y: the auto and internal dependencies (a default belongs to its column's table,
  -- an index to its table, a rule to its view), but not a partition to its parent table: a
  -- partition the load does not create is a table of the target's own, with its own rows
  SELECT d.classid, d.objid, d.refclassid, d.refobjid, d.refobjsubid FROM pg_depend d
   WHERE d.deptype IN ('a', 'i')
     AND NOT (d.refclassid = d.classid AND d.refobjid = d.objid)
     AND NOT (d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
              AND EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = d.objid AND r.relkind IN ('r', 'p', 'f')))
),
owners(classid, objid, objsubid, oc, oo) AS (
  -- climb the ownership up to the replaced objects
  SELECT classid, objid, objsubid, classid, objid FROM closure
  UNION
  SELECT o.classid, o.objid, o.objsubid, w.refclassid, w.refobjid
    FROM owners o JOIN ownership w ON w.classid = o.oc AND w.objid = o.oo
   WHERE NOT EXISTS (SELECT 1 FROM seed s WHERE s.classid = o.oc AND s.objid = o.oo)
),
outside AS (
  -- inside only when every way up ends at a replaced object: a table's membership in a
  -- publication of the target's own (owned by both) is not ours to drop
  SELECT DISTINCT o.classid, o.objid, o.objsubid FROM owners o
   WHERE NOT EXISTS (SELECT 1 FROM seed s WHERE s.classid = o.oc AND s.objid = o.oo)
     AND NOT EXISTS (SELECT 1 FROM ownership w WHERE w.classid = o.oc AND w.objid = o.oo)
)
SELECT DISTINCT i.type || ' ' || i.identity AS object
  FROM outside x
 CROSS JOIN LATERAL pg_identify_object(x.classid, x.objid, x.objsubid) i
 -- name each loss once: not the rule of a lost view, the index of a lost table, the column of a lost table
 WHERE NOT EXISTS (SELECT 1 FROM ownership w JOIN outside p ON p.classid = w.refclassid AND p.objid = w.refobjid
                          AND (p.objsubid = 0 OR p.objsubid = w.refobjsubid)
                    WHERE w.classid = x.classid AND w.objid = x.objid)
   AND NOT (x.objsubid <> 0 AND EXISTS (SELECT 1 FROM outside p WHERE p.classid = x.classid AND p.objid = x.objid AND p.objsubid = 0))
 ORDER BY 1;
