/**
 * Issue 7, item 14: one table maps error codes to exit codes, errors that are not bugs are
 * classified (a malformed URL is a usage error with the URL masked, a lost connection and a missing
 * privilege have their own codes), and stacks appear only with --verbose.
 */
import { Writable } from 'node:stream';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parseConnectionUrl } from '../../src/db/url.js';
import { privilegeHint, toQueryError } from '../../src/db/sql.js';
import { ArtifactError } from '../../src/core/move/artifact.js';
import {
  ConfigError, ConfirmationRequiredError, ConnectionError, ConnectionLostError, DifferencesFoundError, EnvironmentError, EXIT_CODES, ExitCode,
  ExternalToolError, InterruptedError, isConnectionLoss, normalizeError, OfframpError, PreflightFailedError, QueryError, UsageError, type ErrorCode,
} from '../../src/errors.js';
import { Reporter } from '../../src/output/reporter.js';

function sink(): Writable & { text: string } {
  const s = new Writable({
    write(chunk, _enc, cb) {
      s.text += String(chunk);
      cb();
    },
  }) as Writable & { text: string };
  s.text = '';
  return s;
}

function serverError(code: string, message: string): Error {
  const e = new pg.DatabaseError(message, message.length, 'error');
  e.severity = 'ERROR';
  e.code = code;
  return e;
}

describe('the exit-code table', () => {
  it('gives every error class the exit code of its code, and nothing else', () => {
    const errors: OfframpError[] = [
      new UsageError('u'), new ConfirmationRequiredError('c'), new ConfigError(['p']), new ConnectionError('refused', 'x', 'm'),
      new ConnectionLostError('target', 'm'), new QueryError('q', '42P01'), new QueryError('q', '42501'), new ExternalToolError('e'),
      new EnvironmentError('e'), new PreflightFailedError('p'), new DifferencesFoundError('d'), new ArtifactError('a', 'h'),
      new OfframpError('TARGET_BUSY', 'busy'), new OfframpError('TARGET_CONFLICT', 'conflict'),
    ];
    for (const e of errors) expect({ code: e.code, exit: e.exitCode }).toEqual({ code: e.code, exit: EXIT_CODES[e.code] });
    expect(new QueryError('q', '42501').code).toBe('PERMISSION_DENIED');
  });

  it('maps each code to the documented exit code', () => {
    const expected: Record<ErrorCode, number> = {
      USAGE: 2, CONFIG_INVALID: 2, CONFIRMATION_REQUIRED: 2, CONNECTION_FAILED: 1, CONNECTION_LOST: 1, PERMISSION_DENIED: 1, QUERY_FAILED: 1,
      EXTERNAL_TOOL_FAILED: 1, PREFLIGHT_FAILED: 5, DIFFERENCES_FOUND: 3, RUNBOOK_STOPPED: 4, TARGET_BUSY: 1, TARGET_CONFLICT: 1,
      ARTIFACT_INVALID: 1, DNS_FAILED: 1, ENVIRONMENT: 1, INTERRUPTED: 130, INTERNAL: 1,
    };
    expect(EXIT_CODES).toEqual(expected);
    // USAGE never means anything but exit 2 (the concurrent-copy refusal used to be USAGE with exit 1).
    expect(Object.entries(EXIT_CODES).filter(([, exit]) => exit === ExitCode.usage).map(([code]) => code).sort()).toEqual(['CONFIG_INVALID', 'CONFIRMATION_REQUIRED', 'USAGE']);
  });

  it('an interrupt under --output ndjson ends with an error event carrying INTERRUPTED and the hint', () => {
    const stdout = sink();
    const info = new Reporter({ mode: 'ndjson', verbose: false, quiet: false, color: false, stdout, stderr: sink() })
      .error(new InterruptedError('SIGINT', { hint: 'run the same offramp copy command with --resume' }));
    expect(info.exitCode).toBe(130);
    const events = stdout.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'INTERRUPTED', message: expect.stringMatching(/SIGINT/), hint: expect.stringMatching(/--resume/) });
  });

  it('an interrupt exits 128 + the signal number', () => {
    expect(new InterruptedError('SIGINT').exitCode).toBe(130);
    expect(new InterruptedError('SIGTERM').exitCode).toBe(143);
    expect(new InterruptedError('SIGHUP').exitCode).toBe(129);
    expect(normalizeError(new InterruptedError('SIGTERM', { hint: 'offramp copy --resume' }))).toMatchObject({ code: 'INTERRUPTED', exitCode: 143, hint: 'offramp copy --resume' });
  });
});

