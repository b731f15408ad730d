-- The users rls verify impersonates, read from the source's auth.users with the session each one
-- last had (for the session_id and aal claims). Whole rows as jsonb, so a users table of an older
-- or newer GoTrue (columns added or missing) reads alike; the caller picks the claim fields.
-- $1: user ids to read (NULL: sample), $2: how many to sample (NULL: all), $3: the sampling seed.
SELECT to_jsonb(u) AS row,
       (SELECT to_jsonb(s) FROM auth.sessions AS s WHERE s.user_id = u.id
         ORDER BY s.created_at DESC NULLS LAST, s.id LIMIT 1) AS session
  FROM auth.users AS u
 WHERE ($1::uuid[] IS NULL OR u.id = ANY ($1::uuid[]))
 ORDER BY md5(u.id::text || $3::text), u.id
 LIMIT $2::bigint
