-- The schema objects validate compares, one row per object: (category, object, owner, attrs).
-- Run with search_path = pg_catalog on both sides, so pg_get_*def() print schema-qualified names
-- the same way on both servers. Objects that belong to an extension are left out (the extension
-- itself is compared, with its version).
-- $1: text[] schemas to leave out (managed schemas of a Supabase source, --exclude-schema)
-- $2: text[] schemas to keep (empty: every schema not left out)
-- $3: text[] left-out schemas whose objects a later stage translates (auth, storage, …): an object
--     that depends on one of them carries `_refs` (those schema names), so that its absence or
--     change on the target can be judged as intended.
-- $4: text[] extensions the target never gets (platform-only): an object that depends on one of
--     their members carries `extension <name>` in `_refs`, for the same reason.
-- Objects attached to another one (grants, indexes) carry `_parent`: [category, object] of what
-- they belong to, so that they are judged with it when it is missing on the target.
WITH RECURSIVE nsp AS (
  SELECT n.oid, n.nspname, pg_get_userbyid(n.nspowner) AS owner, n.nspacl
    FROM pg_namespace n
   WHERE n.nspname NOT IN ('information_schema', 'pg_catalog', 'pg_toast')
     AND n.nspname NOT LIKE 'pg\_%'
     AND n.nspname <> ALL ($1::text[])
     AND (cardinality($2::text[]) = 0 OR n.nspname = ANY ($2::text[]))
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
),
rel AS (
  SELECT c.*, nsp.nspname, format('%I.%I', nsp.nspname, c.relname) AS qname
    FROM pg_class c JOIN nsp ON nsp.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'i', 'I')
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
),
fn AS (
  SELECT p.*, nsp.nspname, format('%I.%I(%s)', nsp.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS qname
    FROM pg_proc p JOIN nsp ON nsp.oid = p.pronamespace
   WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
),
refs AS (
  SELECT d.classid, d.objid,
         array_agg(DISTINCT CASE WHEN e.extname = ANY ($4::text[]) THEN 'extension ' || e.extname ELSE rn.nspname::text END
                   ORDER BY CASE WHEN e.extname = ANY ($4::text[]) THEN 'extension ' || e.extname ELSE rn.nspname::text END) AS schemas
    FROM pg_depend d
    LEFT JOIN pg_class rc ON d.refclassid = 'pg_class'::regclass AND rc.oid = d.refobjid
    LEFT JOIN pg_proc rp ON d.refclassid = 'pg_proc'::regclass AND rp.oid = d.refobjid
    LEFT JOIN pg_type rt ON d.refclassid = 'pg_type'::regclass AND rt.oid = d.refobjid
    JOIN pg_namespace rn ON rn.oid = coalesce(rc.relnamespace, rp.pronamespace, rt.typnamespace)
    LEFT JOIN pg_depend m ON m.classid = d.refclassid AND m.objid = d.refobjid AND m.deptype = 'e'
    LEFT JOIN pg_extension e ON e.oid = m.refobjid
   WHERE (rn.nspname = ANY ($3::text[]) OR e.extname = ANY ($4::text[]))
     AND d.classid IN ('pg_constraint'::regclass, 'pg_policy'::regclass, 'pg_attrdef'::regclass, 'pg_trigger'::regclass,
                       'pg_rewrite'::regclass, 'pg_class'::regclass, 'pg_proc'::regclass)
   GROUP BY 1, 2
),
-- Views and materialized views that read what stays behind, directly (their rule's refs) or through
-- another such view: copy defers them all, so all carry the reason.
view_refs(oid, label) AS (
  SELECT rw.ev_class, x FROM pg_rewrite rw JOIN refs ON refs.classid = 'pg_rewrite'::regclass AND refs.objid = rw.oid, unnest(refs.schemas) AS x
  UNION
  SELECT rw.ev_class, vr.label
    FROM view_refs vr
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = vr.oid
    JOIN pg_rewrite rw ON rw.oid = d.objid AND rw.ev_class <> vr.oid
),
typ AS (
  SELECT t.*, nsp.nspname, format('%I.%I', nsp.nspname, t.typname) AS qname
    FROM pg_type t JOIN nsp ON nsp.oid = t.typnamespace
   WHERE t.typtype IN ('e', 'd', 'c', 'r')
     AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
)
SELECT 'schemas' AS category, format('%I', nspname) AS object, owner, '{}'::jsonb AS attrs FROM nsp
UNION ALL
SELECT 'tables', qname, pg_get_userbyid(relowner),
       jsonb_build_object('kind', CASE relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' ELSE 'foreign table' END,
                          'persistence', CASE relpersistence WHEN 'u' THEN 'unlogged' ELSE 'logged' END,
                          'partition key', CASE WHEN relkind = 'p' THEN pg_get_partkeydef(oid) END,
                          'partition of', (SELECT format('%s %s', i.inhparent::regclass, pg_get_expr(relpartbound, oid))
                                             FROM pg_inherits i WHERE i.inhrelid = rel.oid AND rel.relispartition))
  FROM rel WHERE relkind IN ('r', 'p', 'f')
UNION ALL
SELECT 'rls', qname, NULL, jsonb_build_object('row level security', relrowsecurity, 'forced', relforcerowsecurity)
  FROM rel WHERE relkind IN ('r', 'p')
UNION ALL
SELECT 'columns', format('%s.%I', rel.qname, a.attname), NULL,
       jsonb_build_object('type', format_type(a.atttypid, a.atttypmod),
                          'not null', a.attnotnull,
                          'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
                          'generated', CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
                          'identity', CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END,
                          'collation', CASE WHEN a.attcollation <> 0 AND a.attcollation <> 100
                                            THEN (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
                                                    JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,
                          '_refs', (SELECT schemas FROM refs WHERE refs.classid = 'pg_attrdef'::regclass AND refs.objid = ad.oid))
  FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
 WHERE rel.relkind IN ('r', 'p', 'f')
UNION ALL
SELECT 'constraints', format('%s.%I', rel.qname, co.conname), NULL,
       jsonb_build_object('definition', pg_get_constraintdef(co.oid), 'deferrable', co.condeferrable, 'deferred', co.condeferred,
                          'validated', co.convalidated,
                          '_refs', (SELECT schemas FROM refs WHERE refs.classid = 'pg_constraint'::regclass AND refs.objid = co.oid))
  FROM rel JOIN pg_constraint co ON co.conrelid = rel.oid
UNION ALL
SELECT 'indexes', rel.qname, NULL,
       jsonb_build_object('definition', pg_get_indexdef(rel.oid), 'valid', ix.indisvalid, '_table', ix.indrelid::regclass::text,
                          '_parent', (SELECT jsonb_build_array(CASE WHEN tc.relkind = 'm' THEN 'views' ELSE 'tables' END, format('%I.%I', tn.nspname, tc.relname))
                                        FROM pg_class tc JOIN pg_namespace tn ON tn.oid = tc.relnamespace WHERE tc.oid = ix.indrelid),
                          '_refs', (SELECT schemas FROM refs WHERE refs.classid = 'pg_class'::regclass AND refs.objid = rel.oid))
  FROM rel JOIN pg_index ix ON ix.indexrelid = rel.oid
 WHERE rel.relkind IN ('i', 'I')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = ix.indrelid AND d.deptype = 'e')
UNION ALL
SELECT 'sequences', rel.qname, pg_get_userbyid(rel.relowner),
       jsonb_build_object('type', format_type(s.seqtypid, NULL), 'start', s.seqstart::text, 'increment', s.seqincrement::text,
                          'min', s.seqmin::text, 'max', s.seqmax::text, 'cycle', s.seqcycle,
                          'last value', (SELECT ps.last_value::text FROM pg_sequences ps
                                          WHERE ps.schemaname = rel.nspname AND ps.sequencename = rel.relname),
                          'owned by', (SELECT format('%s.%I', d.refobjid::regclass, a.attname) FROM pg_depend d
                                         JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                                        WHERE d.classid = 'pg_class'::regclass AND d.objid = rel.oid
                                          AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
  FROM rel JOIN pg_sequence s ON s.seqrelid = rel.oid
UNION ALL
SELECT 'views', rel.qname, pg_get_userbyid(rel.relowner),
       jsonb_build_object('kind', CASE rel.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END,
                          'definition', md5(pg_get_viewdef(rel.oid)),
                          'options', array_to_string(rel.reloptions, ','),
                          '_refs', (SELECT array_agg(DISTINCT vr.label ORDER BY vr.label) FROM view_refs vr WHERE vr.oid = rel.oid))
  FROM rel WHERE rel.relkind IN ('v', 'm')
UNION ALL
SELECT 'functions', fn.qname, pg_get_userbyid(fn.proowner),
       jsonb_build_object('kind', CASE fn.prokind WHEN 'f' THEN 'function' WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'window' END,
                          'returns', pg_get_function_result(fn.oid),
                          'language', (SELECT lanname FROM pg_language l WHERE l.oid = fn.prolang),
                          'volatility', fn.provolatile, 'security definer', fn.prosecdef, 'strict', fn.proisstrict,
                          'config', array_to_string(fn.proconfig, ','),
                          'body', CASE WHEN fn.prokind IN ('f', 'p') THEN md5(pg_get_functiondef(fn.oid)) END,
                          '_refs', (SELECT schemas FROM refs WHERE refs.classid = 'pg_proc'::regclass AND refs.objid = fn.oid))
  FROM fn
UNION ALL
SELECT 'types', typ.qname, pg_get_userbyid(typ.typowner),
       jsonb_build_object('kind', CASE typ.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' WHEN 'c' THEN 'composite' ELSE 'range' END,
                          'labels', CASE WHEN typ.typtype = 'e' THEN (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = typ.oid) END,
                          'base type', CASE WHEN typ.typtype = 'd' THEN format_type(typ.typbasetype, typ.typtypmod) END,
                          'not null', CASE WHEN typ.typtype = 'd' THEN typ.typnotnull END,
                          'default', typ.typdefault,
                          'checks', CASE WHEN typ.typtype = 'd' THEN (SELECT string_agg(pg_get_constraintdef(co.oid), ' AND ' ORDER BY co.conname) FROM pg_constraint co WHERE co.contypid = typ.oid) END,
                          'attributes', CASE WHEN typ.typtype = 'c' THEN (SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
                                                                               FROM pg_attribute a WHERE a.attrelid = typ.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END)
  FROM typ
UNION ALL
SELECT 'triggers', format('%s.%I', rel.qname, tg.tgname), NULL,
       jsonb_build_object('definition', pg_get_triggerdef(tg.oid), 'enabled', tg.tgenabled,
                          '_refs', (SELECT schemas FROM refs WHERE refs.classid = 'pg_trigger'::regclass AND refs.objid = tg.oid))
  FROM rel JOIN pg_trigger tg ON tg.tgrelid = rel.oid AND NOT tg.tgisinternal
UNION ALL
SELECT 'policies', format('%s.%I', rel.qname, po.polname), NULL,
       jsonb_build_object('command', po.polcmd, 'permissive', po.polpermissive,
                          -- a set: pg_dump writes the roles in catalog order, which changes when a role is altered
                          'roles', (SELECT string_agg(rn, ',' ORDER BY rn)
                                      FROM (SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END AS rn
                                              FROM unnest(po.polroles) AS r) AS pr),
                          'using', pg_get_expr(po.polqual, po.polrelid),
                          'with check', pg_get_expr(po.polwithcheck, po.polrelid),
                          '_refs', (SELECT schemas FROM refs WHERE refs.classid = 'pg_policy'::regclass AND refs.objid = po.oid))
  FROM rel JOIN pg_policy po ON po.polrelid = rel.oid
UNION ALL
SELECT 'extensions', format('%I', e.extname), pg_get_userbyid(e.extowner),
       jsonb_build_object('version', e.extversion, 'schema', (SELECT nspname FROM pg_namespace WHERE oid = e.extnamespace),
                          -- used: an object of the compared schemas (not of another extension) depends on one of
                          -- its members — the copy's own rule: one nothing copied uses may stay behind
                          '_used', EXISTS (SELECT 1 FROM pg_depend m
                                             JOIN pg_depend u ON u.refclassid = m.classid AND u.refobjid = m.objid AND u.deptype = 'n'
                                            WHERE m.refclassid = 'pg_extension'::regclass AND m.refobjid = e.oid AND m.deptype = 'e'
                                              AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = u.classid AND x.objid = u.objid AND x.deptype = 'e')
                                              AND coalesce(
                                                    (SELECT c.relnamespace FROM pg_class c WHERE u.classid = 'pg_class'::regclass AND c.oid = u.objid),
                                                    (SELECT p.pronamespace FROM pg_proc p WHERE u.classid = 'pg_proc'::regclass AND p.oid = u.objid),
                                                    (SELECT c.relnamespace FROM pg_attrdef a JOIN pg_class c ON c.oid = a.adrelid WHERE u.classid = 'pg_attrdef'::regclass AND a.oid = u.objid),
                                                    (SELECT c.relnamespace FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE u.classid = 'pg_rewrite'::regclass AND r.oid = u.objid),
                                                    (SELECT co.connamespace FROM pg_constraint co WHERE u.classid = 'pg_constraint'::regclass AND co.oid = u.objid),
                                                    (SELECT c.relnamespace FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE u.classid = 'pg_trigger'::regclass AND t.oid = u.objid),
                                                    (SELECT ty.typnamespace FROM pg_type ty WHERE u.classid = 'pg_type'::regclass AND ty.oid = u.objid)
                                                  ) IN (SELECT oid FROM nsp)))
  FROM pg_extension e
UNION ALL
-- Privileges: one row per (object, grantee, privilege); the owner's own privileges are left out
-- (owners are compared on their own); grantee 0 is PUBLIC.
SELECT 'grants', format('%s %s', g.objtype, g.objname), NULL,
       jsonb_build_object('grantee', CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee) END,
                          'privilege', g.privilege_type, 'grantable', g.is_grantable,
                          '_parent', jsonb_build_array(g.parent, g.objname))
  FROM (SELECT CASE rel.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'table' END AS objtype,
               rel.qname AS objname, rel.relowner AS owner,
               CASE WHEN rel.relkind = 'S' THEN 'sequences' WHEN rel.relkind IN ('v', 'm') THEN 'views' ELSE 'tables' END AS parent, x.*
          FROM rel, aclexplode(coalesce(rel.relacl, acldefault((CASE WHEN rel.relkind = 'S' THEN 's' ELSE 'r' END)::"char", rel.relowner))) x
         WHERE rel.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
        UNION ALL
        SELECT 'schema', format('%I', nsp.nspname), n.nspowner, 'schemas', x.*
          FROM nsp JOIN pg_namespace n ON n.oid = nsp.oid, aclexplode(coalesce(nsp.nspacl, acldefault('n'::"char", n.nspowner))) x
        UNION ALL
        SELECT CASE WHEN fn.prokind = 'p' THEN 'procedure' ELSE 'function' END, fn.qname, fn.proowner, 'functions', x.*
          FROM fn, aclexplode(coalesce(fn.proacl, acldefault('f'::"char", fn.proowner))) x) g
 WHERE g.grantee <> g.owner
ORDER BY 1, 2;
