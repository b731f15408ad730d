/**
 * Issue 7, item 14, through the built CLI on real servers: errors that are not bugs are reported
 * with their own code, exit code and hint, never as "this looks like a bug" and never with a stack.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emptySourceDatabase, emptyTargetDatabase, type TestDatabase } from '../bed/databases.js';
import { runCli } from '../e2e/run-cli.js';
import { sql } from './move-helpers.js';

const made: TestDatabase[] = [];
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
  await Promise.all(made.map((d) => d.drop()));
});

const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

describe('errors that are not bugs', () => {
  it('a target role without CREATE on the database: refused by the preflight (exit 5) naming the GRANT, nothing created', async () => {
    const source = await emptySourceDatabase();
    made.push(source);
    await sql(source.url, `CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, v text); INSERT INTO app.t SELECT i, i::text FROM generate_series(1, 100) i`);
    const target = await emptyTargetDatabase();
    made.push(target);
    const role = `weak_${randomBytes(4).toString('hex')}`;
    const secret = randomBytes(9).toString('hex');
    await sql(target.url, `CREATE ROLE ${role} LOGIN PASSWORD '${secret}'; REVOKE CREATE ON DATABASE ${target.name} FROM PUBLIC; GRANT CONNECT ON DATABASE ${target.name} TO ${role}`);
    cleanups.push(() => sql(target.url, `DROP OWNED BY ${role}; DROP ROLE ${role}`).catch(() => undefined));
    const weak = new URL(target.url);
    weak.username = role;
    weak.password = secret;

    const r = await runCli(['copy', '--source', source.url, '--target', weak.toString(), '--work-dir', mkdtempSync(join(tmpdir(), 'offramp-priv-')), '--json']);
    // copy's preflight (doctor's target checks) sees the missing privilege before anything is written:
    // exit 5 with the GRANT to run, not a driver error reported as a bug.
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 5 });
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      ok: false,
      error: { code: 'PREFLIGHT_FAILED', message: expect.stringMatching(/not ready/), hint: expect.stringMatching(new RegExp(`GRANT CREATE ON DATABASE "${target.name}" TO "${role}"`)) },
    });
    expect(doc.error.hint).not.toMatch(/bug/);
    expect(doc.error.detail).toBeUndefined();
    expect(r.stdout + r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout + r.stderr).not.toContain(secret);
    // Nothing was created on the target (queried independently).
    expect(await sql(target.url, `SELECT nspname FROM pg_namespace WHERE nspname = 'app'`)).toEqual([]);
  });

  it('a malformed percent-encoding in a URL: usage error (exit 2), the URL masked, no stack, not a bug', async () => {
    const target = await emptyTargetDatabase();
    made.push(target);
    const url = 'postgresql://app:s3cr%zzet@127.0.0.1:5432/app';
    const json = await runCli(['copy', '--source', url, '--target', target.url, '--json']);
    const text = await runCli(['copy', '--source', url, '--target', target.url]);
    expect([json.exitCode, text.exitCode]).toEqual([2, 2]);
    expect(JSON.parse(json.stdout).error).toEqual({ code: 'USAGE', message: expect.any(String), hint: expect.stringMatching(/percent-encode/) });
    expect(text.stderr).toMatch(/^hint: percent-encode/m);
    for (const all of [json.stdout + json.stderr, text.stdout + text.stderr]) {
      expect(all).toMatch(/source URL has a malformed percent-encoding in its password: postgresql:\/\/app:\*\*\*\*@127\.0\.0\.1:5432\/app/);
      expect(all).not.toMatch(/URI malformed|looks like a bug/);
      expect(all).not.toMatch(STACK_LINE);
      for (const part of ['s3cr', 'zzet']) expect(all).not.toContain(part);
    }
  });
});
