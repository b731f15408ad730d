/**
 * Auth test helpers: the fixture's users by their position k (password `fixture-password-<k>`,
 * 040-seed.sql), and a keep-layout copy of auth.users / auth.identities made with plain SQL, so
 * that verify and validate are tested against what the servers hold, not against the tool's copy.
 */
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
