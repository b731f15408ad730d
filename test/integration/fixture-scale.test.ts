/**
 * The fixture at large scales (issue 7, item 16): scale 100 and scale 1000 load (the fault tests
 * need big data) with every scaled table exactly N times its scale-1 count, and no row counter of
 * the seed has an int4 ceiling below the loader's limit of 10000 (it overflowed above scale 68).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'libpg-query';
import { afterAll, describe, expect, it } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { loadFixture } from '../../src/fixture/load.js';
import { PACKAGE_ROOT } from '../../src/version.js';
import { emptySourceDatabase, fixtureDatabase, type TestDatabase } from '../bed/databases.js';

/** Tables the seed does not scale: platform migration history, buckets, vault secrets, PostGIS's own. */
const UNSCALED = new Set(['auth.schema_migrations', 'extensions.spatial_ref_sys', 'realtime.schema_migrations', 'storage.buckets',
  'storage.migrations', 'supabase_migrations.schema_migrations', 'supabase_migrations.seed_files', 'vault.secrets']);

const made: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(made.map((d) => d.drop()));
});

/** Exact row count of every table that is not a partition (a partitioned table counts its partitions). */
function counts(url: string): Promise<Record<string, number>> {
  return withClient(url, { role: 'admin' }, async (c) => {
    const { rows: tables } = await c.query<{ t: string; id: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS t, n.nspname || '.' || c.relname AS id FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1`);
    const out: Record<string, number> = {};
    for (const { t, id } of tables) out[id] = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]!.n);
    return out;
  });
}

/** Every scaled table holds exactly `scale` times its scale-1 rows; the others the same rows. */
function expected(atScaleOne: Record<string, number>, scale: number): Record<string, number> {
  return Object.fromEntries(Object.entries(atScaleOne).map(([t, n]) => [t, UNSCALED.has(t) ? n : n * scale]));
}

let scaleOne: Record<string, number> | undefined;
async function scaleOneCounts(): Promise<Record<string, number>> {
  if (!scaleOne) {
    const template = await fixtureDatabase();
    made.push(template);
    scaleOne = await counts(template.url);
    expect(scaleOne).toMatchObject({ 'auth.users': 72, 'public.posts': 298 });
  }
  return scaleOne;
}

async function loadAt(scale: number): Promise<{ url: string; summary: Awaited<ReturnType<typeof loadFixture>> }> {
  const db = await emptySourceDatabase();
  made.push(db);
  const summary = await loadFixture(db.url, { scale });
  return { url: db.url, summary };
}

describe('the fixture above scale 68', () => {
  it('scale 100 loads: 7,200 users, 29,800 posts, every scaled table exactly 100 times its scale-1 rows', async () => {
    const one = await scaleOneCounts();
    const { url, summary } = await loadAt(100);
    expect(summary.counts).toMatchObject({ 'auth.users': 7200, 'public.posts': 29_800, 'storage.objects': 12_100 });
    expect(await counts(url)).toEqual(expected(one, 100));
  }, 600_000);

  // The size the fault tests need: measured at about 2 minutes on a busy 2-core machine.
  it('scale 1000 loads: 72,000 users, 298,000 posts (post numbers × 104729 pass 2^31), everything in proportion', async () => {
    const one = await scaleOneCounts();
    const { url, summary } = await loadAt(1000);
    expect(summary.counts).toMatchObject({ 'auth.users': 72_000, 'public.posts': 298_000 });
    expect(await counts(url)).toEqual(expected(one, 1000));
    // The product that overflowed int4 first (media object sizes from the post number) is now past 2^31.
    const [big] = await withClient(url, { role: 'admin' }, async (c) => (await c.query<{ n: string }>(
      `SELECT max(post_id) * 104729 AS n FROM public.media`)).rows);
    expect(Number(big!.n)).toBeGreaterThan(2 ** 31);
  }, 1_200_000);
});

/** Walk a libpg-query AST, calling `visit` on every node object. */
function walk(node: unknown, visit: (key: string, value: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) for (const n of node) walk(n, visit);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (value && typeof value === 'object' && !Array.isArray(value)) visit(key, value as Record<string, unknown>);
      walk(value, visit);
    }
  }
}

/** Column names referenced in an expression, leaving out CASE conditions (they choose, they do not count). */
function columnsIn(expr: unknown): string[] {
  const found: string[] = [];
  const strip = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(strip);
    if (n && typeof n === 'object') {
      const o = n as Record<string, unknown>;
      if ('CaseWhen' in o) return { result: strip((o.CaseWhen as Record<string, unknown>).result) };
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, strip(v)]));
    }
    return n;
  };
  walk(strip(expr), (key, value) => {
    if (key === 'ColumnRef') {
      const fields = value.fields as Array<{ String?: { sval: string } }>;
      found.push(fields.map((f) => f.String?.sval ?? '*').join('.'));
    }
  });
  return found;
}

describe('no int4 ceiling in the seed below scale 10000', () => {
  const seed = readFileSync(`${PACKAGE_ROOT}/fixtures/app/040-seed.sql`, 'utf8');

  it('every generate_series of the seed counts to a multiple of the scale or to a small constant', async () => {
    const { stmts = [] } = await parse(seed);
    const bounds: string[][] = [];
    walk(stmts, (key, value) => {
      if (key !== 'FuncCall') return;
      const name = (value.funcname as Array<{ String: { sval: string } }>).map((p) => p.String.sval).join('.');
      if (name === 'generate_series') bounds.push(columnsIn(value.args));
    });
    expect(bounds.length).toBeGreaterThan(8);
    // A counter either grows with the scale (s, a bigint: see below) or is bounded by constants.
    for (const columns of bounds) expect(columns.filter((c) => c !== 's')).toEqual([]);
    expect(bounds.filter((c) => c.includes('s')).length).toBeGreaterThanOrEqual(8);
  });

  it('the scale, and so every counter drawn from it, is bigint (products of counters cannot overflow at scale 10000)', async () => {
    const { stmts = [] } = await parse(seed);
    // stmt_location and stmt_len count bytes of the UTF-8 text, not JavaScript characters.
    const bytes = Buffer.from(seed, 'utf8');
    const scaleStmt = stmts.map((s) => bytes.subarray(s.stmt_location ?? 0, s.stmt_len ? (s.stmt_location ?? 0) + s.stmt_len : bytes.length).toString('utf8'))
      .find((text) => /CREATE TEMP TABLE seed_scale/.test(text));
    expect(scaleStmt).toBeDefined();
    const db = await emptySourceDatabase();
    made.push(db);
    const row = await withClient(db.url, { role: 'admin' }, async (c) => {
      await c.query(`SELECT set_config('offramp.scale', '10000', false)`);
      await c.query(scaleStmt!);
      return (await c.query<{ scale: string; counter: string }>(
        `SELECT pg_typeof(s)::text AS scale, (SELECT pg_typeof(g)::text FROM generate_series(1, 72 * s) AS g LIMIT 1) AS counter
           FROM seed_scale`)).rows[0]!;
    });
    expect(row).toEqual({ scale: 'bigint', counter: 'bigint' });
  });
});
