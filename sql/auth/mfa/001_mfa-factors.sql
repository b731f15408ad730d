-- MFA factors (facts sheet §4.6), only with `auth migrate --include-mfa`. A template like
-- ../users/001_users-identities.sql. factor_type and status are text with GoTrue's values as
-- CHECKs (the table layout has no `auth` schema for the enums). `secret` holds TOTP secrets.
CREATE SCHEMA IF NOT EXISTS "@mfa_factors_schema";

CREATE TABLE IF NOT EXISTS "@mfa_factors" (
  id uuid NOT NULL,
  user_id uuid NOT NULL,
  friendly_name text,
  factor_type text NOT NULL CHECK (factor_type IN ('totp', 'webauthn', 'phone')),
  status text NOT NULL CHECK (status IN ('unverified', 'verified')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  secret text,
  phone text,
  last_challenged_at timestamptz,
  CONSTRAINT "@mfa_factors_name:pkey" PRIMARY KEY (id),
  CONSTRAINT "@mfa_factors_name:last_challenged_at_key" UNIQUE (last_challenged_at),
  CONSTRAINT "@mfa_factors_name:user_id_fkey" FOREIGN KEY (user_id) REFERENCES "@users" ("@u:id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "@mfa_factors_name:user_id_idx" ON "@mfa_factors" (user_id);
