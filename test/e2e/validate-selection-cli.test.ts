/**
 * The built CLI never says EQUAL when validate compared nothing (issue 7, item 9): selections that
 * match no source table and --map columns that do not exist exit 2 naming the culprit; a table
 * pair without one compared column exits 3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureDatabase, type TestDatabase } from '../bed/databases.js';
import { mutate } from '../integration/validate-helpers.js';
import { runCli } from './run-cli.js';

let source: TestDatabase;
let target: TestDatabase;

beforeAll(async () => {
  source = await fixtureDatabase();
  target = await fixtureDatabase();
});

afterAll(async () => {
  await target?.drop();
  await source?.drop();
});

const validate = (...args: string[]) => runCli(['validate', '--source', source.url, '--target', target.url, '--skip-schema', ...args]);

describe('offramp validate with a selection that matches nothing (built CLI)', () => {
  it('--tables public.nope --json: exit 2, ok:false, code USAGE naming the pattern', async () => {
    const r = await validate('--tables', 'public.posts,public.nope', '--json');
    expect(r.exitCode, r.stderr).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: false, command: 'validate', error: { code: 'USAGE' } });
    expect(doc.error.message).toMatch(/--tables public\.nope matched no table on the source/);
    expect(doc.result ?? null).toBeNull();
  });

  it('--schemas nope (text): exit 2, the message on stderr, no verdict', async () => {
    const r = await validate('--schemas', 'nope');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--schemas nope matched no table on the source/);
    expect(r.stderr).not.toMatch(/EQUAL/);
  });

  it('--map with columns that do not exist: exit 2 naming them', async () => {
    const r = await validate('--tables', 'public.posts', '--map', 'public.posts=public.posts:identifier=id,text=body', '--json');
    expect(r.exitCode, r.stderr).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.error.code).toBe('USAGE');
    expect(doc.error.message).toContain('no column "identifier" in public.posts on the source');
    expect(doc.error.message).toContain('no column "text" in public.posts on the source');
  });

  it('a table whose columns all differ by name: exit 3, the table not ok', async () => {
    await mutate(target.adminUrl, `ALTER TABLE public.beacons RENAME TO beacons_old;
      CREATE TABLE public.beacons (beacon_id uuid PRIMARY KEY);
      INSERT INTO public.beacons SELECT id FROM public.beacons_old`);
    const r = await validate('--tables', 'public.beacons', '--json');
    expect(r.exitCode, r.stderr).toBe(3);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.result.tables).toEqual([expect.objectContaining({ table: 'public.beacons', status: 'error', columns: [] })]);
    expect(doc.result.summary).toMatchObject({ ok: false, tablesDiffering: 1 });
    const text = await validate('--tables', 'public.beacons');
    expect(text.exitCode).toBe(3);
    expect(text.stderr).toMatch(/no content compared/);
    expect(text.stderr).toMatch(/DIFFERENCES FOUND/);
  });
});
