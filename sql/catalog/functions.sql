-- Project functions (schemas not in $1, not extension members) that are SECURITY DEFINER, or whose
-- text names something in the platform schemas $2 (auth, storage), or calls an extension function.
-- pg_depend records nothing for the bodies of plpgsql and (non-atomic) SQL functions, hence the text
-- search. A platform match is `schema.name`, with `()` appended when it is called.
-- $1: text[] managed schemas; $2: text[] platform schemas.
WITH ext_fn AS MATERIALIZED (
  SELECT DISTINCT n.nspname, p.proname, e.extname
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                    AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
    JOIN pg_extension e ON e.oid = d.refobjid
),
-- names that also exist outside any extension (core or project) say nothing about an extension
ambiguous AS MATERIALIZED (
  SELECT DISTINCT p.proname FROM pg_proc p
   WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                       AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')
),
fn AS (
  SELECT p.oid, n.nspname AS schema, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name,
         pg_get_userbyid(p.proowner) AS owner, p.prosecdef AS security_definer, l.lanname AS language,
         (SELECT substr(s, length('search_path=') + 1) FROM unnest(p.proconfig) s WHERE s LIKE 'search_path=%' LIMIT 1) AS search_path,
         pg_get_functiondef(p.oid) AS def
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    JOIN pg_language l ON l.oid = p.prolang
   WHERE p.prokind IN ('f', 'p')
     AND n.nspname <> ALL($1::text[])
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                       AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')
),
scanned AS (
  SELECT fn.*,
         ARRAY(SELECT DISTINCT lower(m[1]) || '.' || lower(m[2]) || CASE WHEN m[3] = '(' THEN '()' ELSE '' END
                 FROM regexp_matches(fn.def, '"?\m([A-Za-z_][A-Za-z0-9_]*)"?\s*\.\s*"?([A-Za-z_][A-Za-z0-9_$]*)"?\s*(\(?)', 'g') AS m
                WHERE lower(m[1]) = ANY($2::text[])
                ORDER BY 1) AS platform_refs,
         ARRAY(SELECT extname::text FROM (
                 -- unqualified calls of names only an extension defines (crypt(), st_distance(), …)
                 SELECT ef.extname
                   FROM regexp_matches(fn.def, '\m([A-Za-z_][A-Za-z0-9_$]*)"?\s*\(', 'g') AS m
                   JOIN ext_fn ef ON ef.proname = lower(m[1])
                  WHERE lower(m[1]) NOT IN (SELECT proname FROM ambiguous)
                 UNION
                 -- schema-qualified calls, even of names core also has (extensions.sign() of pgjwt)
                 SELECT ef.extname
                   FROM regexp_matches(fn.def, '"?\m([A-Za-z_][A-Za-z0-9_]*)"?\s*\.\s*"?([A-Za-z_][A-Za-z0-9_$]*)"?\s*\(', 'g') AS m
                   JOIN ext_fn ef ON ef.nspname = lower(m[1]) AND ef.proname = lower(m[2])
               ) x WHERE extname <> 'plpgsql' ORDER BY 1) AS extensions
    FROM fn
)
SELECT schema, name, owner, security_definer, language, search_path, platform_refs, extensions
  FROM scanned
 WHERE security_definer OR cardinality(platform_refs) > 0 OR cardinality(extensions) > 0
 ORDER BY schema, name;
