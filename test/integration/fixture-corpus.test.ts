/**
 * Real project SQL against the platform layer alone: if a migration written for hosted Supabase
 * does not load into a `--platform-only` fixture database, the fixture lacks something the
 * platform has. Every file of shared/corpus/rls (31 projects, 318 policies) is loaded into its own
 * fresh platform-only database, and so is fixtures/projects/places-app.sql, a hand-written schema
 * plus seed in the usual Supabase style; the latter is then exercised as a signed-in user.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { loadFixture } from '../../src/fixture/load.js';
import { emptySourceDatabase, urlWithDatabase, type TestDatabase } from '../bed/databases.js';

const CORPUS_DIR = new URL('../../../shared/corpus/rls/', import.meta.url);
const PLACES_APP = new URL('../../fixtures/projects/places-app.sql', import.meta.url);

const corpusFiles = readdirSync(fileURLToPath(CORPUS_DIR)).filter((f) => f.endsWith('.sql')).sort();

/**
 * Policies per file as INDEX.md counts them (CREATE POLICY statements). jaymarand__ovgi9 drops and
 * re-creates one policy under the same name, so its 14 statements leave 13 policies (INDEX.md,
 * "Same policy name re-created across migrations").
 */
function expectedPolicies(): Map<string, number> {
  const index = readFileSync(new URL('INDEX.md', CORPUS_DIR), 'utf8');
  const counts = new Map<string, number>();
  for (const m of index.matchAll(/`([^`]+\.sql)` \|[^|]*\| (\d+) \|/g)) counts.set(m[1]!, Number(m[2]));
  const recreated = counts.get('jaymarand__ovgi9.sql');
  if (recreated !== undefined) counts.set('jaymarand__ovgi9.sql', recreated - 1);
  return counts;
}

describe('real project SQL loads into a platform-only fixture database', () => {
  let template: TestDatabase;
  const adminUrl = inject('sourceAdminUrl');
  const made: string[] = [];

  /** A fresh copy of the platform-only database (CREATE DATABASE ... TEMPLATE is far quicker than a reload). */
  async function freshPlatformDatabase(): Promise<string> {
    const name = `srcplat_${randomBytes(4).toString('hex')}`;
    await withClient(adminUrl, { role: 'admin' }, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template.name}`));
    made.push(name);
    return urlWithDatabase(adminUrl, name);
  }

  beforeAll(async () => {
    template = await emptySourceDatabase();
    const summary = await loadFixture(template.url, { platformOnly: true });
    expect(summary.platformOnly).toBe(true);
    expect(summary.files.every((f) => f.startsWith('fixtures/platform/'))).toBe(true);
  });

  afterAll(async () => {
    await withClient(adminUrl, { role: 'admin' }, async (c) => {
      for (const name of made) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
    await template?.drop();
  });

  it('the corpus is there (31 project files)', () => {
    expect(corpusFiles.length).toBe(31);
    expect(expectedPolicies().size).toBe(31);
  });

  // All 31 files load; none had to be skipped for reasons unrelated to Supabase fidelity.
  it.each(corpusFiles)('%s', async (file) => {
    const sql = readFileSync(new URL(file, CORPUS_DIR), 'utf8');
    const url = await freshPlatformDatabase();
    const policies = await withClient(url, { role: 'admin' }, async (c) => {
      await c.query(sql);
      const [row] = (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_policies`)).rows;
      return row!.n;
    });
    expect(policies).toBe(expectedPolicies().get(file));
  });

  describe('a hand-written project (fixtures/projects/places-app.sql)', () => {
    let url: string;
    const asUser = async <T extends pg.QueryResultRow>(c: pg.Client, sub: string, text: string): Promise<T[]> => {
      await c.query('BEGIN');
      try {
        await c.query('SET LOCAL ROLE authenticated');
        await c.query(`SELECT set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub, role: 'authenticated' })]);
        return (await c.query<T>(text)).rows;
      } finally {
        await c.query('ROLLBACK');
      }
    };
    const ALICE = 'b1a0c6e0-0f5e-4a52-8d6b-7d1c7f0f2a01';
    const BOB = 'b1a0c6e0-0f5e-4a52-8d6b-7d1c7f0f2a02';

    beforeAll(async () => {
      url = await freshPlatformDatabase();
      await withClient(url, { role: 'admin' }, (c) => c.query(readFileSync(PLACES_APP, 'utf8')));
    });

    it('users and identities as GoTrue would have them, profiles from the trigger, passwords that verify', async () => {
      await withClient(url, { role: 'admin' }, async (c) => {
        const { rows } = await c.query(
          `SELECT u.email, i.email AS identity_email, i.provider, p.full_name,
                  extensions.crypt(split_part(u.email, '@', 1) || '-password', u.encrypted_password) = u.encrypted_password AS password_ok,
                  u.confirmed_at IS NOT NULL AS confirmed
             FROM auth.users u JOIN auth.identities i ON i.user_id = u.id JOIN public.profiles p ON p.id = u.id
            ORDER BY u.email`,
        );
        expect(rows).toEqual([
          { email: 'alice@example.com', identity_email: 'alice@example.com', provider: 'email', full_name: 'Alice Example', password_ok: true, confirmed: true },
          { email: 'bob@example.com', identity_email: 'bob@example.com', provider: 'email', full_name: 'Bob Example', password_ok: true, confirmed: true },
        ]);
      });
    });

    it('policies on auth.uid() and storage.foldername() let each user see and write only their own rows and files', async () => {
      await withClient(url, { role: 'admin' }, async (c) => {
        const alicePlaces = await asUser<{ name: string }>(c, ALICE, `SELECT name FROM public.places ORDER BY name`);
        expect(alicePlaces.map((r) => r.name)).toEqual(['LX Factory', 'Miradouro da Graça']);
        const bobPlaces = await asUser<{ name: string }>(c, BOB, `SELECT name FROM public.places`);
        expect(bobPlaces.map((r) => r.name)).toEqual(['Tempelhofer Feld']);
        const bobKeys = await asUser<{ n: number }>(c, BOB, `SELECT count(*)::int AS n FROM public.api_keys`);
        expect(bobKeys).toEqual([{ n: 1 }]);
        const aliceFiles = await asUser<{ path_tokens: string[] }>(c, ALICE, `SELECT path_tokens FROM storage.objects`);
        expect(aliceFiles).toEqual([{ path_tokens: [ALICE, 'graca.jpg'] }]);
        expect(await asUser(c, BOB, `SELECT 1 FROM storage.objects`)).toEqual([]);

        const ownFolder = await asUser<{ n: number }>(
          c, BOB, `WITH ins AS (INSERT INTO storage.objects (bucket_id, name, owner_id) VALUES ('place-photos', '${BOB}/feld.jpg', '${BOB}') RETURNING 1)
                   SELECT count(*)::int AS n FROM ins`,
        );
        expect(ownFolder).toEqual([{ n: 1 }]);
        await expect(
          asUser(c, BOB, `INSERT INTO storage.objects (bucket_id, name, owner_id) VALUES ('place-photos', '${ALICE}/forged.jpg', '${BOB}')`),
        ).rejects.toThrow(/row-level security/);
      });
    });

    it('PostGIS through schema extensions: a geography column, a GiST index, a distance query', async () => {
      await withClient(url, { role: 'admin' }, async (c) => {
        const { rows } = await c.query(`SELECT name FROM public.places_near(38.7166, -9.1317, 2000)`);
        expect(rows).toEqual([{ name: 'Miradouro da Graça' }]);
        await c.query('SET search_path = pg_catalog');
        const { rows: defaults } = await c.query(
          `SELECT format_type(a.atttypid, a.atttypmod) AS geo FROM pg_attribute a WHERE a.attrelid = 'public.places'::regclass AND a.attname = 'geo'`,
        );
        expect(defaults).toEqual([{ geo: 'extensions.geography(Point,4326)' }]);
      });
    });
  });
});
