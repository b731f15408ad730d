-- What the auth stage will move: users by password kind and state. Columns that older GoTrue
-- versions lack (is_anonymous, is_sso_user, deleted_at, banned_until) are read through to_jsonb so
-- the query works on any auth.users shape. Bcrypt hashes start with $2a$/$2b$/$2y$.
SELECT count(*)::int8 AS users,
       count(*) FILTER (WHERE u.j->>'encrypted_password' ~ '^\$2[abxy]?\$')::int8 AS bcrypt,
       count(*) FILTER (WHERE coalesce(u.j->>'encrypted_password', '') = '')::int8 AS empty,
       count(*) FILTER (WHERE (u.j->>'banned_until')::timestamptz > now())::int8 AS banned,
       count(*) FILTER (WHERE u.j->>'deleted_at' IS NOT NULL)::int8 AS deleted,
       count(*) FILTER (WHERE (u.j->>'is_anonymous')::boolean)::int8 AS anonymous,
       count(*) FILTER (WHERE (u.j->>'is_sso_user')::boolean)::int8 AS sso
  FROM (SELECT to_jsonb(x) AS j FROM auth.users x) AS u;
