/**
 * The whole journey on local parts only, through the built CLI: the fixture copied and validated
 * on the test bed's servers; a cutover runbook with a confirmed checklist, http/tls/cors against a
 * local HTTPS server with a private CA, a lowered TTL and the wait for the old one, a validate
 * step, the DNS switch on a real BIND 9 and its propagation, post-cutover http and row counts;
 * then `watch` on nginx-format lines whose 5xx rate stays above 5 % for a short window fires, and
 * with --auto-rollback --yes puts DNS back. Each claim is checked on the servers themselves (dig,
 * SQL), and the Markdown reports of both runs are read.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCombinedLine } from '../../src/core/watch/nginx-log.js';
import { startBind, type BindServer } from '../bed/bind.js';
import { emptyTargetDatabase, fixtureDatabase, type TestDatabase } from '../bed/databases.js';
import { sql } from '../integration/move-helpers.js';
import { makeCertificates, startApi, type TestApi, type TestCa } from '../integration/runbook-helpers.js';
import { runCli, type CliRun } from './run-cli.js';

const ZONE = 'journey.test';
const API = `api.${ZONE}`;
const OLD = '192.0.2.20';
const NEW = '198.51.100.30';
/** The record's TTL before the cutover: the runbook waits it out after lowering it, so it is short. */
const OLD_TTL = 3;
const HEALTH_TOKEN = 'hlth-7a6b5c4d3e2f';

let bind: BindServer;
let ca: TestCa;
let api: TestApi;
let source: TestDatabase;
let target: TestDatabase;
let dir: string;
let writer: NodeJS.Timeout | undefined;

function dig(): string[] {
  const out = execFileSync('dig', ['@127.0.0.1', '-p', String(bind.port), '+norecurse', '+noall', '+answer', API, 'A'], { encoding: 'utf8' });
  return out.trim().split('\n').filter(Boolean).map((l) => { const f = l.split(/\s+/); return `${f[1]} ${f.slice(4).join(' ')}`; }).sort();
}

const PROVIDER = '{ type: rfc2136, server: "${DNS_SERVER}", zone: "${ZONE}", tsig: { name: "${TSIG_NAME}", secretEnv: TSIG_SECRET } }';

const CUTOVER = `name: journey-cutover
phases:
  - id: pre-cutover
    title: Pre-cutover checklist
    steps:
      - { id: endpoints-tested, title: All endpoints tested against the new server, kind: manual }
      - { id: monitoring-active, title: Monitoring active, kind: manual }
      - id: new-server-health
        kind: http
        params: { url: "\${NEW_BASE_URL}/health", headers: { Authorization: "Bearer \${HEALTH_TOKEN}" }, bodyMatch: '"status":"ok"', maxLatency: 30s, ca: "\${CA}" }
      - id: new-server-tls
        kind: tls
        params: { host: 127.0.0.1, port: "\${API_PORT}", servername: api.offramp.test, minDaysValid: 3, ca: "\${CA}" }
      - id: new-server-cors
        kind: cors
        params: { url: "\${NEW_BASE_URL}/rest/v1/", origin: "https://app.offramp.test", method: GET, requestHeaders: [authorization, apikey], credentials: true, ca: "\${CA}" }
  - id: lower-ttl
    steps:
      - id: lower-ttl
        kind: dns-update
        params: { provider: ${PROVIDER}, name: "\${API_NAME}", type: A, ttl: 1 }
        undo: auto
      - { id: old-ttl-expired, kind: wait, params: { ttlOf: lower-ttl } }
      - id: ttl-visible
        kind: dns-check
        params: { name: "\${API_NAME}", type: A, resolvers: ["\${DNS_SERVER}"], expect: { values: ["\${OLD_ADDRESS}"], maxTtl: 1 } }
  - id: final-validation
    steps:
      - { id: final-validation, kind: validate, params: { mode: hash, maxDifferingTables: 0, maxSchemaFailures: 0 } }
  - id: switch
    steps:
      - id: switch-dns
        kind: dns-update
        requires: [final-validation, new-server-health]
        params: { provider: ${PROVIDER}, name: "\${API_NAME}", type: A, ttl: 1, values: ["\${NEW_ADDRESS}"] }
        undo: auto
      - id: propagation
        kind: dns-propagation
        params: { name: "\${API_NAME}", type: A, values: ["\${NEW_ADDRESS}"], resolvers: ["\${DNS_SERVER}"], interval: 200ms, within: 20s }
  - id: post-cutover
    steps:
      - id: health
        kind: http
        params: { url: "\${NEW_BASE_URL}/health", headers: { Authorization: "Bearer \${HEALTH_TOKEN}" }, ca: "\${CA}" }
      - id: row-counts
        kind: sql
        params: { on: target, query: "SELECT count(*) FROM public.posts", expect: { compare: { op: ">=", value: 298 } } }
`;

