/**
 * validate never reports EQUAL when it compared nothing (issue 7, item 9): a --tables pattern or a
 * --schemas name that matches no source table, a --map naming columns that do not exist, and a
 * selection that leaves no table are usage errors (exit code 2) naming what matched nothing; a
 * table pair without a single compared column is a failure, never "ok".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate, type ValidateOptions } from '../../src/core/validate/index.js';
import { OfframpError } from '../../src/errors.js';
import { fixtureDatabase, type TestDatabase } from '../bed/databases.js';
import { mutate, sqlRows } from './validate-helpers.js';

let source: TestDatabase;
let target: TestDatabase;

beforeAll(async () => {
  // Two copies of the fixture (the target is the same data on the same server): every table is equal.
  source = await fixtureDatabase();
  target = await fixtureDatabase();
});

afterAll(async () => {
  await target?.drop();
  await source?.drop();
});

const run = (options: Partial<ValidateOptions>) => validate({ source: source.url, target: target.url, skipSchema: true, ...options });

/** The error `fn` rejects with (fails the test when it resolves). */
async function rejection(fn: () => Promise<unknown>): Promise<OfframpError> {
  const outcome = await fn().then(() => 'resolved', (e: unknown) => e);
  expect(outcome).toBeInstanceOf(OfframpError);
  return outcome as OfframpError;
}

describe('validate refuses a selection that matches nothing', () => {
  it('the baseline: the same selection spelt right compares the table and is equal', async () => {
    const r = await run({ tables: ['public.posts'] });
    expect(r.tables.map((t) => [t.table, t.status, t.rows.source])).toEqual([['public.posts', 'ok', 298]]);
    expect(r.summary.ok).toBe(true);
  });

  it('--tables public.nope: usage error (exit 2) naming the pattern', async () => {
    const e = await rejection(() => run({ tables: ['public.posts', 'public.nope'] }));
    expect(e.code).toBe('USAGE');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/--tables public\.nope matched no table on the source/);
    expect(e.message).not.toContain('public.posts');
  });

  it('--tables is exact and case-sensitive: "Order" matches, "order" does not', async () => {
    const ok = await run({ tables: ['Order'] });
    expect(ok.tables.map((t) => t.table)).toEqual(['public.Order']);
    const e = await rejection(() => run({ tables: ['public.order'] }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('--tables public.order');
  });

  it('--schemas nope: usage error naming the schema', async () => {
    const e = await rejection(() => run({ schemas: ['public', 'nope'] }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/--schemas nope matched no table on the source/);
    expect(e.hint).toMatch(/public/);
  });

  it('a selection that leaves no table (a left-behind schema, everything excluded): usage error', async () => {
    const managed = await rejection(() => run({ schemas: ['storage'] }));
    expect(managed.exitCode).toBe(2);
    expect(managed.message).toMatch(/nothing to compare/);
    expect(managed.hint).toMatch(/schema storage/);
    const excluded = await rejection(() => run({ tables: ['public.posts'], excludeTables: ['public.posts'] }));
    expect(excluded.exitCode).toBe(2);
    expect(excluded.message).toMatch(/nothing to compare/);
  });

  it('--map naming columns that do not exist: usage error naming each missing column', async () => {
    const e = await rejection(() => run({
      tables: ['public.posts'],
      mappings: [{ source: 'public.posts', target: 'public.posts', columns: { id: 'id', bodyy: 'body', title: 'headline' } }],
    }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('no column "bodyy" in public.posts on the source');
    expect(e.message).toContain('no column "title" in public.posts on the source');
    expect(e.message).toContain('no column "headline" in public.posts on the target');
    expect(e.message).not.toContain('"id"');
    expect(e.hint).toMatch(/columns of public\.posts: id, author_id/);
  });

  it('--map to a table that does not exist: usage error', async () => {
    const e = await rejection(() => run({ mappings: [{ source: 'public.posts', target: 'public.nope' }] }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('no table public.nope on the target');
  });
});

describe('a table pair without one compared column is never equal', () => {
  it('a table with no columns at all still compares its rows: equal counts ok, different counts differ', async () => {
    await mutate(source.adminUrl, 'CREATE TABLE public.no_columns (); INSERT INTO public.no_columns SELECT FROM generate_series(1, 3)');
    await mutate(target.adminUrl, 'CREATE TABLE public.no_columns (); INSERT INTO public.no_columns SELECT FROM generate_series(1, 3)');
    const equal = await run({ tables: ['public.no_columns'] });
    expect(equal.tables[0]).toMatchObject({ table: 'public.no_columns', status: 'ok', columns: [], rows: { source: 3, target: 3 } });
    await mutate(target.adminUrl, 'INSERT INTO public.no_columns SELECT');
    const differs = await run({ tables: ['public.no_columns'] });
    expect(differs.tables[0]).toMatchObject({ status: 'differs', rows: { source: 3, target: 4 } });
    expect(differs.summary.ok).toBe(false);
  });

  it('the target table shares no column name with the source: status error, summary not ok, even with --skip-schema', async () => {
    await mutate(target.adminUrl, `ALTER TABLE public."Order" RENAME COLUMN id TO order_id;
      ALTER TABLE public."Order" RENAME COLUMN "user" TO user_id; ALTER TABLE public."Order" RENAME COLUMN "productSku" TO sku;
      ALTER TABLE public."Order" RENAME COLUMN amount TO amt; ALTER TABLE public."Order" RENAME COLUMN currency TO cur;
      ALTER TABLE public."Order" RENAME COLUMN "exchangeRate" TO rate; ALTER TABLE public."Order" RENAME COLUMN status TO st;
      ALTER TABLE public."Order" RENAME COLUMN "desc" TO description; ALTER TABLE public."Order" RENAME COLUMN "placedAt" TO placed_at`);
    const columnsOf = async (url: string) => (await sqlRows<{ a: string }>(url,
      `SELECT attname AS a FROM pg_attribute WHERE attrelid = 'public."Order"'::regclass AND attnum > 0 AND NOT attisdropped`)).map((r) => r.a);
    const sourceColumns = await columnsOf(source.url);
    expect(sourceColumns.length).toBeGreaterThan(5);
    expect((await columnsOf(target.url)).filter((c) => sourceColumns.includes(c))).toEqual([]);
    for (const mode of ['full', 'hash', 'counts'] as const) {
      const r = await run({ tables: ['public.Order'], mode });
      expect(r.tables).toHaveLength(1);
      expect(r.tables[0]).toMatchObject({ table: 'public.Order', status: 'error', columns: [], rows: { source: 20, target: 20 } });
      expect(r.tables[0]!.note).toMatch(/no content compared/);
      expect(r.summary.ok).toBe(false);
      expect(r.summary.tablesDiffering).toBe(1);
    }
  });
});
