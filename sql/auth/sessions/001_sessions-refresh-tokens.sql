-- Sessions and refresh tokens (facts sheet §4.4, §4.5), only with `auth migrate --include-sessions`,
-- so that refresh tokens mobile clients hold keep working. A template like
-- ../users/001_users-identities.sql ("@sessions", "@refresh_tokens", "@users", "@u:id").
-- `aal` is text with GoTrue's values as a CHECK rather than auth.aal_level: the table layout has
-- no `auth` schema to hold the enum.
CREATE SCHEMA IF NOT EXISTS "@sessions_schema";

CREATE TABLE IF NOT EXISTS "@sessions" (
  id uuid NOT NULL,
  user_id uuid NOT NULL,
  created_at timestamptz,
  updated_at timestamptz,
  factor_id uuid,
  aal text CHECK (aal IN ('aal1', 'aal2', 'aal3')),
  not_after timestamptz,
  refreshed_at timestamp without time zone,
  user_agent text,
  ip inet,
  tag text,
  CONSTRAINT "@sessions_name:pkey" PRIMARY KEY (id),
  CONSTRAINT "@sessions_name:user_id_fkey" FOREIGN KEY (user_id) REFERENCES "@users" ("@u:id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "@sessions_name:user_id_idx" ON "@sessions" (user_id);
CREATE INDEX IF NOT EXISTS "@sessions_name:not_after_idx" ON "@sessions" (not_after DESC);

CREATE TABLE IF NOT EXISTS "@refresh_tokens" (
  id bigserial NOT NULL,
  token varchar(255),
  user_id varchar(255),          -- the user's uuid as text, without a foreign key, as in GoTrue
  revoked boolean,
  created_at timestamptz,
  updated_at timestamptz,
  parent varchar(255),
  session_id uuid,
  CONSTRAINT "@refresh_tokens_name:pkey" PRIMARY KEY (id),
  CONSTRAINT "@refresh_tokens_name:token_unique" UNIQUE (token),
  CONSTRAINT "@refresh_tokens_name:session_id_fkey" FOREIGN KEY (session_id) REFERENCES "@sessions" (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "@refresh_tokens_name:session_id_revoked_idx" ON "@refresh_tokens" (session_id, revoked);
CREATE INDEX IF NOT EXISTS "@refresh_tokens_name:parent_idx" ON "@refresh_tokens" (parent);
