-- offramp's local users and identities (issue 10), GoTrue's names and types for every carried
-- column (../shared/reference/supabase-facts.md §4.2, §4.3). A template: identifiers written
-- "@..." are placeholders that src/core/auth/tables.ts replaces token by token (PostgreSQL's own
-- scanner finds them) with the layout's names, so one file serves `keep` (auth.users) and
-- `table` (e.g. public.users, columns renamed):
--   "@users" / "@identities"           the qualified table
--   "@users_schema" / "@identities_schema"
--   "@users_name:<suffix>"             <table name>_<suffix>, for constraint and index names
--   "@u:<column>" / "@i:<column>"      the local name of a GoTrue column
-- IF NOT EXISTS throughout: a table offramp made before (its shape is checked first) is kept.
CREATE SCHEMA IF NOT EXISTS "@users_schema";
CREATE SCHEMA IF NOT EXISTS "@identities_schema";

CREATE TABLE IF NOT EXISTS "@users" (
  "@u:id" uuid NOT NULL,
  "@u:aud" varchar(255),
  "@u:role" varchar(255),
  "@u:email" varchar(255),
  "@u:encrypted_password" varchar(255),
  "@u:email_confirmed_at" timestamptz,
  "@u:last_sign_in_at" timestamptz,
  "@u:raw_app_meta_data" jsonb,
  "@u:raw_user_meta_data" jsonb,
  "@u:created_at" timestamptz,
  "@u:updated_at" timestamptz,
  "@u:phone" text DEFAULT NULL,
  "@u:phone_confirmed_at" timestamptz,
  -- generated exactly as GoTrue generates it, so it is never written and always agrees
  "@u:confirmed_at" timestamptz GENERATED ALWAYS AS (LEAST("@u:email_confirmed_at", "@u:phone_confirmed_at")) STORED,
  "@u:banned_until" timestamptz,
  "@u:is_sso_user" boolean NOT NULL DEFAULT false,
  "@u:deleted_at" timestamptz,
  "@u:is_anonymous" boolean NOT NULL DEFAULT false,
  CONSTRAINT "@users_name:pkey" PRIMARY KEY ("@u:id"),
  CONSTRAINT "@users_name:phone_key" UNIQUE ("@u:phone")
);
-- No plain unique email: SSO accounts may share an address (GoTrue's partial key).
CREATE UNIQUE INDEX IF NOT EXISTS "@users_name:email_partial_key" ON "@users" ("@u:email") WHERE "@u:is_sso_user" = false;
CREATE INDEX IF NOT EXISTS "@users_name:is_anonymous_idx" ON "@users" ("@u:is_anonymous");
COMMENT ON TABLE "@users" IS 'Auth: users carried from Supabase Auth by offramp auth migrate (GoTrue''s internal token columns left behind).';

CREATE TABLE IF NOT EXISTS "@identities" (
  "@i:provider_id" text NOT NULL,
  "@i:user_id" uuid NOT NULL,
  "@i:identity_data" jsonb NOT NULL,
  "@i:provider" text NOT NULL,
  "@i:last_sign_in_at" timestamptz,
  "@i:created_at" timestamptz,
  "@i:updated_at" timestamptz,
  "@i:email" text GENERATED ALWAYS AS (lower("@i:identity_data" ->> 'email')) STORED,
  "@i:id" uuid NOT NULL DEFAULT gen_random_uuid(),
  CONSTRAINT "@identities_name:pkey" PRIMARY KEY ("@i:id"),
  CONSTRAINT "@identities_name:provider_id_provider_unique" UNIQUE ("@i:provider_id", "@i:provider"),
  CONSTRAINT "@identities_name:user_id_fkey" FOREIGN KEY ("@i:user_id") REFERENCES "@users" ("@u:id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "@identities_name:email_idx" ON "@identities" ("@i:email" text_pattern_ops);
CREATE INDEX IF NOT EXISTS "@identities_name:user_id_idx" ON "@identities" ("@i:user_id");
COMMENT ON TABLE "@identities" IS 'Auth: identities carried from Supabase Auth by offramp auth migrate.';
