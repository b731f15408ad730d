/**
 * Every value type hashes to the same thing for the same value on two servers, and any single
 * change of a value is found and named — with the fast per-column hash and with md5. Also: what is
 * deliberately NOT a difference (jsonb key order, char(n) padding).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { validate, type HashChoice } from '../../src/core/validate/index.js';
import { emptySourceDatabase, emptyTargetDatabase, type TestDatabase } from '../bed/databases.js';
import { cloneDatabase, mutate, sqlRows } from './validate-helpers.js';

const SCHEMA = `
  CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
  CREATE TYPE pair AS (x int, y text);
  CREATE TABLE public.kinds (
    id int PRIMARY KEY, t text, v varchar(10), c char(3), i2 smallint, i8 bigint, n numeric, f float8, r real,
    b boolean, d date, ts timestamp, tz timestamptz, tt timetz, iv interval, u uuid, j jsonb, js json, by bytea,
    a int[], ta text[], e mood, p pair, ip inet, bits bit varying, t2 text);
  INSERT INTO public.kinds VALUES
    (1, '', 'abc', 'ab', 1, 9007199254740993, 1.50, 0, 1.5, true, '2020-01-01', 'infinity', '2024-06-01 12:00:00.123456+02', '10:00+02',
        '1 day', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": 1.0, "b": [1, null]}', '{"b":1, "a":2}', '\\x', '{1,NULL}', '{"a b",NULL,""}',
        'ok', ROW(1, 'x'), '10.0.0.1', B'101', 'same'),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, 'NaN', '-Infinity', NULL, NULL, NULL, '-infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, 'same'),
    (3, 'a"b\\c', 'x', 'xyz', -32768, -1, 'NaN', 1e-308, 3.4e38, false, 'infinity', '1999-12-31 23:59:59.999999', '2000-01-01 00:00:00+00',
        '00:00+00', '-1 mon 2 days', '00000000-0000-0000-0000-000000000000', '[]', 'null', '\\x00ff', '{}', '{}', 'happy', ROW(NULL, ''),
        '::1/128', B'', 'same');`;

/** One change on the target: the column(s) that must be reported, or [] when it is not a difference. */
const CHANGES: Array<{ sql: string; id: number; columns: string[] }> = [
  { sql: `UPDATE kinds SET t = NULL WHERE id = 1`, id: 1, columns: ['t'] },
  { sql: `UPDATE kinds SET t = '' WHERE id = 2`, id: 2, columns: ['t'] },
  { sql: `UPDATE kinds SET t = 'a"b\\d' WHERE id = 3`, id: 3, columns: ['t'] },
  { sql: `UPDATE kinds SET v = 'abc ' WHERE id = 1`, id: 1, columns: ['v'] },
  { sql: `UPDATE kinds SET i8 = 9007199254740992 WHERE id = 1`, id: 1, columns: ['i8'] },
  { sql: `UPDATE kinds SET i2 = 0 WHERE id = 2`, id: 2, columns: ['i2'] },
  { sql: `UPDATE kinds SET n = 1.5 WHERE id = 1`, id: 1, columns: ['n'] },
  { sql: `UPDATE kinds SET f = '-0' WHERE id = 1`, id: 1, columns: ['f'] },
  { sql: `UPDATE kinds SET f = 'Infinity' WHERE id = 2`, id: 2, columns: ['f'] },
  { sql: `UPDATE kinds SET r = 3.3999998e38 WHERE id = 3`, id: 3, columns: ['r'] },
  { sql: `UPDATE kinds SET b = NULL WHERE id = 3`, id: 3, columns: ['b'] },
  { sql: `UPDATE kinds SET d = '-infinity' WHERE id = 3`, id: 3, columns: ['d'] },
  { sql: `UPDATE kinds SET ts = '-infinity' WHERE id = 1`, id: 1, columns: ['ts'] },
  { sql: `UPDATE kinds SET tz = tz + interval '1 microsecond' WHERE id = 1`, id: 1, columns: ['tz'] },
  { sql: `UPDATE kinds SET tz = 'infinity' WHERE id = 2`, id: 2, columns: ['tz'] },
  { sql: `UPDATE kinds SET tt = '10:00+03' WHERE id = 1`, id: 1, columns: ['tt'] },
  { sql: `UPDATE kinds SET iv = '24 hours' WHERE id = 1`, id: 1, columns: ['iv'] },
  { sql: `UPDATE kinds SET u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12' WHERE id = 1`, id: 1, columns: ['u'] },
  { sql: `UPDATE kinds SET j = '{"b": [1, null], "a": 1.0}' WHERE id = 1`, id: 1, columns: [] },
  { sql: `UPDATE kinds SET j = '{"a": 1.00, "b": [1, null]}' WHERE id = 1`, id: 1, columns: ['j'] },
  { sql: `UPDATE kinds SET j = 'null' WHERE id = 2`, id: 2, columns: ['j'] },
  { sql: `UPDATE kinds SET js = '{"a":2, "b":1}' WHERE id = 1`, id: 1, columns: ['js'] },
  { sql: `UPDATE kinds SET "by" = NULL WHERE id = 1`, id: 1, columns: ['by'] },
  { sql: `UPDATE kinds SET "by" = '\\x00fe' WHERE id = 3`, id: 3, columns: ['by'] },
  { sql: `UPDATE kinds SET a = '{1}' WHERE id = 1`, id: 1, columns: ['a'] },
  { sql: `UPDATE kinds SET a = '[0:1]={1,NULL}' WHERE id = 1`, id: 1, columns: ['a'] },
  { sql: `UPDATE kinds SET ta = '{"a b",NULL}' WHERE id = 1`, id: 1, columns: ['ta'] },
  { sql: `UPDATE kinds SET e = 'happy' WHERE id = 1`, id: 1, columns: ['e'] },
  { sql: `UPDATE kinds SET p = ROW(NULL, NULL) WHERE id = 3`, id: 3, columns: ['p'] },
  { sql: `UPDATE kinds SET ip = '10.0.0.1/8' WHERE id = 1`, id: 1, columns: ['ip'] },
  { sql: `UPDATE kinds SET bits = B'1010' WHERE id = 1`, id: 1, columns: ['bits'] },
  { sql: `UPDATE kinds SET c = 'ab ' WHERE id = 1`, id: 1, columns: [] },
  // The same value in two columns of one row swapped with another: both columns.
  { sql: `UPDATE kinds SET t = 'same', t2 = '' WHERE id = 1`, id: 1, columns: ['t', 't2'] },
];

