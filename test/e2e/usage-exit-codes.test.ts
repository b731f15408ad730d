/**
 * Issue 9: every usage problem (a bad flag, a path that is not what the flag expects, a report file
 * that cannot be written) exits 2 with a hint, through the one code → exit table, before anything
 * connects. The URLs point at a port nothing listens on: a command that tried to connect first
 * would exit 1 (connection refused), so exit 2 also proves the input was judged first.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/local-cluster.js';
import { runCli } from './run-cli.js';

const PASSWORD = 'usage-pw-7f3k9q';
let url = '';
let dir = '';

beforeAll(async () => {
  url = `postgresql://app:${PASSWORD}@127.0.0.1:${await freePort()}/app`;
  dir = mkdtempSync(join(tmpdir(), 'offramp-usage-'));
  mkdirSync(join(dir, 'empty-dir'));
  // An offramp dump that never finished: its schema file is there, its manifest (written last) is not.
  mkdirSync(join(dir, 'unfinished-dump'));
  writeFileSync(join(dir, 'unfinished-dump', 'schema-meta.json'), '{}');
  writeFileSync(join(dir, 'notes.txt'), 'not a dump\n');
});

/** Each case: arguments (the URL and the scratch directory filled in), and what the message names. */
const cases: Array<[string, () => string[], RegExp]> = [
  ['restore --from a path that does not exist', () => ['restore', '--from', join(dir, 'no-such-dump'), '--target', url], /does not exist/],
  ['restore --from a directory that is not a dump', () => ['restore', '--from', join(dir, 'empty-dir'), '--target', url], /empty-dir/],
  ['restore --from an offramp dump that never finished', () => ['restore', '--from', join(dir, 'unfinished-dump'), '--target', url], /has no manifest\.json/],
  ['inspect --markdown into a missing directory', () => ['inspect', '--source', url, '--markdown', join(dir, 'missing', 'plan.md')], /--markdown .*does not exist/],
  ['validate --junit naming a directory', () => ['validate', '--source', url, '--target', url, '--junit', dir], /--junit .* is a directory/],
  ['copy --owner-map without "="', () => ['copy', '--source', url, '--target', url, '--owner-map', 'postgres'], /--owner-map/],
  ['copy --jobs 0', () => ['copy', '--source', url, '--target', url, '--jobs', '0'], /jobs/],
  ['doctor --source that is not a URL or a file', () => ['doctor', '--source', join(dir, 'no-such-file.sql')], /no-such-file|URL/],
  ['watch baseline --log a file that does not exist', () => ['watch', 'baseline', '--log', join(dir, 'no-such-access.log'), '--work-dir', join(dir, 'work')], /cannot read --log .*ENOENT/],
  ['an unknown option', () => ['dump', '--source', url, '--out', join(dir, 'out'), '--sauce'], /unknown option/],
  // Subcommands two levels down (auth migrate, rls verify, cutover run): the same exit 2.
  ['an unknown option of a nested subcommand', () => ['rls', 'verify', '--source', url, '--target', url, '--sauce'], /unknown option/],
  ['a choice outside the allowed ones, nested', () => ['auth', 'migrate', '--source', url, '--target', url, '--layout', 'flat'], /allowed choices/i],
];

describe('usage errors exit 2 with a hint', () => {
  it.each(cases)('%s', async (_name, args, names) => {
    const text = await runCli(args());
    expect(text.exitCode).toBe(2);
    expect(text.stderr).toMatch(names);
    expect(text.stderr).not.toMatch(/connection refused|this looks like a bug/i);
    expect(`${text.stdout}${text.stderr}`).not.toContain(PASSWORD);

    const json = await runCli([...args(), '--json']);
    expect(json.exitCode).toBe(2);
    const doc = JSON.parse(json.stdout) as { ok: boolean; error: { code: string; hint?: string; message: string } };
    expect(doc.ok).toBe(false);
    expect(['USAGE', 'CONFIG_INVALID']).toContain(doc.error.code);
    expect(doc.error.hint ?? '').not.toBe('');
    expect(json.stdout).not.toContain(PASSWORD);
  });

  it('a plain text file given to restore --from is refused as input, never as a bug', async () => {
    const r = await runCli(['restore', '--from', join(dir, 'notes.txt'), '--target', url, '--json']);
    expect(r.exitCode).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE', hint: expect.any(String) } });
  });
});
