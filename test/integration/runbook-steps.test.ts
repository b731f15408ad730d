/**
 * The http, tls and cors steps against a local HTTPS server with a private CA made in the test,
 * and the sql step against the test bed's servers (what it wrote is checked with an independent query).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { cutoverRun } from '../../src/core/runbook/cutover.js';
import { RunbookJournal } from '../../src/core/runbook/journal.js';
import type { RunEnvironment } from '../../src/core/runbook/session.js';
import { silentProgress } from '../../src/output/progress.js';
import { emptyTargetDatabase, fixtureDatabase, type TestDatabase } from '../bed/databases.js';
import { makeCertificates, startApi, type TestApi, type TestCa } from './runbook-helpers.js';

const TOKEN = 'tok-9f8e7d6c5b4a';
let ca: TestCa;
let api: TestApi;
let source: TestDatabase;
let target: TestDatabase;

beforeAll(async () => {
  ca = makeCertificates(5);
  api = await startApi(ca, TOKEN);
  [source, target] = await Promise.all([fixtureDatabase(), emptyTargetDatabase()]);
});
afterAll(async () => {
  await api?.close();
  await Promise.all([source?.drop(), target?.drop()]);
});

async function run(steps: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'offramp-rb-int-'));
  const file = join(dir, 'cutover.yaml');
  writeFileSync(file, `name: t\nphases:\n  - id: p\n    steps:\n${steps}`);
  const environment: RunEnvironment = {
    io: { env: { PATH: process.env.PATH, CA: ca.caFile, BASE: api.base, PORT: String(api.port), HEALTH_TOKEN: TOKEN, ...extraEnv }, operator: 'ci' },
    databases: { source: source.url, target: target.url },
  };
  const result = await cutoverRun({ runbook: file, workDir: join(dir, '.offramp'), dryRun: false, rerun: false, yes: true, confirmed: [], interactive: false }, silentProgress, environment);
  const journal = readFileSync(join(dir, '.offramp', 'cutover.journal.ndjson'), 'utf8');
  return { result, journal, report: readFileSync(result.report, 'utf8'), records: RunbookJournal.read(join(dir, '.offramp', 'cutover.journal.ndjson')) };
}

describe('http, tls and cors steps against a local HTTPS server with a private CA', () => {
  it('http: status, body match and latency pass with the CA; the bearer token reaches the server and never the journal or report', async () => {
    const { result, journal, report } = await run(`      - id: health
        kind: http
        params:
          url: \${BASE}/health
          headers: { Authorization: "Bearer \${HEALTH_TOKEN}" }
          bodyMatch: '"status":"ok"'
          maxLatency: 30s
          ca: \${CA}
`);
    expect(result.reason).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.steps[0]!.evidence).toMatchObject({ status: 200, bodyMatched: true, headers: { 'content-type': 'application/json', server: 'offramp-test' } });
    expect(typeof result.steps[0]!.evidence!.latencyMs).toBe('number');
    expect(api.seenAuth).toContain(`Bearer ${TOKEN}`);
    expect(journal).not.toContain(TOKEN);
    expect(report).not.toContain(TOKEN);
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it('http: an untrusted certificate and a wrong status both fail the step with the reason', async () => {
    const untrusted = await run(`      - { id: health, kind: http, params: { url: "\${BASE}/health" } }\n`);
    expect(untrusted.result.ok).toBe(false);
    expect(untrusted.result.reason).toMatch(/self[- ]signed|unable to (get|verify)/i);
    const unauthorised = await run(`      - { id: health, kind: http, params: { url: "\${BASE}/health", ca: "\${CA}" } }\n`);
    expect(unauthorised.result.ok).toBe(false);
    expect(unauthorised.result.reason).toBe('status 401, expected 200');
    expect(unauthorised.records.find((r) => r.type === 'step-failed')).toMatchObject({ evidence: { status: 401 }, final: true });
  });

  it('tls: trusted chain, matching name and enough days pass with the certificate dates as evidence', async () => {
    const { result } = await run(`      - { id: cert, kind: tls, params: { host: 127.0.0.1, port: "\${PORT}", servername: api.offramp.test, minDaysValid: 3, ca: "\${CA}" } }\n`);
    expect(result.reason).toBeUndefined();
    const ev = result.steps[0]!.evidence!;
    expect(ev).toMatchObject({ trusted: true, subject: 'CN=api.offramp.test', issuer: 'CN=offramp test CA' });
    expect([4, 5]).toContain(ev.daysLeft);
    expect(Date.parse(String(ev.notAfter)) - Date.now()).toBeGreaterThan(4 * 86_400_000);
  });

  it('tls: too few days left, a name the certificate does not carry, and an unknown CA each fail', async () => {
    const short = await run(`      - { id: cert, kind: tls, params: { host: 127.0.0.1, port: "\${PORT}", servername: api.offramp.test, minDaysValid: 30, ca: "\${CA}" } }\n`);
    expect(short.result.reason).toMatch(/certificate expires in [45] days .*fewer than 30/);
    const wrongName = await run(`      - { id: cert, kind: tls, params: { host: 127.0.0.1, port: "\${PORT}", servername: db.offramp.test, minDaysValid: 1, ca: "\${CA}" } }\n`);
    expect(wrongName.result.reason).toMatch(/does not match db\.offramp\.test/);
    const unknownCa = await run(`      - { id: cert, kind: tls, params: { host: 127.0.0.1, port: "\${PORT}", servername: api.offramp.test, minDaysValid: 1 } }\n`);
    expect(unknownCa.result.reason).toMatch(/certificate not trusted/);
  });

  it('cors: a correct preflight and request pass with credentials; "*" with credentials and a missing header fail', async () => {
    const good = await run(`      - id: cors
        kind: cors
        params: { url: "\${BASE}/rest/v1/", origin: "https://app.offramp.test", method: PATCH, requestHeaders: [Authorization, apikey, Content-Type], credentials: true, ca: "\${CA}" }
`);
    expect(good.result.reason).toBeUndefined();
    expect(good.result.steps[0]!.evidence).toMatchObject({
      preflight: { status: 204, headers: { 'access-control-allow-origin': 'https://app.offramp.test', 'access-control-allow-credentials': 'true' } },
      request: { status: 200, headers: { 'access-control-allow-origin': 'https://app.offramp.test' } },
    });
    const bad = await run(`      - id: cors
        kind: cors
        params: { url: "\${BASE}/bad-cors/", origin: "https://app.offramp.test", method: GET, requestHeaders: [authorization], credentials: true, ca: "\${CA}" }
`);
    expect(bad.result.ok).toBe(false);
    expect(bad.result.reason).toMatch(/preflight: Access-Control-Allow-Origin is "\*", which browsers reject with credentials/);
    expect(bad.result.reason).toMatch(/preflight: Access-Control-Allow-Credentials is not "true"/);
    expect(bad.result.reason).toMatch(/header authorization not in Access-Control-Allow-Headers \(content-type\)/);
  });
});

describe('sql steps against the test bed', () => {
  it('reads the source with an expectation, writes the target only with write: true, and a read-only step cannot write even through a function', async () => {
    const users = await withClient(source.url, { role: 'admin' }, (c) => c.query('SELECT count(*)::int AS n FROM auth.users')).then((r) => r.rows[0].n as number);
    const { result } = await run(`      - id: source-users
        kind: sql
        params: { on: source, query: "SELECT count(*) FROM auth.users", expect: { compare: { op: ">=", value: ${users} }, rows: 1 } }
      - id: make-marker
        kind: sql
        params:
          on: target
          write: true
          query: |
            CREATE TABLE cutover_marker AS SELECT 1 AS done;
            CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS 'CREATE TABLE should_not_exist (x int); SELECT 1';
      - id: sneaky-write
        kind: sql
        params: { on: target, query: "SELECT sneaky()" }
`);
    expect(result.steps.map((s) => s.status)).toEqual(['passed', 'passed', 'failed']);
    expect(result.steps[0]!.evidence).toMatchObject({ on: 'source', rows: 1, value: String(users) });
    expect(result.reason).toMatch(/read-only transaction/);
    const tables = await withClient(target.url, { role: 'admin' }, (c) => c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"));
    expect(tables.rows.map((r) => r.tablename)).toEqual(['cutover_marker']);
  });

  it('a read-only step whose query writes is refused by the parser before anything runs', async () => {
    await expect(run(`      - { id: first, kind: sql, params: { on: target, write: true, query: "CREATE TABLE must_not_exist (x int)" } }
      - { id: sneaky, kind: sql, params: { on: target, query: "DROP TABLE IF EXISTS something" } }
`)).rejects.toMatchObject({ exitCode: 2, problems: [expect.stringMatching(/step "sneaky": the query changes data \(DropStmt\)/)] });
    const tables = await withClient(target.url, { role: 'admin' }, (c) => c.query("SELECT tablename FROM pg_tables WHERE tablename = 'must_not_exist'"));
    expect(tables.rowCount).toBe(0);
  });

  it('a failed expectation says what was found', async () => {
    const { result } = await run(`      - { id: none, kind: sql, params: { on: source, query: "SELECT count(*) FROM auth.users", expect: { value: -1 } } }\n`);
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^value \d+, expected -1$/);
  });
});

describe('validate step', () => {
  it('runs offramp validation in-process; its JSON result is the evidence and the thresholds decide', async () => {
    const { result, records } = await run(`      - { id: final, kind: validate, params: { mode: counts, schemas: [public], skipSchema: true } }\n`);
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^\d+ tables differ \(at most 0 allowed\)/);
    const failed = records.find((r) => r.type === 'step-failed');
    expect(failed).toMatchObject({ step: 'final', evidence: { mode: 'counts', summary: { ok: false } } });
    const evidence = (failed as unknown as { evidence: { summary: { tablesDiffering: number }; tables: Array<{ table: string; rows: { source: number | null } }> } }).evidence;
    const posts = await withClient(source.url, { role: 'admin' }, (c) => c.query('SELECT count(*)::int AS n FROM public.posts')).then((r) => r.rows[0].n as number);
    expect(evidence.tables.find((t) => t.table === 'public.posts')!.rows.source).toBe(posts);
    expect(evidence.summary.tablesDiffering).toBeGreaterThan(0);
  });
});
