-- Identities per provider (email, phone, google, github, …).
SELECT provider, count(*)::int8 AS n FROM auth.identities GROUP BY provider ORDER BY provider;
