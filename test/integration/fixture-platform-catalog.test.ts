/**
 * The fixture at today's platform (issue 8, item 6): its catalog - roles with attributes,
 * memberships, schemas, every auth/storage column (type, not null, generated), auth/storage
 * functions (identity arguments, return type), RLS flags - matches the catalog of a real platform
 * database, ../shared/reference/platform-catalog.tsv, row for row. The rows are made by the very
 * script that made the reference (platform-catalog.sh, with psql), as supabase_admin like the
 * reference: format_type() qualifies a type whose schema is not on the search_path, and only
 * supabase_admin's has auth on it (postgres would print auth.aal_level where the platform says aal_level).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { fixtureDatabase, type TestDatabase } from '../bed/databases.js';

const REFERENCE = new URL('../../../shared/reference/', import.meta.url);

/** The reference rows (comments left out). */
function referenceRows(): string[] {
  return readFileSync(new URL('platform-catalog.tsv', REFERENCE), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

/** platform-catalog.sh's rows for a database; the password goes by environment, not argv. */
async function catalogRows(url: string): Promise<string[]> {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  const { stdout } = await execa('bash', [fileURLToPath(new URL('platform-catalog.sh', REFERENCE)), u.toString()], {
    env: { PGPASSWORD: password, PGCONNECT_TIMEOUT: '30' },
    timeout: 60_000,
  });
  return stdout.split('\n').filter((l) => l !== '');
}

describe('the fixture catalog against the platform reference', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await fixtureDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('every row of platform-catalog.tsv is in the fixture, equal (roles, members, schemas, columns, functions, RLS)', async () => {
    const reference = referenceRows();
    expect(reference.length).toBeGreaterThan(400);
    const actual = new Set(await catalogRows(db.adminUrl));
    const missing = reference.filter((row) => !actual.has(row));
    expect(missing).toEqual([]);
  });

  it('no auth/storage table, column, function or RLS flag beyond the reference (the fixture is not ahead of the platform either)', async () => {
    // Roles, members and schemas may be extra (pgbouncer's schema, vault, supabase_migrations, ...);
    // what GoTrue and the storage server own must be exactly the platform's.
    const exact = (row: string) => /^(column|function|rls)\t/.test(row);
    const reference = new Set(referenceRows().filter(exact));
    const extra = (await catalogRows(db.adminUrl)).filter(exact).filter((row) => !reference.has(row));
    expect(extra).toEqual([]);
  });

  it('the comparison can fail: a column the platform has, dropped from a copy of the fixture, is reported', async () => {
    const broken = await fixtureDatabase();
    try {
      await withClient(broken.adminUrl, { role: 'admin' }, (c) => c.query('ALTER TABLE auth.sessions DROP COLUMN refresh_token_counter'));
      const actual = new Set(await catalogRows(broken.adminUrl));
      expect(referenceRows().filter((row) => !actual.has(row))).toEqual(['column\tauth.sessions.refresh_token_counter\tbigint']);
    } finally {
      await broken.drop();
    }
  });
});
