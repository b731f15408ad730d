/**
 * `npm run fixture` (dist/fixture-cli.js) takes the bootstrap superuser's URL (issue 8, item 5):
 * given the non-superuser postgres's URL it stops with exit 2, a message naming the role, a hint
 * naming supabase_admin, no password in its output, and nothing written.
 */
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { emptySourceDatabase, urlWithDatabase, type TestDatabase } from '../bed/databases.js';

const FIXTURE_CLI = fileURLToPath(new URL('../../dist/fixture-cli.js', import.meta.url));

describe('npm run fixture', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await emptySourceDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('shows in its help that it takes the bootstrap superuser supabase_admin', async () => {
    const run = await execa(process.execPath, [FIXTURE_CLI, '--help'], { reject: false, timeout: 60_000 });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/supabase_admin/);
    expect(run.stdout).toMatch(/initdb -U supabase_admin/);
  });

  it('refuses the non-superuser postgres: exit 2, a hint, no password in the output, nothing written', async () => {
    const asPostgres = urlWithDatabase(inject('sourceUrl'), db.name);
    const password = decodeURIComponent(new URL(asPostgres).password);
    expect(password.length).toBeGreaterThan(8);
    const run = await execa(process.execPath, [FIXTURE_CLI, '--url', asPostgres], { reject: false, timeout: 120_000, env: { NO_COLOR: '1' } });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/role "postgres" is not a superuser/);
    expect(run.stderr).toMatch(/hint: .*initdb -U supabase_admin/);
    expect(`${run.stdout}${run.stderr}`).not.toContain(password);
    const [left] = await withClient(db.adminUrl, { role: 'admin' }, async (c) =>
      (await c.query<{ n: string }>(`SELECT count(*) AS n FROM pg_namespace WHERE nspname IN ('auth', 'storage', 'extensions')`)).rows);
    expect(Number(left!.n)).toBe(0);
  });
});
