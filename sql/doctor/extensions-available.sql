-- doctor: extensions this server can install, whether a non-superuser may (trusted), and what is installed.
SELECT a.name,
       a.default_version,
       a.installed_version,
       coalesce(v.trusted, false) AS trusted,
       coalesce(v.superuser, true) AS superuser
FROM pg_available_extensions a
LEFT JOIN pg_available_extension_versions v ON v.name = a.name AND v.version = a.default_version
ORDER BY a.name;
