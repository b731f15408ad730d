-- Every source user's password hash as a SHA-256 digest, so that continuity is proven by comparing
-- digests with the target's: the hashes themselves never leave the server.
SELECT u.id::text AS id,
       encode(sha256(convert_to(coalesce(u.encrypted_password, ''), 'UTF8')), 'hex') AS digest
  FROM auth.users AS u;
