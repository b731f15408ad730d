/**
 * `offramp auth verify` exit codes for bad input that is refused before any database is touched:
 * no source/target, a malformed --check-password, an unreadable JWKS or token file, an unset
 * secret variable — each exit 2 with a message and a hint, and the given password never echoed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

// Nothing listens here: bad input must be refused before a connection is attempted.
const SOURCE = 'postgresql://postgres:e2e-source-Pa55@127.0.0.1:1/postgres';
const TARGET = 'postgresql://app:e2e-target-Pa55@127.0.0.1:1/app';
const both = ['--source', SOURCE, '--target', TARGET];

describe('offramp auth verify (bad input, exit 2)', () => {
  it('refuses each bad input with a message and a hint, never echoing a secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offramp-e2e-verify-'));
    const jwks = join(dir, 'jwks.json');
    writeFileSync(jwks, '{"keys": []}');
    const cases: Array<{ args: string[]; message: RegExp; env?: Record<string, string> }> = [
      { args: ['auth', 'verify', '--json'], message: /needs both a source and a target/ },
      { args: ['auth', 'verify', ...both, '--json', '--check-password', 'no-colon-secret-pw'], message: /email:password/ },
      { args: ['auth', 'verify', ...both, '--json', '--jwks', join(dir, 'missing.json')], message: /cannot read the JWKS file/ },
      { args: ['auth', 'verify', ...both, '--json', '--jwks', jwks], message: /has no .{0,2}keys.{0,2} array/ },
      { args: ['auth', 'verify', ...both, '--json', '--token-file', join(dir, 'none.txt')], message: /cannot read the token file/ },
      { args: ['auth', 'verify', ...both, '--json', '--jwt-secret-env', 'OFFRAMP_E2E_UNSET'], message: /OFFRAMP_E2E_UNSET: the variable is not set/ },
      { args: ['auth', 'verify', ...both, '--json', '--layout', 'sideways'], message: /sideways|layout/ },
    ];
    for (const c of cases) {
      const run = await runCli(c.args, { env: c.env });
      expect(run.exitCode, `${c.args.join(' ')}: ${run.stderr}`).toBe(2);
      const out = run.stdout + run.stderr;
      expect(out).toMatch(c.message);
      for (const secret of ['no-colon-secret-pw', 'e2e-source-Pa55', 'e2e-target-Pa55']) expect(out).not.toContain(secret);
    }
  });
});
