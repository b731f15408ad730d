/**
 * The built CLI (`npm run build` first) as CI runs it: exit 0 on an equal copy, exit 3 with the
 * differing table in the JSON envelope, JUnit and Markdown files written, and the connection
 * passwords never printed anywhere.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyTargetDatabase, fixtureDatabase, type TestDatabase } from '../bed/databases.js';
import { copyForValidation, mutate } from '../integration/validate-helpers.js';
import { runCli } from './run-cli.js';

let source: TestDatabase;
let target: TestDatabase;
let passwords: string[];

beforeAll(async () => {
  source = await fixtureDatabase();
  target = await emptyTargetDatabase();
  await copyForValidation(source.url, target.url);
  passwords = [source.url, target.url].map((u) => decodeURIComponent(new URL(u).password)).filter(Boolean);
  expect(passwords.length).toBeGreaterThan(0);
}, 180_000);

afterAll(async () => {
  await target?.drop();
  await source?.drop();
});

function expectNoPassword(...texts: string[]): void {
  for (const text of texts) for (const p of passwords) expect(text).not.toContain(p);
}

describe('offramp validate (built CLI)', () => {
  it('exit 0 and ok:true on an equal copy; one JSON document on stdout', async () => {
    const r = await runCli(['validate', '--source', source.url, '--target', target.url, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: true, command: 'validate', result: { mode: 'full', summary: { ok: true, tablesDiffering: 0 } } });
    expect(doc.result.tables.length).toBeGreaterThan(5);
    expect(doc.result.source.url).toContain('****');
    expectNoPassword(r.stdout, r.stderr);
  });

  it('exit 3 with the differing table and key; JUnit and Markdown written; text summary on stderr', async () => {
    await mutate(target.url, `DELETE FROM public.posts WHERE id = (SELECT min(id) FROM public.posts)`);
    const dir = mkdtempSync(join(tmpdir(), 'offramp-validate-'));
    const junit = join(dir, 'validate.xml');
    const markdown = join(dir, 'validate.md');
    const json = await runCli(['validate', '--source', source.url, '--target', target.url, '--json', '--junit', junit, '--markdown', markdown]);
    expect(json.exitCode, json.stderr).toBe(3);
    const doc = JSON.parse(json.stdout);
    expect(doc.ok).toBe(false);
    const posts = doc.result.tables.find((t: { table: string }) => t.table === 'public.posts');
    expect(posts).toMatchObject({ status: 'differs', differences: [{ kind: 'missing', key: { id: expect.any(String) } }] });
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testcase classname="offramp\.validate\.data" name="public\.posts" time="[\d.]+">\s*<failure /);
    const md = readFileSync(markdown, 'utf8');
    expect(md).toContain('**Result: DIFFERENCES FOUND**');
    expectNoPassword(json.stdout, json.stderr, xml, md);

    const text = await runCli(['validate', '--source', source.url, '--target', target.url, '--mode', 'counts']);
    expect(text.exitCode).toBe(3);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/public\.posts\s+[\d,]+\s+[\d,]+\s+not hashed\s+differs/);
    expect(text.stderr).toMatch(/Result: DIFFERENCES FOUND \(exit 3\)/);
    expectNoPassword(text.stderr);
  });

  it('usage errors exit 2: no target, a malformed --map', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'offramp-validate-'));
    const noTarget = await runCli(['validate', '--source', source.url, '--json'], { cwd });
    expect(noTarget.exitCode).toBe(2);
    expect(JSON.parse(noTarget.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE', hint: expect.stringMatching(/--target/) } });
    const badMap = await runCli(['validate', '--source', source.url, '--target', target.url, '--map', 'users'], { cwd });
    expect(badMap.exitCode).toBe(2);
    expect(badMap.stderr).toMatch(/--map "users"/);
    expectNoPassword(noTarget.stdout, noTarget.stderr, badMap.stderr);
  });
});
