import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/local-cluster.js';
import { runCli } from './run-cli.js';

const COMMANDS = ['init', 'inspect', 'doctor', 'copy', 'dump', 'restore', 'validate', 'watch', 'cutover', 'rollback', 'demo'];

describe('offramp CLI contract', () => {
  it('--help lists every command and the exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.exitCode).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    expect(r.stdout).toMatch(/Exit codes: 0 ok/);
  });

  it.each(COMMANDS)('%s --help shows an example', async (command) => {
    const r = await runCli([command, '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n\s+\$ /);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await runCli(['--version']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('an unknown option is a usage error (exit 2), as JSON with --json', async () => {
    const text = await runCli(['inspect', '--sauce', 'x']);
    expect(text.exitCode).toBe(2);
    expect(text.stderr).toMatch(/unknown option '--sauce'/);
    const json = await runCli(['inspect', '--sauce', 'x', '--json']);
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE' } });
  });

  it('a missing source is exit 2 with a hint; --json gives the envelope on stdout only', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'offramp-e2e-'));
    const text = await runCli(['inspect'], { cwd });
    expect(text.exitCode).toBe(2);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/error: no source database given\nhint: pass --source/);
    const json = await runCli(['inspect', '--json'], { cwd });
    expect(json.exitCode).toBe(2);
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ ok: false, command: 'inspect', result: null, error: { code: 'USAGE', hint: expect.stringMatching(/--source/) } });
    expect(json.stderr).toBe('');
  });

  it('an invalid config file lists every problem and exits 2', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'offramp-e2e-'));
    writeFileSync(join(cwd, 'offramp.config.yaml'), 'sourse: x\njobs: zero\nplatform: mysql\n');
    const r = await runCli(['doctor'], { cwd });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown setting "sourse"/);
    expect(r.stderr).toMatch(/jobs/);
    expect(r.stderr).toMatch(/platform/);
  });

  it('init writes a commented config without secrets and refuses to overwrite it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'offramp-e2e-'));
    const first = await runCli(['init'], { cwd, env: { OFFRAMP_SOURCE_URL: 'postgresql://postgres:init-secret-pw@db.x.example.invalid/postgres' } });
    expect(first.exitCode).toBe(0);
    const text = readFileSync(join(cwd, 'offramp.config.yaml'), 'utf8');
    expect(text).toMatch(/^# offramp configuration/);
    expect(text).not.toContain('init-secret-pw');
    const again = await runCli(['init'], { cwd });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/already exists\nhint: pass --force/);
    expect((await runCli(['init', '--force'], { cwd })).exitCode).toBe(0);
    // The written file is itself a valid config.
    const doctor = await runCli(['doctor', '--json'], { cwd });
    expect(doctor.exitCode).toBe(2);
    expect(JSON.parse(doctor.stdout).error.message).toMatch(/needs a source, a target, or both/);
  });

  it('a refused connection is exit 1 with a diagnosis, and the password never shows', async () => {
    const port = await freePort();
    const url = `postgresql://postgres:e2e-hidden-pw-42@127.0.0.1:${port}/postgres`;
    const r = await runCli(['inspect', '--source', url]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/connection refused by 127\.0\.0\.1:\d+/);
    expect(r.stderr).toMatch(/hint: /);
    const json = await runCli(['inspect', '--source', url, '--json', '--verbose']);
    expect(JSON.parse(json.stdout).error.code).toBe('CONNECTION_FAILED');
    for (const out of [r.stdout, r.stderr, json.stdout, json.stderr]) expect(out).not.toContain('e2e-hidden-pw-42');
  });

  it('a malformed source URL is a usage error with a hint', async () => {
    const r = await runCli(['inspect', '--source', 'postgresql://user:pw-in-bad-url@[::1/db']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/not a valid postgresql:\/\/ URL/);
    expect(r.stderr).not.toContain('pw-in-bad-url');
  });
});
