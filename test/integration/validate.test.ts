/**
 * offramp validate on a copied fixture: identical → ok; every mutation of the target detected,
 * localised to the right key and column; differences the migration intends told apart; server
 * settings that change text output do not matter; JUnit and Markdown reports.
 */
import { inject, afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { validate, renderValidateJunit, renderValidateMarkdown, type ValidateOptions, type ValidateReport, type TableReport } from '../../src/core/validate/index.js';
import { emptyTargetDatabase, fixtureDatabase, urlWithDatabase, type TestDatabase } from '../bed/databases.js';
import { copyForValidation, mutate, sqlRows } from './validate-helpers.js';
import { parseXml, type XmlElement } from './validate-xml.js';

let source: TestDatabase;
let base: TestDatabase;
const made: TestDatabase[] = [];

/** A fresh copy of the copied target (CREATE DATABASE … TEMPLATE: a file copy, fast). */
async function targetCopy(): Promise<TestDatabase> {
  const admin = inject('targetAdminUrl');
  const name = `${base.name}_${made.length + 1}`;
  await withClient(admin, { role: 'admin' }, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${base.name}`));
  const db: TestDatabase = {
    name,
    url: urlWithDatabase(admin, name),
    adminUrl: urlWithDatabase(admin, name),
    drop: () => withClient(admin, { role: 'admin' }, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
  made.push(db);
  return db;
}

/** Small chunks and a small row threshold, so that chunking and bisection run on the small fixture. */
const SMALL: Partial<ValidateOptions> = { chunkRows: 40, rowCompareThreshold: 8 };

async function run(target: TestDatabase, options: Partial<ValidateOptions> = {}): Promise<ValidateReport> {
  return validate({ source: source.url, target: target.url, ...SMALL, ...options });
}

function table(r: ValidateReport, id: string): TableReport {
  const t = r.tables.find((x) => x.table === id);
  if (!t) throw new Error(`no table ${id} in the report`);
  return t;
}

function differingTables(r: ValidateReport): string[] {
  return r.tables.filter((t) => t.status !== 'ok').map((t) => t.table);
}

function failingChecks(r: ValidateReport): string[] {
  return (r.schema?.checks ?? []).filter((c) => c.status === 'fail').map((c) => c.id);
}

beforeAll(async () => {
  source = await fixtureDatabase();
  base = await emptyTargetDatabase();
  await copyForValidation(source.url, base.url);
}, 180_000);

afterAll(async () => {
  for (const db of made) await db.drop();
  await base?.drop();
  await source?.drop();
});

describe('validate on an identical copy', () => {
  it('reports every table ok, equal hashes, no failing schema check', async () => {
    const target = await targetCopy();
    const r = await run(target);
    expect(differingTables(r)).toEqual([]);
    expect(failingChecks(r)).toEqual([]);
    expect(r.summary.ok).toBe(true);
    expect(r.platform.kind).toBe('supabase');
    // The sample app's tables are all compared; the partitioned table once, through its parent.
    const ids = r.tables.map((t) => t.table);
    for (const t of ['public.posts', 'public.profiles', 'public.beacons', 'public.post_views', 'public.activity_log', 'public.Order']) {
      expect(ids).toContain(t);
    }
    expect(ids).not.toContain('public.activity_log_2025_01');
    expect(ids.some((t) => t.startsWith('auth.') || t.startsWith('storage.'))).toBe(false);
    for (const t of r.tables) {
      expect(t.hash?.equal, t.table).toBe(true);
      expect(t.rows.source, t.table).toBe(t.rows.target);
    }
    expect(table(r, 'public.posts').rows.source).toBeGreaterThan(100);
    expect(table(r, 'public.post_views').key).toEqual([]);
    expect(table(r, 'public.posts').chunks!.total).toBeGreaterThan(1);
    // Generated columns are data too: posts.search is hashed.
    expect(table(r, 'public.posts').columns).toContain('search');
    // Same major version and same probe: the fast hash.
    expect(r.method.hash).toBe('hashtextextended');
    // Intended differences are listed with a reason: managed schemas, the platform-only extension stand-in.
    const expected = r.schema!.differences.filter((d) => d.severity === 'expected');
    expect(expected.some((d) => d.category === 'schemas' && d.object === 'storage' && /Supabase-managed/.test(d.reason!))).toBe(true);
    // Managed schemas the target has (auth from the auth stage's helpers, extensions made by copy) are not "missing".
    expect(r.schema!.differences.filter((d) => d.category === 'schemas' && ['auth', 'extensions'].includes(d.object))).toEqual([]);
    expect(expected.some((d) => d.category === 'extensions' && d.object === 'pgjwt')).toBe(true);
    expect(r.skipped.some((s) => s.object.startsWith('schema auth'))).toBe(true);
  });

  it('gives the same verdict with md5, with the default chunking, and in counts and hash modes', async () => {
    const target = await targetCopy();
    for (const options of [{ hash: 'md5' as const }, { chunkRows: 10_000, rowCompareThreshold: 2_000 }, { mode: 'counts' as const }, { mode: 'hash' as const }]) {
      const r = await run(target, options);
      expect(differingTables(r), JSON.stringify(options)).toEqual([]);
      expect(r.summary.ok).toBe(true);
    }
  });
});

describe('validate finds and localises each mutation of the target', () => {
  it('one row deleted: missing, with its key', async () => {
    const target = await targetCopy();
    const [row] = await sqlRows<{ id: string }>(target.url, 'SELECT id::text FROM public.posts ORDER BY id OFFSET 77 LIMIT 1');
    await mutate(target.url, 'DELETE FROM public.posts WHERE id = $1', [row!.id]);
    const r = await run(target);
    expect(differingTables(r)).toEqual(['public.posts']);
    const t = table(r, 'public.posts');
    expect(t.rows.target).toBe(t.rows.source! - 1);
    expect(t.differences).toEqual([{ kind: 'missing', key: { id: row!.id } }]);
    expect(r.summary.ok).toBe(false);
    // With statistics the chunk bounds come from the histogram instead of a sample: same answer.
    await withClient(source.url, { role: 'admin' }, (c) => c.query('ANALYZE public.posts'));
    const again = await run(target);
    expect(table(again, 'public.posts').differences).toEqual([{ kind: 'missing', key: { id: row!.id } }]);
    expect(table(again, 'public.posts').chunks!.total).toBeGreaterThan(2);
  });

  it('one row inserted: extra, with its key', async () => {
    const target = await targetCopy();
    await mutate(target.url, `INSERT INTO public.posts (id, author_id, body) OVERRIDING SYSTEM VALUE
                               SELECT 900001, author_id, 'an extra post' FROM public.posts LIMIT 1`);
    const r = await run(target);
    expect(differingTables(r)).toEqual(['public.posts']);
    expect(table(r, 'public.posts').differences).toEqual([{ kind: 'extra', key: { id: '900001' } }]);
  });

  it('one text value changed by one character: changed, that column only', async () => {
    const target = await targetCopy();
    const [row] = await sqlRows<{ id: string }>(target.url, `SELECT id::text FROM public.profiles WHERE bio IS NOT NULL AND length(bio) > 3 ORDER BY id LIMIT 1 OFFSET 5`);
    await mutate(target.url, `UPDATE public.profiles SET bio = overlay(bio PLACING CASE WHEN substr(bio, 2, 1) = 'x' THEN 'y' ELSE 'x' END FROM 2 FOR 1) WHERE id = $1`, [row!.id]);
    const r = await run(target);
    expect(differingTables(r)).toEqual(['public.profiles']);
    expect(table(r, 'public.profiles').differences).toEqual([{ kind: 'changed', key: { id: row!.id }, columns: ['bio'] }]);
  });

  it('one timestamptz shifted by one hour: changed, that column only', async () => {
    const target = await targetCopy();
    const [row] = await sqlRows<{ id: string }>(target.url, `SELECT id::text FROM public.posts WHERE created_at < 'infinity' ORDER BY id LIMIT 1 OFFSET 200`);
    await mutate(target.url, `UPDATE public.posts SET created_at = created_at + interval '1 hour' WHERE id = $1`, [row!.id]);
    const r = await run(target);
    expect(differingTables(r)).toEqual(['public.posts']);
    expect(table(r, 'public.posts').differences).toEqual([{ kind: 'changed', key: { id: row!.id }, columns: ['created_at'] }]);
  });

  it('one float changed in its last digit (one ulp): changed, that column only', async () => {
    const target = await targetCopy();
    // score::text is the shortest text that reads back as the same double (extra_float_digits >= 1).
    const [row] = await sqlRows<{ id: string; score: string }>(target.url,
      `SELECT id::text, score::text FROM public.posts WHERE score NOT IN ('NaN', 'Infinity', '-Infinity', 0) ORDER BY id LIMIT 1 OFFSET 3`);
    // The next double up: same text except the last digit(s).
    const buf = new DataView(new ArrayBuffer(8));
    buf.setFloat64(0, Number(row!.score));
    buf.setBigUint64(0, buf.getBigUint64(0) + 1n);
    const next = String(buf.getFloat64(0));
    expect(next).not.toBe(String(Number(row!.score)));
    await mutate(target.url, 'UPDATE public.posts SET score = $2::float8 WHERE id = $1', [row!.id, next]);
    const [check] = await sqlRows<{ same: boolean }>(target.url, `SELECT score = $2::float8 AS same FROM public.posts WHERE id = $1`, [row!.id, row!.score]);
    expect(check!.same).toBe(false);
    const r = await run(target);
    expect(differingTables(r)).toEqual(['public.posts']);
    expect(table(r, 'public.posts').differences).toEqual([{ kind: 'changed', key: { id: row!.id }, columns: ['score'] }]);
  });

  it('one geography point moved by 1 m: changed, that column only', async () => {
    const target = await targetCopy();
    const [row] = await sqlRows<{ id: string }>(target.url, 'SELECT id::text FROM public.beacons ORDER BY id LIMIT 1 OFFSET 4');
    await mutate(target.url, `UPDATE public.beacons SET location = extensions.st_project(location, 1.0, radians(45.0)) WHERE id = $1`, [row!.id]);
    const [moved] = await sqlRows<{ m: number }>(target.url,
      `SELECT extensions.st_distance(t.location, extensions.st_geogfromtext($2)) AS m FROM public.beacons t WHERE id = $1`,
      [row!.id, (await sqlRows<{ w: string }>(source.url, 'SELECT extensions.st_asewkt(location) AS w FROM public.beacons WHERE id = $1', [row!.id]))[0]!.w]);
    expect(moved!.m).toBeGreaterThan(0.9);
    expect(moved!.m).toBeLessThan(1.1);
    const r = await run(target);
    expect(differingTables(r)).toEqual(['public.beacons']);
    expect(table(r, 'public.beacons').differences).toEqual([{ kind: 'changed', key: { id: row!.id }, columns: ['location'] }]);
  });

  it('jsonb with its keys written in another order is not a difference; a changed jsonb value is', async () => {
    const target = await targetCopy();
    const [row] = await sqlRows<{ id: string; header: string }>(target.url,
      `SELECT id::text, header::text FROM public.direct_messages WHERE (SELECT count(*) FROM jsonb_object_keys(header)) >= 3 ORDER BY id LIMIT 1 OFFSET 7`);
    const obj = JSON.parse(row!.header) as Record<string, unknown>;
    const reordered = `{${Object.keys(obj).reverse().map((k) => `${JSON.stringify(k)}:${JSON.stringify(obj[k])}`).join(',')}}`;
    expect(reordered).not.toBe(row!.header);
    await mutate(target.url, 'UPDATE public.direct_messages SET header = $2::jsonb WHERE id = $1', [row!.id, reordered]);
    const same = await run(target);
    expect(differingTables(same)).toEqual([]);

    await mutate(target.url, `UPDATE public.direct_messages SET header = jsonb_set(header, '{type}', '"changed"') WHERE id = $1`, [row!.id]);
    const r = await run(target);
    expect(differingTables(r)).toEqual(['public.direct_messages']);
    expect(table(r, 'public.direct_messages').differences).toEqual([{ kind: 'changed', key: { id: row!.id }, columns: ['header'] }]);
  });

  it('a row duplicated in the table without a primary key: one extra copy, located', async () => {
    const target = await targetCopy();
    await mutate(target.url, 'INSERT INTO public.post_views SELECT * FROM public.post_views ORDER BY viewed_at, post_id LIMIT 1 OFFSET 10');
    const r = await run(target);
    expect(differingTables(r)).toEqual(['public.post_views']);
    const t = table(r, 'public.post_views');
    expect(t.rows.target).toBe(t.rows.source! + 1);
    expect(t.differences).toHaveLength(1);
    expect(t.differences[0]).toMatchObject({ kind: 'extra', key: null, count: 1, locator: { side: 'target', ctid: expect.stringMatching(/^\(\d+,\d+\)$/) } });
  });

  it('an index dropped: the indexes check fails, naming it', async () => {
    const target = await targetCopy();
    await mutate(target.url, 'DROP INDEX public.posts_tags_idx');
    const r = await run(target);
    expect(differingTables(r)).toEqual([]);
    expect(failingChecks(r)).toEqual(['schema.indexes']);
    expect(r.schema!.differences.filter((d) => d.severity === 'fail')).toEqual([
      expect.objectContaining({ category: 'indexes', object: 'public.posts_tags_idx', change: 'missing_on_target' }),
    ]);
    expect(r.summary.ok).toBe(false);
  });

  it('a policy changed: the policies check fails, naming it and what changed', async () => {
    const target = await targetCopy();
    const [p] = await sqlRows<{ name: string; object: string }>(target.url,
      `SELECT policyname AS name, format('public.beacons.%I', policyname) AS object FROM pg_policies
        WHERE schemaname = 'public' AND tablename = 'beacons' ORDER BY 1 LIMIT 1`);
    await mutate(target.url, `ALTER POLICY "${p!.name}" ON public.beacons USING (true)`);
    const r = await run(target);
    expect(failingChecks(r)).toEqual(['schema.policies']);
    const fail = r.schema!.differences.filter((d) => d.severity === 'fail');
    expect(fail.map((d) => d.object)).toEqual([p!.object]);
    expect(fail[0]).toMatchObject({ change: 'changed', attribute: 'using', target: 'true' });
  });

  it('a sequence set back: the sequences check fails (new rows would collide)', async () => {
    const target = await targetCopy();
    await mutate(target.url, `SELECT setval('public.posts_id_seq', 1)`);
    const r = await run(target);
    expect(failingChecks(r)).toEqual(['schema.sequences']);
    expect(r.schema!.differences.find((d) => d.severity === 'fail')).toMatchObject({
      category: 'sequences', object: 'public.posts_id_seq', attribute: 'last value', target: '1',
    });
  });

  it('many differences: the search stops at --max-differences and says so', async () => {
    const target = await targetCopy();
    await mutate(target.url, `DELETE FROM public.post_views; UPDATE public.posts SET like_count = like_count + 1 WHERE id % 3 = 0`);
    const r = await run(target, { maxDifferences: 5 });
    const posts = table(r, 'public.posts');
    expect(posts.differences).toHaveLength(5);
    expect(posts.differencesTruncated).toBe(true);
    expect(posts.differences.every((d) => d.kind === 'changed' && d.columns!.join() === 'like_count')).toBe(true);
    const views = table(r, 'public.post_views');
    expect(views.rows.target).toBe(0);
    expect(views.differences.length).toBeGreaterThan(0);
    expect(views.differences.every((d) => d.kind === 'missing')).toBe(true);
  });

  it('values of differing rows appear only with showValues', async () => {
    const target = await targetCopy();
    const [row] = await sqlRows<{ id: string; bio: string }>(target.url, `SELECT id::text, bio FROM public.profiles WHERE bio IS NOT NULL ORDER BY id LIMIT 1`);
    await mutate(target.url, `UPDATE public.profiles SET bio = 'SECRET-NEW-BIO' WHERE id = $1`, [row!.id]);
    const hidden = await run(target);
    expect(JSON.stringify(hidden)).not.toContain('SECRET-NEW-BIO');
    expect(renderValidateMarkdown(hidden)).not.toContain('SECRET-NEW-BIO');
    const shown = await run(target, { showValues: true });
    expect(table(shown, 'public.profiles').differences[0]!.values).toEqual({ source: { bio: row!.bio }, target: { bio: 'SECRET-NEW-BIO' } });
  });
});

describe('translated tables', () => {
  it('a mapping compares auth.users with the local users table, column by column', async () => {
    const target = await targetCopy();
    const users = await sqlRows<{ id: string; email: string | null; created_at: string }>(source.url,
      `SELECT id::text, email, created_at::text FROM auth.users ORDER BY id`);
    await mutate(target.url, `CREATE TABLE public.users (id uuid PRIMARY KEY, email_address text, created timestamptz, role text DEFAULT 'user')`);
    await mutate(target.url, `INSERT INTO public.users (id, email_address, created) SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[])`,
    [users.map((u) => u.id), users.map((u) => u.email), users.map((u) => u.created_at)]);
    const mappings = [{ source: 'auth.users', target: 'public.users', columns: { id: 'id', email: 'email_address', created_at: 'created' } }];
    const equal = await run(target, { mappings, tables: ['auth.users'], skipSchema: true });
    expect(equal.tables).toHaveLength(1);
    expect(equal.tables[0]).toMatchObject({ table: 'auth.users', targetTable: 'public.users', status: 'ok', key: ['id'], columns: ['id', 'email', 'created_at'] });

    const victim = users.find((u) => u.email)!;
    await mutate(target.url, `UPDATE public.users SET email_address = upper(email_address) WHERE id = $1`, [victim.id]);
    const r = await run(target, { mappings, tables: ['auth.users'], skipSchema: true });
    expect(r.tables[0]!.differences).toEqual([{ kind: 'changed', key: { id: victim.id }, columns: ['email'] }]);
  });
});

describe('validate is not fooled by server settings', () => {
  it('different TimeZone, DateStyle, IntervalStyle, extra_float_digits and bytea_output per database: equal', async () => {
    const src = await fixtureDatabase();
    made.push(src);
    const target = await targetCopy();
    await withClient(inject('sourceAdminUrl'), { role: 'admin' }, (c) =>
      c.query(`ALTER DATABASE ${src.name} SET TimeZone = 'America/New_York'; ALTER DATABASE ${src.name} SET DateStyle = 'SQL, DMY';
               ALTER DATABASE ${src.name} SET IntervalStyle = 'sql_standard'; ALTER DATABASE ${src.name} SET extra_float_digits = 0`));
    await withClient(inject('targetAdminUrl'), { role: 'admin' }, (c) =>
      c.query(`ALTER DATABASE ${target.name} SET TimeZone = 'Asia/Kolkata'; ALTER DATABASE ${target.name} SET DateStyle = 'German, DMY';
               ALTER DATABASE ${target.name} SET bytea_output = 'escape'; ALTER DATABASE ${target.name} SET IntervalStyle = 'iso_8601'`));
    const r = await validate({ source: src.url, target: target.url, ...SMALL });
    expect(r.source.serverTimeZone).toBe('America/New_York');
    expect(r.target.serverTimeZone).toBe('Asia/Kolkata');
    expect(differingTables(r)).toEqual([]);
    expect(r.summary.ok).toBe(true);
  });
});

describe('reports', () => {
  let r: ValidateReport;
  beforeAll(async () => {
    const target = await targetCopy();
    await mutate(target.url, `DELETE FROM public.follows WHERE ctid = (SELECT min(ctid) FROM public.follows); DROP INDEX public.beacons_expires_at_idx`);
    r = await run(target);
  });

  it('JUnit: well-formed XML, one test case per table and per schema check, the failing ones failed', () => {
    const doc = parseXml(renderValidateJunit(r));
    expect(doc.name).toBe('testsuites');
    const suites = doc.children.filter((c): c is XmlElement => typeof c !== 'string' && c.name === 'testsuite');
    expect(suites.map((s) => s.attrs.name)).toEqual(['data', 'schema']);
    const cases = (s: XmlElement): XmlElement[] => s.children.filter((c): c is XmlElement => typeof c !== 'string' && c.name === 'testcase');
    const failed = (c: XmlElement): boolean => c.children.some((x) => typeof x !== 'string' && x.name === 'failure');
    const data = cases(suites[0]!);
    expect(data.map((c) => c.attrs.name).sort()).toEqual(r.tables.map((t) => t.table).sort());
    expect(data.filter(failed).map((c) => c.attrs.name)).toEqual(['public.follows']);
    const schema = cases(suites[1]!);
    expect(schema).toHaveLength(r.schema!.checks.length);
    expect(schema.filter(failed).map((c) => c.attrs.name)).toEqual(['indexes']);
    expect(Number(doc.attrs.failures)).toBe(2);
    expect(Number(doc.attrs.tests)).toBe(data.length + schema.length);
  });

  it('Markdown: summary, per-table rows, the differing key, schema findings, settings and time', () => {
    const md = renderValidateMarkdown(r);
    expect(md).toMatch(/^# Migration validation report/);
    expect(md).toContain('**Result: DIFFERENCES FOUND**');
    expect(md).toMatch(/\| `public\.follows` \| [\d,]+ \| [\d,]+ \| differs/);
    expect(md).toMatch(/\| `public\.posts` \| [\d,]+ \| [\d,]+ \| equal \| ✅ ok/);
    const key = r.tables.find((t) => t.table === 'public.follows')!.differences[0]!.key!;
    expect(md).toContain(`missing on target: follower_id=${key.follower_id}, followee_id=${key.followee_id}`);
    expect(md).toMatch(/indexes: public\.beacons_expires_at_idx missing on the target/);
    expect(md).toContain('TimeZone=UTC');
    expect(md).toMatch(/## Method and settings/);
    expect(md).toMatch(/Time: connect [\d.]+ s/);
    expect(md).not.toMatch(/postgres:[^*@]+@/);
  });
});