const ROLLBACK = `name: journey-rollback
phases:
  - id: dns
    steps:
      - id: dns-reverted
        kind: dns-propagation
        params: { name: "\${API_NAME}", type: A, values: ["\${OLD_ADDRESS}"], resolvers: ["\${DNS_SERVER}"], interval: 200ms, within: 20s }
  - id: data
    steps:
      - { id: sync-back, title: Rows written since the cutover copied back, kind: manual }
`;

beforeAll(async () => {
  [bind, source, target] = await Promise.all([
    startBind({ zone: ZONE, records: [{ name: API, type: 'A', ttl: OLD_TTL, values: [OLD] }] }),
    fixtureDatabase(),
    emptyTargetDatabase(),
  ]);
  ca = makeCertificates(5);
  api = await startApi(ca, HEALTH_TOKEN);
  dir = mkdtempSync(join(tmpdir(), 'offramp-journey-'));
  writeFileSync(join(dir, 'cutover.yaml'), CUTOVER);
  writeFileSync(join(dir, 'rollback.yaml'), ROLLBACK);
});
afterAll(async () => {
  clearInterval(writer);
  await Promise.all([bind?.stop(), api?.close(), source?.drop(), target?.drop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the whole journey on local parts', () => {
  it('copy, validate, cutover (exit 0, report), watch fires on 5xx (exit 6) and its automatic rollback restores DNS (report)', async () => {
    const started = Date.now();
    const secrets = [bind.tsigSecret, HEALTH_TOKEN, new URL(source.url).password, new URL(target.url).password];
    const env = {
      DNS_SERVER: bind.server, ZONE, TSIG_NAME: bind.tsigName, TSIG_SECRET: bind.tsigSecret, API_NAME: API, NEW_ADDRESS: NEW, OLD_ADDRESS: OLD,
      NEW_BASE_URL: api.base, API_PORT: String(api.port), CA: ca.caFile, HEALTH_TOKEN, USER: 'ci',
    };
    const db = ['--source', source.url, '--target', target.url];
    const runs: CliRun[] = [];

    // 1. Copy and validate, and the target holds what the source holds.
    const copy = await runCli(['copy', ...db, '--work-dir', join(dir, 'copy-work'), '--json'], { cwd: dir });
    runs.push(copy);
    expect({ exit: copy.exitCode, stderr: copy.stderr }).toMatchObject({ exit: 0 });
    expect((await sql<{ n: number }>(target.url, 'SELECT count(*)::int AS n FROM public.posts'))[0]!.n).toBe(298);
    const validate = await runCli(['validate', ...db, '--json'], { cwd: dir });
    runs.push(validate);
    expect({ exit: validate.exitCode, stderr: validate.stderr }).toMatchObject({ exit: 0 });
    expect(JSON.parse(validate.stdout).result.summary).toMatchObject({ ok: true, tablesDiffering: 0 });

    // 2. The cutover: every step passes, DNS holds the new address.
    expect(dig()).toEqual([`${OLD_TTL} ${OLD}`]);
    const cutover = await runCli(['cutover', 'run', '--runbook', 'cutover.yaml', '--yes', '--confirmed', 'endpoints-tested,monitoring-active', '--operator', 'dana', ...db, '--json'], { cwd: dir, env });
    runs.push(cutover);
    expect({ exit: cutover.exitCode, stderr: cutover.stderr }).toMatchObject({ exit: 0 });
    const ids = ['endpoints-tested', 'monitoring-active', 'new-server-health', 'new-server-tls', 'new-server-cors', 'lower-ttl', 'old-ttl-expired', 'ttl-visible',
      'final-validation', 'switch-dns', 'propagation', 'health', 'row-counts'];
    const steps = JSON.parse(cutover.stdout).result.steps as Array<{ id: string; status: string; evidence?: Record<string, unknown> }>;
    expect(steps.map((s) => `${s.id}:${s.status}`)).toEqual(ids.map((id) => `${id}:passed`));
    expect(steps.find((s) => s.id === 'old-ttl-expired')!.evidence).toMatchObject({ waitedMs: OLD_TTL * 1000 });
    expect(dig()).toEqual([`1 ${NEW}`]);
    expect(api.seenAuth).toContain(`Bearer ${HEALTH_TOKEN}`);

    const cutoverReport = readFileSync(join(dir, '.offramp', 'cutover-report.md'), 'utf8');
    expect(cutoverReport).toMatch(/^# /);
    expect(cutoverReport).toMatch(/Outcome: \*\*completed\*\*/);
    for (const id of ids) expect(cutoverReport).toMatch(new RegExp(`^\\| ${id} \\| [^|]+ \\| [^|]+ \\| passed \\|`, 'm'));
    // Evidence of the kinds that have some, and who confirmed the checklist.
    for (const id of ['new-server-health', 'new-server-tls', 'new-server-cors', 'lower-ttl', 'ttl-visible', 'final-validation', 'switch-dns', 'propagation', 'row-counts']) {
      expect(cutoverReport).toMatch(new RegExp(`^### ${id} \\(`, 'm'));
    }
    expect(cutoverReport).toMatch(/\| endpoints-tested \| dana \| --confirmed \|/);
    expect(cutoverReport).toMatch(/\| monitoring-active \| dana \| --confirmed \|/);
    expect(cutoverReport).toContain(NEW);

    // 3. watch: 3 of every 10 requests answered 502 (30 % > 5 %), held for 2 s: it fires and rolls back.
    const log = join(dir, 'access.log');
    writeFileSync(log, '');
    writer = setInterval(() => {
      const now = Date.now();
      appendFileSync(log, Array.from({ length: 10 }, (_, i) => formatCombinedLine({ at: now, status: i < 3 ? 502 : 200 })).join('\n') + '\n');
    }, 100);
    const watch = await runCli(['watch', '--log', log, '--interval', '0.5', '--error-window', '2', '--error-for', '2', '--min-requests', '5', '--max-duration', '60',
      '--no-validation', '--auto-rollback', '--yes', '--rollback-runbook', 'rollback.yaml', '--confirmed', 'sync-back', '--json'], { cwd: dir, env });
    clearInterval(writer);
    runs.push(watch);
    expect({ exit: watch.exitCode, stderr: watch.stderr }).toMatchObject({ exit: 6 });
    const watched = JSON.parse(watch.stdout).result;
    expect(watched.fired).toMatchObject({ name: 'error-rate', status: 'fired' });
    expect(watched.rollback).toMatchObject({ started: true, ok: true });

    // The rollback undid both DNS changes, newest first: the original value and TTL are back.
    expect(dig()).toEqual([`${OLD_TTL} ${OLD}`]);
    const rollbackReportFile = join(dir, '.offramp', 'rollback-report.md');
    expect(existsSync(rollbackReportFile)).toBe(true);
    const rollbackReport = readFileSync(rollbackReportFile, 'utf8');
    expect(rollbackReport).toMatch(/^# Rollback report/);
    // Why it ran: the trigger that fired, not a person (the report an on-call engineer reads the next morning).
    expect(rollbackReport).toMatch(/^Started because: offramp watch: rollback trigger error-rate fired \(.*5xx/m);
    expect(rollbackReport).toMatch(/undo of switch-dns: \*\*done\*\*/);
    expect(rollbackReport).toMatch(/undo of lower-ttl: \*\*done\*\*/);
    expect(rollbackReport.indexOf('undo of switch-dns: started')).toBeLessThan(rollbackReport.indexOf('undo of lower-ttl: started'));
    expect(rollbackReport).toMatch(/\| dns-reverted \| [^|]+ \| [^|]+ \| passed \|/);
    expect(rollbackReport).toMatch(/\| sync-back \| [^|]+ \| --confirmed \|/);

    // No secret in any output, journal or report.
    const files = ['cutover.journal.ndjson', 'rollback.journal.ndjson', 'cutover-report.md', 'rollback-report.md'].map((f) => readFileSync(join(dir, '.offramp', f), 'utf8'));
    for (const text of [...runs.flatMap((r) => [r.stdout, r.stderr]), ...files]) for (const secret of secrets) expect(text).not.toContain(secret);
    console.log(`journey-cutover: copy, validate, cutover, watch and rollback took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 110_000);
});
