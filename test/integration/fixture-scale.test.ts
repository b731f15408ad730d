/**
 * The fixture at large scales (issue 7, item 16): scale 100 and scale 1000 load (the fault tests
 * need big data) with every scaled table exactly N times its scale-1 count, and no row counter of
 * the seed has an int4 ceiling below the loader's limit of 10000 (it overflowed above scale 68);
 * and scale 1, which other tests depend on value for value, is exactly what it was.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'libpg-query';
import { afterAll, describe, expect, it } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { loadFixture } from '../../src/fixture/load.js';
import { PACKAGE_ROOT } from '../../src/version.js';
import { emptySourceDatabase, fixtureDatabase, type TestDatabase } from '../bed/databases.js';
import { PIN, tableStates } from './move-helpers.js';

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

/**
 * Every table of the scale-1 fixture as the seed made it before the bigint change (rows and md5 of
 * the rows' text, move-helpers' tableStates): tests depend on these exact values. vault.secrets is
 * left out: its ciphertext depends on the server's own root key. If the seed is changed on purpose,
 * regenerate with tableStates on a fixtureDatabase() and say why in the commit.
 */
const SCALE_ONE: Record<string, [number, string]> = {
  "auth.audit_log_entries": [142, 'a3a99833c0c498ecbc8c7ef3012ef2ce'],
  "auth.flow_state": [1, '7782775aae5bdf1d2828fc87baf42c48'],
  "auth.identities": [72, '197da5da3e7e888090d2fdeeb76817d6'],
  "auth.instances": [0, 'empty'],
  "auth.mfa_amr_claims": [42, '95e51c7f7d07a58cad61ec95b33f3144'],
  "auth.mfa_challenges": [3, '19fa44f81fc6663ac43e858a4e062e61'],
  "auth.mfa_factors": [3, 'bad8c2a75aeb0bc415c9acb801ac5e68'],
  "auth.one_time_tokens": [3, '726258145d31886a30028d4e083cce80'],
  "auth.refresh_tokens": [78, 'ff66d6d1d38f54728e81986cbb70f951'],
  "auth.saml_providers": [0, 'empty'],
  "auth.saml_relay_states": [0, 'empty'],
  "auth.schema_migrations": [61, 'df82104635f6a9f4f99007aede0e3567'],
  "auth.sessions": [39, '95ae6b26cbaf8b6f74b31edd541ac2b7'],
  "auth.sso_domains": [0, 'empty'],
  "auth.sso_providers": [0, 'empty'],
  "auth.users": [72, '60ebf81291802e9eaa7ed14c5ccf98d1'],
  "public.\"Order\"": [20, '25b9c69cbd1b18acf8d8cb7ec9ad0d3d'],
  "public.activity_log_2025_01": [121, '17bd1bf1e4ab5ca59c9307e5dccb6c13'],
  "public.activity_log_2025_02": [132, '6aba4cfbb5673d2b1042042cffe28bd4'],
  "public.activity_log_2025_03": [144, 'b62c78ebef222b819b71ef8fa1ed9bec'],
  "public.activity_log_default": [3, '157934dd404531b52b70251764a2db7f'],
  "public.api_keys": [3, '1bb7c469dfa43be6df3419960cef2362'], // issue 8: new, one per moderator
  "public.beacons": [40, 'c77fc3f60079e260d4b4d8a419ce4cee'],
  "public.device_tokens": [53, '9101ebcd5e6302a949dc39406fa588f8'],
  "public.direct_messages": [150, '964d29126ea4ea4eb53aacca1be5330c'],
  "public.follows": [216, 'bad5487fe865ede5f50b83e66f99f2e9'],
  "public.media": [73, '1babfae940b8b7eae9a02612c536dde1'],
  "public.one_time_prekeys": [355, 'cca0f11852ce619287fe27abbe35746e'],
  "public.post_views": [624, '19b0501d0b4b10338a8c106e60b6ce86'],
  "public.posts": [298, 'a9941be3ef699aee0dbc742dfdc8998f'],
  "public.profiles": [72, '4e429161fac101cc5f108b0a1ebf4c3b'],
  "public.user_identity_keys": [71, 'c4b898b16c774a6a2610756b9e39f84e'],
  "realtime.messages_2025_03_01": [3, '4ebff016a5e27ef597f6ba733b76920e'],
  "realtime.messages_2025_03_02": [2, '314df7a72da789b4f7b2555cb6cdc601'],
  "realtime.messages_2025_03_03": [1, '4a9bbb6fe4ab312f6da03daa775cf92d'],
  "realtime.schema_migrations": [63, '8a9a74a8d5f12114f64c09efda3cec2e'],
  "realtime.subscription": [2, '1f8d39869927994f7fa6906dc8104767'],
  "storage.buckets": [2, '76784d2dda0073e4428ac8b9330f6a82'],
  "storage.migrations": [39, '4848a68450f2db936abb79063fb78073'],
  "storage.objects": [121, '3f9d8a37ebcff1d0ee4c1c0e354aff62'],
  "storage.s3_multipart_uploads": [1, '6698f5ceb9f1a8caa716b0ff7258517d'],
  "storage.s3_multipart_uploads_parts": [2, '1193ed7c9d98b7dfdad904248fb1c543'],
  "supabase_migrations.schema_migrations": [4, 'feda700b1e915696a761eb544f349392'],
  "supabase_migrations.seed_files": [1, '30e207793ec9f36fa5d2ecdd034c230f'],
};

