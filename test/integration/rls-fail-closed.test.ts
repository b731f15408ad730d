/**
 * Issue 11, fail closed: a RESTRICTIVE policy that is left out (not translatable, no --force) must
 * not leave its table's permissive policies installed alone for the same command, or the target
 * would allow what the source refuses. They are held back (reported with the reason), the table
 * keeps RLS, so the target denies. And a policy reading auth.mfa_factors is translatable exactly
 * when the target has auth.mfa_factors with the columns it reads (`auth migrate --include-mfa`, which
 * keeps the platform's enum columns as text: the `'verified'::auth.factor_status` pg_get_expr prints
 * is compared as text there).
 * Own small tables on an empty source; the target is read independently (pg_policies, and writes
 * attempted as a principal in rolled-back transactions on both servers).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { translateRls, type RlsTranslateOptions, type RlsTranslation } from '../../src/core/rls/translate.js';
import { silentProgress } from '../../src/output/progress.js';
import { emptySourceDatabase, emptyTargetDatabase, type TestDatabase, trackDatabases } from '../bed/databases.js';
import { sql } from './move-helpers.js';

const track = trackDatabases();
let source: TestDatabase;
let target: TestDatabase;
let workDir: string;

const WITH_MFA = '00000000-0000-4000-8000-000000000001';
const WITHOUT_MFA = '00000000-0000-4000-8000-000000000002';

const TABLES = `
  CREATE TABLE public.notes (id int PRIMARY KEY, owner uuid, body text);
  CREATE TABLE public.vaults (id int PRIMARY KEY, owner uuid);
  INSERT INTO public.vaults VALUES (1, '${WITH_MFA}'), (2, '${WITHOUT_MFA}');`;
const MFA_ROWS = `INSERT INTO auth.mfa_factors (id, user_id, factor_type, status) VALUES (gen_random_uuid(), '${WITH_MFA}', 'totp', 'verified');
  GRANT USAGE ON SCHEMA auth TO authenticated; GRANT SELECT ON auth.mfa_factors TO authenticated;`;

const options = (changes: Partial<RlsTranslateOptions> = {}): RlsTranslateOptions => ({
  source: source.url, target: target.url, mode: 'compat', authLayout: { kind: 'keep' }, apply: true, force: false, disableRls: false, yes: false, workDir, ...changes,
});

const installedOn = async (url: string): Promise<string[]> =>
  (await sql<{ p: string }>(url, `SELECT tablename || ': ' || policyname AS p FROM pg_catalog.pg_policies WHERE schemaname = 'public' ORDER BY 1`)).map((r) => r.p);

/** A write attempted as an authenticated user in a transaction that is always rolled back. */
async function attempt(url: string, sub: string, statement: string, headers: Record<string, string> = {}): Promise<'allowed' | 'refused'> {
  return withClient(url, { role: 'admin' }, async (c) => {
    await c.query('BEGIN');
    try {
      await c.query('SET LOCAL ROLE authenticated');
      await c.query("SELECT set_config('request.jwt.claims', $1, true), set_config('request.headers', $2, true)",
        [JSON.stringify({ sub, role: 'authenticated' }), JSON.stringify(headers)]);
      const r = await c.query(statement);
      return (r.rowCount ?? 0) > 0 ? 'allowed' : 'refused';
    } catch (error) {
      if ((error as { code?: string }).code === '42501') return 'refused';
      throw error;
    } finally {
      await c.query('ROLLBACK');
    }
  });
}

const byName = (r: RlsTranslation, name: string) => {
  const p = r.policies.find((x) => x.name === name);
  expect(p, name).toBeDefined();
  return p!;
};

let first: RlsTranslation;

