import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/checks/types.js';
import { summarize } from '../../src/checks/types.js';
import type { DoctorReport } from '../../src/core/doctor/index.js';
import { renderDoctorText } from '../../src/core/doctor/render.js';

function check(id: string, title: string, status: CheckResult['status'], detail: string, hint?: string): CheckResult {
  return { id, title, status, detail, hint, durationMs: 1 };
}

function report(checks: CheckResult[], adminSql: string[] = []): DoctorReport {
  return {
    source: { url: 'postgresql://postgres:****@127.0.0.1:5432/postgres', reachable: true, serverVersion: '15.8', user: 'postgres', database: 'postgres' },
    target: { url: 'postgresql://app:****@127.0.0.1:5433/app', reachable: false },
    jobs: 4,
    checks,
    summary: summarize(checks),
    adminSql,
    durationMs: 1234,
  };
}

const plain = new Chalk({ level: 0 });

describe('renderDoctorText', () => {
  const failing = report([
    check('source.connect', 'Source connection', 'pass', 'connected as postgres', 'never shown for a pass'),
    check('target.connect', 'Target connection', 'fail', 'password authentication failed for user "app"', 'check the password'),
    check('target.empty', 'Target database empty', 'skip', 'target not reachable'),
    check('source.wal-level', 'Source wal_level', 'warn', 'wal_level = replica', 'ALTER SYSTEM SET wal_level = logical'),
  ]);

  it('renders one aligned line per check, hints under FAIL and WARN only, and a summary', () => {
    const text = renderDoctorText(failing, plain);
    expect(text).toMatchInlineSnapshot(`
      "offramp doctor
        source  postgresql://postgres:****@127.0.0.1:5432/postgres PostgreSQL 15.8
        target  postgresql://app:****@127.0.0.1:5433/app unreachable

        PASS  Source connection      connected as postgres
        FAIL  Target connection      password authentication failed for user "app"
                                     hint: check the password
        SKIP  Target database empty  target not reachable
        WARN  Source wal_level       wal_level = replica
                                     hint: ALTER SYSTEM SET wal_level = logical

      preflight failed: 1 check must be fixed  (1 pass · 1 warn · 1 fail · 1 skip; 1.2 s)"
    `);
    expect(text).not.toContain('never shown for a pass');
  });

  it('says ready when nothing failed', () => {
    const ok = renderDoctorText(report([check('a', 'A', 'pass', 'fine')]), plain);
    expect(ok).toMatch(/^ready {2}\(1 pass · 0 warn · 0 fail · 0 skip; 1\.2 s\)$/m);
    const warned = renderDoctorText(report([check('a', 'A', 'warn', 'hmm', 'do this')]), plain);
    expect(warned).toMatch(/^ready, with warnings/m);
  });

  it('colours statuses when the chalk instance has colour, and is plain at level 0', () => {
    const coloured = renderDoctorText(failing, new Chalk({ level: 1 }));
    expect(coloured).toMatch(/\u001b\[31m\u001b\[1mFAIL/);
    expect(coloured).toMatch(/\u001b\[32mPASS/);
    expect(renderDoctorText(failing, plain)).not.toMatch(/\u001b\[/);
  });

  it('shows a side that was not given', () => {
    const r = { ...report([]), target: undefined };
    expect(renderDoctorText(r, plain)).toMatch(/target {2}\(not given\)/);
  });

  it('prints the administrator SQL once, after the checks, only when there is some', () => {
    const sqlText = ['CREATE SCHEMA IF NOT EXISTS "extensions" AUTHORIZATION "app";', 'CREATE EXTENSION IF NOT EXISTS "postgis" WITH SCHEMA "extensions";'];
    const text = renderDoctorText(report([check('target.can-create-extensions', 'Target may create extensions', 'fail', 'postgis: only a superuser', 'have an administrator run the SQL below')], sqlText), plain);
    const lines = text.split('\n');
    const heading = lines.findIndex((l) => l.startsWith('An administrator runs this once'));
    expect(heading).toBeGreaterThan(lines.findIndex((l) => l.includes('FAIL')));
    expect(lines.slice(heading + 1, heading + 3)).toEqual(sqlText.map((q) => `  ${q}`));
    expect(text.split('CREATE EXTENSION').length).toBe(2);
    expect(renderDoctorText(report([check('target.connect', 'Target connection', 'pass', 'ok')]), plain)).not.toContain('An administrator');
  });
});