let source: TestDatabase;
let target: TestDatabase;

beforeAll(async () => {
  [source, target] = await Promise.all([emptySourceDatabase(), emptyTargetDatabase()]);
  await Promise.all([mutate(source.url, SCHEMA), mutate(target.url, SCHEMA)]);
});

afterAll(async () => {
  await target?.drop();
  await source?.drop();
});

describe.each<HashChoice>(['auto', 'md5'])('value types with hash=%s', (hash) => {
  it('equal values on two servers hash equal', async () => {
    const r = await validate({ source: source.url, target: target.url, hash, skipSchema: true });
    expect(r.method.hash).toBe(hash === 'auto' ? 'hashtextextended' : 'md5');
    expect(r.tables.map((t) => [t.table, t.status])).toEqual([['public.kinds', 'ok']]);
  });

  it.each(CHANGES.map((c, i) => [c.sql, c, i] as const))('%s', async (_sql, change, i) => {
    const copy = await cloneDatabase(inject('targetAdminUrl'), target.name, `${target.name}_${hash}_${i}`);
    try {
      await mutate(copy.url, change.sql);
      const r = await validate({ source: source.url, target: copy.url, hash, skipSchema: true });
      const t = r.tables[0]!;
      if (change.columns.length === 0) expect(t.status).toBe('ok');
      else expect(t.differences).toEqual([{ kind: 'changed', key: { id: String(change.id) }, columns: change.columns }]);
    } finally {
      await copy.drop();
    }
  });
});

describe('text and composite keys (byte order on both servers, bisection on row comparisons)', () => {
  const KEYS = `
    CREATE TABLE public.words (w text PRIMARY KEY, n int);
    INSERT INTO public.words SELECT 'w' || md5(i::text) || CASE WHEN i % 7 = 0 THEN ' Ä' WHEN i % 5 = 0 THEN 'a' ELSE 'B' END, i FROM generate_series(1, 600) i;
    CREATE TABLE public.pairs (a text, b int, v text, PRIMARY KEY (a, b));
    INSERT INTO public.pairs SELECT chr(65 + i % 3), i, 'v' || i FROM generate_series(1, 600) i;
    ANALYZE public.words, public.pairs;`;
  let src: TestDatabase;
  let tgt: TestDatabase;
  beforeAll(async () => {
    [src, tgt] = await Promise.all([emptySourceDatabase(), emptyTargetDatabase()]);
    await Promise.all([mutate(src.url, KEYS), mutate(tgt.url, KEYS)]);
    const [w] = await sqlRows<{ w: string }>(tgt.url, `SELECT w FROM public.words WHERE n = 333`);
    await mutate(tgt.url, `DELETE FROM public.words WHERE n = 333; UPDATE public.words SET n = -1 WHERE n = 444;
                           UPDATE public.pairs SET v = 'changed' WHERE a = 'B' AND b = 301; DELETE FROM public.pairs WHERE a = 'C' AND b = 599`);
    deleted = w!.w;
  });
  let deleted = '';
  afterAll(async () => {
    await tgt?.drop();
    await src?.drop();
  });

  it.each<HashChoice>(['auto', 'md5'])('finds each differing key with small chunks (hash=%s)', async (hash) => {
    const r = await validate({ source: src.url, target: tgt.url, hash, skipSchema: true, chunkRows: 40, rowCompareThreshold: 8 });
    const words = r.tables.find((t) => t.table === 'public.words')!;
    const [changed] = await sqlRows<{ w: string }>(src.url, `SELECT w FROM public.words WHERE n = 444`);
    expect(words.chunks!.total).toBeGreaterThan(4);
    expect(words.differences).toHaveLength(2);
    expect(words.differences).toEqual(expect.arrayContaining([
      { kind: 'missing', key: { w: deleted } },
      { kind: 'changed', key: { w: changed!.w }, columns: ['n'] },
    ]));
    const pairs = r.tables.find((t) => t.table === 'public.pairs')!;
    expect(pairs.differences).toEqual(expect.arrayContaining([
      { kind: 'changed', key: { a: 'B', b: '301' }, columns: ['v'] },
      { kind: 'missing', key: { a: 'C', b: '599' } },
    ]));
    expect(pairs.differences).toHaveLength(2);
  });
});