/** Tables the fixture gained with the 2025-26 platform (issue 8): empty at every scale. */
const NEWER_TABLES = ['auth.custom_oauth_providers', 'auth.oauth_authorizations', 'auth.oauth_client_states', 'auth.oauth_clients',
  'auth.oauth_consents', 'auth.webauthn_challenges', 'auth.webauthn_credentials', 'storage.buckets_analytics', 'storage.buckets_vectors',
  'storage.iceberg_namespaces', 'storage.iceberg_tables', 'storage.vector_indexes'];

/**
 * Columns the 2025-26 platform appended to existing tables (issue 8). The golden values above are
 * of the columns before them, so those tables are hashed without these (same formula as
 * tableStates), and the new columns must hold nothing but their defaults.
 */
const NEWER_COLUMNS: Record<string, Record<string, string>> = {
  'auth.sessions': { oauth_client_id: 'NULL', refresh_token_hmac_key: 'NULL', refresh_token_counter: 'NULL', scopes: 'NULL' },
  'auth.flow_state': { invite_token: 'NULL', referrer: 'NULL', oauth_client_state_id: 'NULL', linking_target_id: 'NULL', email_optional: 'false' },
  'auth.mfa_factors': { last_webauthn_challenge_data: 'NULL' },
  'storage.buckets': { versioning_status: "'DISABLED'" },
  'storage.objects': { archived_at: 'NULL', is_delete_marker: 'false', is_versioned: 'false' },
};

/** tableStates' hash of a table's rows without some columns, and how many rows have another value than the default in them. */
async function stateWithout(url: string, table: string, leaveOut: Record<string, string>): Promise<{ state: [number, string]; changed: number }> {
  return withClient(url, { role: 'admin' }, async (c) => {
    await c.query(PIN);
    const [schema, name] = table.split('.');
    const { rows: cols } = await c.query<{ col: string }>(
      `SELECT quote_ident(attname) AS col FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped
          AND NOT attname = ANY ($2) ORDER BY attnum`, [`${schema}.${name}`, Object.keys(leaveOut)]);
    const kept = cols.map((k) => k.col).join(', ');
    const { rows } = await c.query<{ n: string; h: string | null }>(
      `SELECT count(*) AS n, md5(string_agg(x, ',' ORDER BY x)) AS h FROM (SELECT md5(r::text) AS x FROM (SELECT ${kept} FROM ONLY ${table}) r) s`,
    );
    const { rows: changed } = await c.query<{ n: string }>(
      `SELECT count(*) AS n FROM ONLY ${table} WHERE ${Object.entries(leaveOut).map(([k, v]) => `${k} IS DISTINCT FROM ${v}`).join(' OR ')}`,
    );
    return { state: [Number(rows[0]!.n), rows[0]!.h ?? 'empty'], changed: Number(changed[0]!.n) };
  });
}

describe('scale 1 is byte for byte what it was', () => {
  it('every table of the scale-1 fixture hashes as before; the platform\'s newer tables are empty, its newer columns hold their defaults', async () => {
    const db = await fixtureDatabase();
    made.push(db);
    const states = await tableStates(db.adminUrl, ['auth', 'storage', 'public', 'realtime', 'supabase_migrations']);
    const actual = Object.fromEntries(Object.entries(states).map(([t, s]) => [t, [s.rows, s.hash]]));
    for (const [table, columns] of Object.entries(NEWER_COLUMNS)) {
      const { state, changed } = await stateWithout(db.adminUrl, table, columns);
      actual[table] = state;
      expect(changed, `${table}: rows with another value than the default in ${Object.keys(columns).join(', ')}`).toBe(0);
    }
    expect(actual).toEqual({ ...SCALE_ONE, ...Object.fromEntries(NEWER_TABLES.map((t) => [t, [0, 'empty']])) });
  });
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
