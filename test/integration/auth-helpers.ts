/**
 * Auth test helpers: the fixture's users by their position k (password `fixture-password-<k>`,
 * 040-seed.sql), and a keep-layout copy of auth.users / auth.identities made with plain SQL, so
 * that verify and validate are tested against what the servers hold, not against the tool's copy.
 */
import type pg from 'pg';
import { withClient } from '../../src/db/connect.js';

export interface FixtureUser {
  id: string;
  email: string | null;
}

/** Users of the first block by k (1..72): the seed creates them 3 h 7 min apart, in order. */
export async function fixtureUsers(sourceAdminUrl: string): Promise<Map<number, FixtureUser>> {
  const rows = await withClient(sourceAdminUrl, { role: 'admin' }, (c) =>
    c.query<{ k: number; id: string; email: string | null }>('SELECT (row_number() OVER (ORDER BY created_at))::int AS k, id::text AS id, email FROM auth.users ORDER BY created_at LIMIT 72'));
  return new Map(rows.rows.map((r) => [r.k, { id: r.id, email: r.email }]));
}

const USER_COLUMNS = `id uuid PRIMARY KEY, aud varchar(255), role varchar(255), email varchar(255), encrypted_password varchar(255),
  email_confirmed_at timestamptz, last_sign_in_at timestamptz, raw_app_meta_data jsonb, raw_user_meta_data jsonb,
  created_at timestamptz, updated_at timestamptz, phone text, phone_confirmed_at timestamptz, confirmed_at timestamptz,
  banned_until timestamptz, is_sso_user boolean NOT NULL DEFAULT false, deleted_at timestamptz, is_anonymous boolean NOT NULL DEFAULT false`;
const IDENTITY_COLUMNS = `id uuid PRIMARY KEY, provider_id text NOT NULL, user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  identity_data jsonb NOT NULL, provider text NOT NULL, last_sign_in_at timestamptz, created_at timestamptz, updated_at timestamptz, email text`;

/** auth.users and auth.identities on the target in GoTrue's column names, filled from the source. */
export async function copyUsersKeepShaped(sourceAdminUrl: string, targetAdminUrl: string): Promise<void> {
  const [users, identities] = await withClient(sourceAdminUrl, { role: 'admin' }, async (c) => [
    (await c.query<{ j: unknown }>('SELECT coalesce(jsonb_agg(to_jsonb(u)), \'[]\') AS j FROM auth.users u')).rows[0]!.j,
    (await c.query<{ j: unknown }>('SELECT coalesce(jsonb_agg(to_jsonb(i)), \'[]\') AS j FROM auth.identities i')).rows[0]!.j,
  ]);
  await withClient(targetAdminUrl, { role: 'admin' }, async (c) => {
    await c.query(`CREATE SCHEMA IF NOT EXISTS auth; CREATE TABLE auth.users (${USER_COLUMNS}); CREATE TABLE auth.identities (${IDENTITY_COLUMNS})`);
    await c.query('INSERT INTO auth.users SELECT * FROM jsonb_populate_recordset(NULL::auth.users, $1)', [JSON.stringify(users)]);
    await c.query('INSERT INTO auth.identities SELECT * FROM jsonb_populate_recordset(NULL::auth.identities, $1)', [JSON.stringify(identities)]);
  });
}

/**
 * What `auth migrate` does for the keep layout besides the rows: the project's foreign keys into
 * auth.users / auth.identities, with their ON DELETE actions, read from the source's catalog.
 */
export async function bringHomeForeignKeys(sourceAdminUrl: string, targetAdminUrl: string): Promise<string[]> {
  const fks = await withClient(sourceAdminUrl, { role: 'admin' }, async (c) => (await c.query<{ tbl: string; name: string; def: string }>(`
    SET search_path = pg_catalog; -- pg_get_constraintdef then qualifies every name
    SELECT format('%I.%I', n.nspname, r.relname) AS tbl, format('%I', co.conname) AS name, pg_get_constraintdef(co.oid) AS def
      FROM pg_constraint co JOIN pg_class r ON r.oid = co.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
     WHERE co.contype = 'f' AND co.conparentid = 0 AND co.confrelid IN ('auth.users'::regclass, 'auth.identities'::regclass) AND n.nspname NOT IN ('auth', 'storage')
     ORDER BY 1, 2`) as unknown as pg.QueryResult[])[1]!.rows as Array<{ tbl: string; name: string; def: string }>);
  await withClient(targetAdminUrl, { role: 'admin' }, async (c) => {
    for (const fk of fks) await c.query(`ALTER TABLE ${fk.tbl} ADD CONSTRAINT ${fk.name} ${fk.def}`);
  });
  return fks.map((f) => `${f.tbl}.${f.name}`);
}