beforeAll(async () => {
  source = await track(emptySourceDatabase());
  target = await track(emptyTargetDatabase());
  workDir = mkdtempSync(join(tmpdir(), 'offramp-rls-closed-'));
  await sql(source.adminUrl, `
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon NOLOGIN; END IF;
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN; END IF;
    END $$;
    CREATE SCHEMA auth;
    CREATE TABLE auth.users (id uuid PRIMARY KEY, email text);
    CREATE TYPE auth.factor_status AS ENUM ('unverified', 'verified');
    CREATE TABLE auth.mfa_factors (id uuid PRIMARY KEY, user_id uuid NOT NULL, friendly_name text, factor_type text NOT NULL, status auth.factor_status NOT NULL, secret text);
    CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $f$ SELECT nullif(current_setting('request.jwt.claims', true)::jsonb ->> 'sub', '')::uuid $f$;
    ${TABLES}
    ${MFA_ROWS}
    ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
    ALTER TABLE public.vaults ENABLE ROW LEVEL SECURITY;
    CREATE POLICY "anyone reads notes" ON public.notes FOR SELECT USING (true);
    CREATE POLICY "owners write notes" ON public.notes FOR INSERT WITH CHECK (owner = auth.uid());
    CREATE POLICY "app header gates inserts" ON public.notes AS RESTRICTIVE FOR INSERT
      WITH CHECK ((current_setting('request.headers', true)::json ->> 'x-app') = 'admin');
    CREATE POLICY "owners read vaults" ON public.vaults FOR SELECT USING (owner = auth.uid());
    CREATE POLICY "owners delete vaults" ON public.vaults FOR DELETE USING (owner = auth.uid());
    CREATE POLICY "require mfa to delete" ON public.vaults AS RESTRICTIVE FOR DELETE
      USING (EXISTS (SELECT 1 FROM auth.mfa_factors f WHERE f.user_id = auth.uid() AND f.status = 'verified'));
    GRANT USAGE ON SCHEMA public TO anon, authenticated;
    GRANT ALL ON public.notes, public.vaults TO anon, authenticated;`);
  // The target as copy + auth migrate (without --include-mfa) leave it: the tables, auth.users, no auth.mfa_factors.
  await sql(target.adminUrl, `CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY, email text); ${TABLES}`);
  first = await translateRls(options(), silentProgress);
}, 120_000);

describe('a left-out restrictive policy holds back its table\'s other policies for that command', () => {
  it('reports the restrictive ones not translatable and the permissive ones held back, with the reason', () => {
    const header = byName(first, 'app header gates inserts');
    expect(header).toMatchObject({ class: 'not-translatable', installed: false });
    expect(header.reasons.join('; ')).toMatch(/request\.headers/);
    const mfa = byName(first, 'require mfa to delete');
    expect(mfa).toMatchObject({ class: 'not-translatable', installed: false });
    expect(mfa.reasons[0]).toBe('reads auth.mfa_factors, which the target does not have: run offramp auth migrate --include-mfa');

    const writes = byName(first, 'owners write notes');
    expect(writes).toMatchObject({ installed: false, heldBack: true });
    expect(writes.leftOut).toMatch(/^held back: restrictive policy "app header gates inserts" on the same table and command is not translatable: .*request\.headers/);
    const deletes = byName(first, 'owners delete vaults');
    expect(deletes).toMatchObject({ installed: false, heldBack: true });
    expect(deletes.leftOut).toMatch(/^held back: restrictive policy "require mfa to delete" on the same table and command is not translatable: reads auth\.mfa_factors/);
    // Other commands are not restricted by them: installed.
    expect(byName(first, 'anyone reads notes').installed).toBe(true);
    expect(byName(first, 'owners read vaults').installed).toBe(true);
    expect(first.counts).toMatchObject({ installed: 2, leftOut: 4, heldBack: 2 });
    expect(first.report).toMatch(/2 held back/);
  });

  it('the target holds only the installed policies, keeps RLS on, and refuses what the source refuses', async () => {
    expect(await installedOn(target.adminUrl)).toEqual(['notes: anyone reads notes', 'vaults: owners read vaults']);
    expect(await sql(target.adminUrl, `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relrowsecurity ORDER BY 1`))
      .toEqual([{ relname: 'notes' }, { relname: 'vaults' }]);
    const insert = `INSERT INTO public.notes VALUES (10, '${WITHOUT_MFA}', 'x')`;
    const del = 'DELETE FROM public.vaults WHERE id = 2';
    // Without the header / without a verified factor, the source refuses: so must the target (the permissive policy alone would allow).
    expect(await attempt(source.adminUrl, WITHOUT_MFA, insert)).toBe('refused');
    expect(await attempt(target.adminUrl, WITHOUT_MFA, insert)).toBe('refused');
    expect(await attempt(source.adminUrl, WITHOUT_MFA, del)).toBe('refused');
    expect(await attempt(target.adminUrl, WITHOUT_MFA, del)).toBe('refused');
    // The source allows it with the header; the target denies (fail closed, never over-allows).
    expect(await attempt(source.adminUrl, WITHOUT_MFA, insert, { 'x-app': 'admin' })).toBe('allowed');
    expect(await attempt(target.adminUrl, WITHOUT_MFA, insert, { 'x-app': 'admin' })).toBe('refused');
  });
});

