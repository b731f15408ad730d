-- MFA factors by kind and status (totp, webauthn, phone; verified or not).
SELECT f.factor_type::text AS kind, f.status::text AS status, count(*)::int8 AS factors
  FROM auth.mfa_factors AS f
 GROUP BY 1, 2
 ORDER BY 1, 2;
