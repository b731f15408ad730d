/**
 * Auth test helpers: the fixture's users by their position k (password `fixture-password-<k>`,
 * 040-seed.sql), `auth migrate` into a target, and the foreign keys into auth.users that bring-home
 * (h10) creates, made here from the source's catalog until that lands.
 */
import type pg from 'pg';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authMigrate } from '../../src/core/auth/migrate.js';
import type { AuthLayout } from '../../src/core/auth/layout.js';
import { withClient } from '../../src/db/connect.js';
import { silentProgress } from '../../src/output/progress.js';

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

/** `offramp auth migrate` (a10's core) into the target: the keep layout unless another is given. */
export async function migrateAuth(sourceUrl: string, targetUrl: string, layout: AuthLayout = { kind: 'keep' }): Promise<void> {
  await authMigrate({
    source: sourceUrl, target: targetUrl, layout, includeSessions: false, includeMfa: false,
    workDir: mkdtempSync(join(tmpdir(), 'offramp-auth-')), yes: false, connectTimeoutSeconds: 10,
  }, silentProgress);
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
    for (const fk of fks) {
      const [present] = (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = $1::regclass AND quote_ident(conname) = $2', [fk.tbl, fk.name])).rows;
      if (!present!.n) await c.query(`ALTER TABLE ${fk.tbl} ADD CONSTRAINT ${fk.name} ${fk.def}`);
    }
  });
  return fks.map((f) => `${f.tbl}.${f.name}`);
}
