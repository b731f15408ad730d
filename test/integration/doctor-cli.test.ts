/**
 * The built CLI (`npm run build` first) running `offramp doctor` against the test bed's servers:
 * exit code 5 on a FAIL, the JSON envelope, and no password anywhere in stdout or stderr — neither
 * the real one of the source nor the wrong one given for the target.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptySourceDatabase, emptyTargetDatabase, type TestDatabase } from '../bed/databases.js';
import { runCli, type CliRun } from '../e2e/run-cli.js';

const WRONG = 'Wr0ng-Target-Pa55word';

function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

function expectNoSecrets(run: CliRun, secrets: string[]): void {
  for (const secret of secrets) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
}

describe('offramp doctor (built CLI)', () => {
  let source: TestDatabase;
  let target: TestDatabase;
  let sourcePassword: string;
  let wrongTarget: string;

  beforeAll(async () => {
    if (!existsSync(fileURLToPath(new URL('../../dist/cli.js', import.meta.url)))) {
      throw new Error('dist/cli.js is missing: run `npm run build` before these tests');
    }
    [source, target] = await Promise.all([emptySourceDatabase(), emptyTargetDatabase()]);
    sourcePassword = decodeURIComponent(new URL(source.url).password);
    expect(sourcePassword.length).toBeGreaterThan(8);
    wrongTarget = withPassword(target.url, WRONG);
  });

  afterAll(async () => {
    await Promise.all([source?.drop(), target?.drop()]);
  });

  it('--json: exit 5, one envelope on stdout naming the failing check, no password anywhere', async () => {
    const run = await runCli(['doctor', '--source', source.url, '--target', wrongTarget, '--json']);
    expect(run.exitCode).toBe(5);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({ ok: false, command: 'doctor', version: expect.any(String), warnings: expect.any(Array) });
    expect(doc.error).toBeUndefined();
    expect(doc.result.summary.fail).toBe(1);
    const failing = doc.result.checks.filter((c: { status: string }) => c.status === 'fail');
    expect(failing).toEqual([
      expect.objectContaining({ id: 'target.connect', status: 'fail', hint: expect.stringMatching(/password/), evidence: expect.objectContaining({ diagnosis: 'bad-password' }) }),
    ]);
    expect(doc.result.source).toMatchObject({ reachable: true, url: expect.stringContaining('****') });
    expect(doc.result.target).toMatchObject({ reachable: false, url: expect.stringContaining('****') });
    expectNoSecrets(run, [sourcePassword, WRONG]);
  });

  it('text: exit 5, the table and the hint on stderr, nothing on stdout, no password anywhere', async () => {
    const run = await runCli(['doctor', '--source', source.url, '--target', wrongTarget]);
    expect(run.exitCode).toBe(5);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/FAIL {2}Target connection +password authentication failed for user "postgres"/);
    expect(run.stderr).toMatch(/hint: the password was rejected/);
    expect(run.stderr).toMatch(/SKIP {2}Target database empty +target not reachable/);
    expect(run.stderr).toMatch(/preflight failed: 1 check must be fixed/);
    expectNoSecrets(run, [sourcePassword, WRONG]);
  });

  it('URLs from the environment are masked too, and ndjson events carry no password', async () => {
    const run = await runCli(['doctor', '--output', 'ndjson'], { env: { OFFRAMP_SOURCE_URL: source.url, OFFRAMP_TARGET_URL: wrongTarget } });
    expect(run.exitCode).toBe(5);
    const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(events.at(-1)).toMatchObject({ type: 'result', ok: false, command: 'doctor' });
    expectNoSecrets(run, [sourcePassword, WRONG]);
  });

  it('a healthy pair exits 0', async () => {
    const run = await runCli(['doctor', '--source', source.url, '--target', target.url, '--json']);
    expect(run.exitCode).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({ ok: true, command: 'doctor', result: { summary: { fail: 0 } } });
    expectNoSecrets(run, [sourcePassword]);
  });
});
