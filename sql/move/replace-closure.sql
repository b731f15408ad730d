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
owners(classid, objid, objsubid, oc, oo) AS (
  -- who owns each object: climb the auto and internal dependencies (a default belongs to its
  -- column's table, an index to its table, a rule to its view, a partition to its parent),
  -- stopping at the replaced objects
  SELECT classid, objid, objsubid, classid, objid FROM closure
  UNION
  SELECT o.classid, o.objid, o.objsubid, d.refclassid, d.refobjid
    FROM owners o JOIN pg_depend d ON d.classid = o.oc AND d.objid = o.oo AND d.deptype IN ('a', 'i')
   WHERE NOT (d.refclassid = o.oc AND d.refobjid = o.oo)
     AND NOT EXISTS (SELECT 1 FROM seed s WHERE s.classid = o.oc AND s.objid = o.oo)
),
outside AS (
  -- inside only when every way up ends at a replaced object: a table's membership in a
  -- publication of the target's own (owned by both) is not ours to drop
  SELECT DISTINCT o.classid, o.objid, o.objsubid FROM owners o
   WHERE NOT EXISTS (SELECT 1 FROM seed s WHERE s.classid = o.oc AND s.objid = o.oo)
     AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = o.oc AND d.objid = o.oo AND d.deptype IN ('a', 'i')
                        AND NOT (d.refclassid = o.oc AND d.refobjid = o.oo))
)
SELECT DISTINCT i.type || ' ' || i.identity AS object
  FROM outside x
 CROSS JOIN LATERAL pg_identify_object(x.classid, x.objid, x.objsubid) i
 -- name each loss once: not the rule of a lost view, the index of a lost table, the column of a lost table
 WHERE NOT EXISTS (SELECT 1 FROM pg_depend d JOIN outside p ON p.classid = d.refclassid AND p.objid = d.refobjid
                          AND (p.objsubid = 0 OR p.objsubid = d.refobjsubid)
                    WHERE d.classid = x.classid AND d.objid = x.objid AND d.deptype IN ('a', 'i')
                      AND NOT (d.refclassid = x.classid AND d.refobjid = x.objid))
   AND NOT (x.objsubid <> 0 AND EXISTS (SELECT 1 FROM outside p WHERE p.classid = x.classid AND p.objid = x.objid AND p.objsubid = 0))
 ORDER BY 1;