describe('auth.mfa_factors on the target', () => {
  it('without the columns the policy reads: not translatable, naming them', async () => {
    await sql(target.adminUrl, 'CREATE TABLE auth.mfa_factors (id uuid PRIMARY KEY, user_id uuid NOT NULL)');
    const r = await translateRls(options({ apply: false }), silentProgress);
    expect(byName(r, 'require mfa to delete').reasons[0]).toBe('reads auth.mfa_factors.status, which the target\'s auth.mfa_factors does not have: run offramp auth migrate --include-mfa');
    expect(byName(r, 'owners delete vaults').heldBack).toBe(true);
  });

  it('with them (as auth migrate --include-mfa makes it): auth translation, installed, and the deletes behave as on the source', async () => {
    await sql(target.adminUrl, `ALTER TABLE auth.mfa_factors ADD COLUMN friendly_name text, ADD COLUMN factor_type text NOT NULL, ADD COLUMN status text NOT NULL, ADD COLUMN secret text; ${MFA_ROWS}`);
    const r = await translateRls(options(), silentProgress);
    const mfa = byName(r, 'require mfa to delete');
    expect(mfa).toMatchObject({ class: 'auth-translation', installed: true });
    expect(mfa.reasons[0]).toBe('reads auth.mfa_factors: the target has auth.mfa_factors with the columns read (status, user_id)');
    expect(mfa.reasons).toContain('compares a literal cast to auth.factor_status, a type the target does not have: compared as text (equality gives the same answer)');
    expect(byName(r, 'owners delete vaults')).toMatchObject({ installed: true });
    expect(byName(r, 'owners delete vaults').heldBack).toBeUndefined();
    // notes' INSERT stays held back: its restrictive policy is still not translatable.
    expect(byName(r, 'owners write notes').heldBack).toBe(true);
    expect(await installedOn(target.adminUrl)).toEqual([
      'notes: anyone reads notes', 'vaults: owners delete vaults', 'vaults: owners read vaults', 'vaults: require mfa to delete']);
    for (const [sub, id] of [[WITH_MFA, 1], [WITHOUT_MFA, 2], [WITHOUT_MFA, 1]] as const) {
      const del = `DELETE FROM public.vaults WHERE id = ${id}`;
      expect(await attempt(target.adminUrl, sub, del), `${sub} deletes ${id}`).toBe(await attempt(source.adminUrl, sub, del));
    }
    expect(await attempt(target.adminUrl, WITH_MFA, 'DELETE FROM public.vaults WHERE id = 1')).toBe('allowed');
  });

  it('--force installs every policy, held back or not', async () => {
    const r = await translateRls(options({ force: true }), silentProgress);
    expect(r.counts).toMatchObject({ installed: 6, heldBack: 0 });
    expect(r.policies.every((p) => p.installed && !p.heldBack)).toBe(true);
    expect(await installedOn(target.adminUrl)).toEqual(await installedOn(source.adminUrl));
    const [mfaOnTarget] = await sql<{ qual: string }>(target.adminUrl, `SELECT qual FROM pg_catalog.pg_policies WHERE policyname = 'require mfa to delete'`);
    expect(mfaOnTarget!.qual).toMatch(/'verified'::text/);
    expect(await attempt(target.adminUrl, WITHOUT_MFA, `INSERT INTO public.notes VALUES (10, '${WITHOUT_MFA}', 'x')`, { 'x-app': 'admin' })).toBe('allowed');
  });
});
