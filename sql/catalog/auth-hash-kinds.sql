-- Password hash kinds in auth.users, counted by kind, variant and (bcrypt) cost. Only the scheme
-- prefix is read ($2a$10$…, $argon2id$…, $fbscrypt$…): no hash ever leaves the server.
-- GoTrue writes bcrypt; argon2 and Firebase scrypt hashes arrive through user imports.
SELECT CASE
         WHEN coalesce(u.encrypted_password, '') = '' THEN 'none'
         WHEN u.encrypted_password ~ '^\$2[abxy]?\$[0-9]{2}\$' THEN 'bcrypt'
         WHEN u.encrypted_password LIKE '$argon2%' THEN 'argon2'
         WHEN u.encrypted_password LIKE '$fbscrypt$%' THEN 'firebase-scrypt'
         ELSE 'other'
       END AS kind,
       CASE WHEN u.encrypted_password LIKE '$%' THEN split_part(u.encrypted_password, '$', 2) END AS variant,
       CASE WHEN u.encrypted_password ~ '^\$2[abxy]?\$[0-9]{2}\$' THEN split_part(u.encrypted_password, '$', 3)::int END AS cost,
       count(*)::int8 AS users
  FROM auth.users AS u
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3;