describe('a malformed percent-encoding in a URL', () => {
  const url = 'postgresql://app:s3cr%zzet-pw@db.example.invalid:5432/app';

  it('is a usage error (exit 2) naming the URL with its password masked, not "URI malformed"', () => {
    let caught: unknown;
    try {
      parseConnectionUrl(url, 'source URL');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    const info = normalizeError(caught);
    expect(info).toMatchObject({ code: 'USAGE', exitCode: 2, message: expect.stringMatching(/source URL has a malformed percent-encoding in its password/) });
    expect(info.message).toContain('postgresql://app:****@db.example.invalid:5432/app');
    expect(info.hint).toMatch(/%25/);
    // Not even part of the password is echoed.
    for (const part of ['s3cr', 'zzet', '%zz']) expect(JSON.stringify(info)).not.toContain(part);
  });

  it('in the user name or database name too', () => {
    expect(() => parseConnectionUrl('postgresql://a%zzb:pw@h/db')).toThrow(/malformed percent-encoding in its user name/);
    expect(() => parseConnectionUrl('postgresql://u:pw@h/d%zzb')).toThrow(/malformed percent-encoding in its database name/);
  });
});

describe('classifying errors that are not bugs', () => {
  it('recognises a lost connection by SQLSTATE, socket code or driver message, also as a cause', () => {
    expect(isConnectionLoss(serverError('57P01', 'terminating connection due to administrator command'))).toBe(true);
    expect(isConnectionLoss(serverError('57P02', 'terminating connection because of crash of another server process'))).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBe(true);
    expect(isConnectionLoss(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionLoss(new Error('wrapped', { cause: new Error('Connection terminated unexpectedly') }))).toBe(true);
    expect(isConnectionLoss(serverError('42P07', 'relation "x" already exists'))).toBe(false);
    expect(isConnectionLoss(serverError('42501', 'permission denied for table x'))).toBe(false);
  });

  it('toQueryError names the side whose connection was lost and says --resume finishes', () => {
    const e = toQueryError(serverError('57P01', 'terminating connection due to administrator command'), 'index posts_pkey', 'target');
    expect(e).toBeInstanceOf(ConnectionLostError);
    expect(e.message).toMatch(/^the connection to the target was lost during index posts_pkey/);
    expect(e.hint).toMatch(/offramp copy --resume/);
    expect(e.hint).not.toMatch(/missing a role/);
  });

  it('a privilege error is PERMISSION_DENIED with the GRANT that is needed', () => {
    const e = toQueryError(serverError('42501', 'permission denied for database app'), 'create schema', 'target', 'app_user');
    expect(normalizeError(e)).toMatchObject({ code: 'PERMISSION_DENIED', exitCode: 1, hint: expect.stringMatching(/GRANT CREATE ON DATABASE "app" TO "app_user"/) });
    expect(privilegeHint('permission denied for schema extensions', 'u')).toMatch(/GRANT USAGE, CREATE ON SCHEMA "extensions" TO "u"/);
  });

  it('raw driver errors reaching the top are classified, not called bugs', () => {
    expect(normalizeError(new Error('Connection terminated unexpectedly'))).toMatchObject({ code: 'CONNECTION_LOST', exitCode: 1 });
    expect(normalizeError(serverError('42501', 'permission denied for database app'))).toMatchObject({ code: 'PERMISSION_DENIED', hint: expect.stringMatching(/GRANT/) });
    expect(normalizeError(serverError('22P02', 'invalid input syntax'))).toMatchObject({ code: 'QUERY_FAILED' });
    expect(normalizeError(new TypeError('x is undefined'))).toMatchObject({ code: 'INTERNAL', hint: expect.stringMatching(/bug/) });
  });
});

describe('stack traces', () => {
  const bug = (): Error => {
    const e = new TypeError('cannot read properties of undefined');
    e.stack = 'TypeError: cannot read properties of undefined\n    at plan (src/core/move/plan.ts:1:1)\n    at copy (src/core/move/copy.ts:2:2)';
    return e;
  };

  it('appear only with --verbose: neither in JSON detail nor in text otherwise', () => {
    for (const mode of ['json', 'text', 'ndjson'] as const) {
      const stdout = sink();
      const stderr = sink();
      new Reporter({ mode, verbose: false, quiet: false, color: false, stdout, stderr }).error(bug());
      expect(stdout.text + stderr.text).toContain('cannot read properties of undefined');
      expect(stdout.text + stderr.text).not.toMatch(/\bat plan\b/);
      if (mode === 'json') expect(JSON.parse(stdout.text).error.detail).toBeUndefined();
    }
    const stdout = sink();
    new Reporter({ mode: 'json', verbose: true, quiet: false, color: false, stdout, stderr: sink() }).error(bug());
    expect(JSON.parse(stdout.text).error.detail).toMatch(/at plan \(src\/core\/move\/plan\.ts/);
    const stderr = sink();
    new Reporter({ mode: 'text', verbose: true, quiet: false, color: false, stdout: sink(), stderr }).error(bug());
    expect(stderr.text).toMatch(/at plan/);
  });
});
