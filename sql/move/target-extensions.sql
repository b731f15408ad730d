-- Extensions the target offers: installed version and schema, and whether the connecting role may
-- create it (a superuser any; anyone else only a trusted one, with CREATE on the database).
SELECT a.name, a.default_version, a.installed_version, n.nspname AS schema,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
         OR coalesce(v.trusted, false) AS creatable
  FROM pg_available_extensions a
  LEFT JOIN pg_available_extension_versions v ON v.name = a.name AND v.version = a.default_version
  LEFT JOIN pg_extension e ON e.extname = a.name
  LEFT JOIN pg_namespace n ON n.oid = e.extnamespace;
