-- Identities per provider (email, phone, google, github, …), and how many users each provider serves.
SELECT provider, count(*)::int8 AS n, count(DISTINCT user_id)::int8 AS users
  FROM auth.identities GROUP BY provider ORDER BY provider;
