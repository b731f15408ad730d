-- A plain (non-Supabase) source with the types and objects that break naive copies.
CREATE SCHEMA extensions;
CREATE EXTENSION postgis WITH SCHEMA extensions;
CREATE EXTENSION "uuid-ossp" WITH SCHEMA extensions;
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('happy', 'sad', 'neutral');
CREATE DOMAIN app.posint AS integer CHECK (VALUE > 0);
CREATE TABLE app.users (
  id uuid PRIMARY KEY DEFAULT extensions.uuid_generate_v4(),
  email text UNIQUE,
  mood app.mood,
  karma app.posint,
  nickname text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE app.posts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  author_id uuid REFERENCES app.users (id) ON DELETE CASCADE,
  body text NOT NULL,
  tags text[],
  meta jsonb,
  score double precision,
  price numeric(20, 6),
  blob bytea,
  happened_at timestamptz,
  at_place extensions.geography(Point, 4326),
  body_length integer GENERATED ALWAYS AS (length(body)) STORED
);
CREATE INDEX posts_author_time ON app.posts (author_id, happened_at DESC);
CREATE INDEX posts_tags ON app.posts USING gin (tags);
CREATE INDEX posts_place ON app.posts USING gist (at_place);
CREATE TABLE app."Select" ("from" integer, "User Name" text);            -- reserved words, mixed case, no PK
CREATE TABLE app.events (id bigint, at date NOT NULL, payload jsonb) PARTITION BY RANGE (at);
CREATE TABLE app.events_2024 PARTITION OF app.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE app.events_2025 PARTITION OF app.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
ALTER TABLE app.events ADD PRIMARY KEY (id, at);
CREATE SEQUENCE app.ticket_seq START 1000;
CREATE TABLE app.tickets (n bigint DEFAULT nextval('app.ticket_seq') PRIMARY KEY, title text);
CREATE VIEW app.post_counts AS SELECT author_id, count(*) AS n FROM app.posts GROUP BY author_id;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.created_at := now(); RETURN NEW; END $$;
CREATE TRIGGER users_touch BEFORE UPDATE ON app.users FOR EACH ROW EXECUTE FUNCTION app.touch();
ALTER TABLE app.posts ENABLE ROW LEVEL SECURITY;
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'offramp_test_reader') THEN CREATE ROLE offramp_test_reader NOLOGIN; END IF; END $$;
GRANT USAGE ON SCHEMA app TO offramp_test_reader;
GRANT SELECT ON app.posts TO offramp_test_reader;
CREATE POLICY readers_see_tagged ON app.posts FOR SELECT TO offramp_test_reader USING (tags IS NOT NULL);

INSERT INTO app.users (id, email, mood, karma, nickname)
SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'user' || i || '@example.com',
       (ARRAY['happy','sad','neutral'])[1 + i % 3]::app.mood, i, CASE WHEN i % 5 = 0 THEN '' WHEN i % 7 = 0 THEN NULL ELSE 'nick' || i END
  FROM generate_series(1, 500) i;
INSERT INTO app.posts (author_id, body, tags, meta, score, price, blob, happened_at, at_place)
SELECT ('00000000-0000-4000-8000-' || lpad((1 + i % 500)::text, 12, '0'))::uuid,
       'post ' || i || ' ' || repeat('é', i % 17),
       CASE WHEN i % 4 = 0 THEN NULL ELSE ARRAY['t' || (i % 9), 'x,y', 'quote"d'] END,
       jsonb_build_object('i', i, 'nested', jsonb_build_object('a', ARRAY[1, 2]), 'nul', NULL),
       CASE i WHEN 1 THEN 'NaN'::float8 WHEN 2 THEN 'Infinity' WHEN 3 THEN '-Infinity' WHEN 4 THEN '-0' ELSE i / 7.0 END,
       i * 1.000001, decode(md5(i::text), 'hex'),
       CASE i WHEN 5 THEN 'infinity'::timestamptz WHEN 6 THEN '-infinity' ELSE '2025-01-01 00:00:00+00'::timestamptz + i * interval '1 minute' END,
       extensions.ST_SetSRID(extensions.ST_MakePoint(-180 + (i % 360) + 0.123456789, -80 + (i % 160) + 0.000001), 4326)::extensions.geography
  FROM generate_series(1, 3000) i;
INSERT INTO app."Select" VALUES (1, 'a'), (1, 'a'), (NULL, NULL), (2, '');
INSERT INTO app.events SELECT i, date '2024-06-01' + (i % 400), jsonb_build_object('k', i) FROM generate_series(1, 800) i;
INSERT INTO app.tickets (title) SELECT 'ticket ' || i FROM generate_series(1, 25) i;
ANALYZE;
