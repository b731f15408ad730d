/**
 * Helpers for the validate tests. The copied target is made by `offramp copy` itself (the move
 * issue's copy, as a migration does it), after giving the target the auth helpers the RLS stage
 * will provide, so that the policies calling auth.uid() / auth.jwt() arrive and can be compared;
 * what copy defers (foreign keys to auth.users, storage.objects) validate must call expected.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { copyDatabase, copyOptions } from '../../src/core/move/copy.js';
import { withClient } from '../../src/db/connect.js';
import { silentProgress } from '../../src/output/progress.js';

const AUTH_HELPERS = `
  CREATE SCHEMA IF NOT EXISTS auth;
  CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
  CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('request.jwt.claim.role', true), '') $$;
  CREATE FUNCTION auth.email() RETURNS text LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('request.jwt.claim.email', true), '') $$;
  CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$ SELECT coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb $$;`;

export async function copyForValidation(sourceUrl: string, targetUrl: string): Promise<void> {
  const supabase = await withClient(sourceUrl, { role: 'admin' }, async (c) =>
    (await c.query<{ ok: boolean }>(`SELECT to_regclass('auth.users') IS NOT NULL AND to_regclass('storage.objects') IS NOT NULL AS ok`)).rows[0]!.ok);
  if (supabase) await withClient(targetUrl, { role: 'admin' }, (c) => c.query(AUTH_HELPERS));
  await copyDatabase(copyOptions(sourceUrl, targetUrl, { workDir: mkdtempSync(join(tmpdir(), 'offramp-validate-')) }), silentProgress);
}

/** Run statements on a database as superuser, with triggers off (so a mutation changes only what it says). */
export async function mutate(url: string, statements: string, values: unknown[] = []): Promise<void> {
  await withClient(url, { role: 'admin' }, async (c) => {
    await c.query('SET session_replication_role = replica');
    await c.query(statements, values);
  });
}

export async function sqlRows<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  return withClient(url, { role: 'admin' }, async (c) => (await c.query<T>(text, values)).rows);
}

/** A copy of a database on the same server (CREATE DATABASE … TEMPLATE: a file copy, fast). */
export async function cloneDatabase(adminUrl: string, template: string, name: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  await withClient(adminUrl, { role: 'admin' }, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    name,
    url: u.toString(),
    drop: () => withClient(adminUrl, { role: 'admin' }, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
