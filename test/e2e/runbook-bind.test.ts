/**
 * A cutover runbook against a real BIND 9, through the built CLI: `dns-update` moves api.<zone> A
 * to a new address through rfc2136 with TSIG (the secret only in the environment), `dns-check` and
 * `dns-propagation` ask that server, and `rollback run --yes` puts the original record back. What
 * the server holds is read with dig after each run, independently of offramp; the TSIG secret is
 * looked for in every output, the journals and the reports.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunbookJournal } from '../../src/core/runbook/journal.js';
import { startBind, type BindServer } from '../bed/bind.js';
import { runCli, type CliRun } from './run-cli.js';

const ZONE = 'cutover.test';
const API = `api.${ZONE}`;
const OLD = '192.0.2.10';
const NEW = '198.51.100.7';

let bind: BindServer;
let dir: string;

/** What the server holds for api.<zone> A, read with dig: "ttl value" lines, sorted. */
function dig(): string[] {
  const out = execFileSync('dig', ['@127.0.0.1', '-p', String(bind.port), '+norecurse', '+noall', '+answer', API, 'A'], { encoding: 'utf8' });
  return out.trim().split('\n').filter(Boolean).map((l) => { const f = l.split(/\s+/); return `${f[1]} ${f.slice(4).join(' ')}`; }).sort();
}

const CUTOVER = `name: bind-cutover
phases:
  - id: switch
    steps:
      - id: switch-dns
        title: Point \${API_NAME} at \${NEW_ADDRESS}
        kind: dns-update
        params:
          provider: { type: rfc2136, server: "\${DNS_SERVER}", zone: "\${ZONE}", tsig: { name: "\${TSIG_NAME}", secretEnv: TSIG_SECRET } }
          name: \${API_NAME}
          type: A
          ttl: 300
          values: ["\${NEW_ADDRESS}"]
        undo: auto
      - id: switched
        kind: dns-check
        params: { name: "\${API_NAME}", type: A, resolvers: ["\${DNS_SERVER}"], expect: { values: ["\${NEW_ADDRESS}"], maxTtl: 300 } }
      - id: propagation
        kind: dns-propagation
        params: { name: "\${API_NAME}", type: A, values: ["\${NEW_ADDRESS}"], resolvers: ["\${DNS_SERVER}"], interval: 200ms, within: 20s }
`;

const ROLLBACK = `name: bind-rollback
phases:
  - id: dns
    steps:
      - id: dns-reverted
        kind: dns-propagation
        params: { name: "\${API_NAME}", type: A, values: ["\${OLD_ADDRESS}"], resolvers: ["\${DNS_SERVER}"], interval: 200ms, within: 20s }
      - id: old-ttl-back
        kind: dns-check
        params: { name: "\${API_NAME}", type: A, resolvers: ["\${DNS_SERVER}"], expect: { values: ["\${OLD_ADDRESS}"] } }
`;

beforeAll(async () => {
  bind = await startBind({ zone: ZONE, records: [{ name: API, type: 'A', ttl: 3600, values: [OLD] }] });
  dir = mkdtempSync(join(tmpdir(), 'offramp-rb-bind-'));
  writeFileSync(join(dir, 'cutover.yaml'), CUTOVER);
  writeFileSync(join(dir, 'rollback.yaml'), ROLLBACK);
});
afterAll(async () => {
  await bind?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('cutover and rollback against a real BIND 9 (rfc2136 + TSIG)', () => {
  it('cutover switches api.<zone> A, dns-check and dns-propagation see it; rollback restores value and TTL; the TSIG secret is never shown', async () => {
    const started = Date.now();
    const env = {
      DNS_SERVER: bind.server, ZONE, TSIG_NAME: bind.tsigName, TSIG_SECRET: bind.tsigSecret,
      API_NAME: API, NEW_ADDRESS: NEW, OLD_ADDRESS: OLD, USER: 'ci',
    };
    expect(dig()).toEqual([`3600 ${OLD}`]);
    const runs: CliRun[] = [];

    const plan = await runCli(['cutover', 'plan', '--runbook', 'cutover.yaml'], { cwd: dir, env });
    runs.push(plan);
    expect(plan.exitCode).toBe(0);

    const cutover = await runCli(['cutover', 'run', '--runbook', 'cutover.yaml', '--yes', '--json'], { cwd: dir, env });
    runs.push(cutover);
    expect({ exit: cutover.exitCode, stderr: cutover.stderr }).toMatchObject({ exit: 0 });
    const result = JSON.parse(cutover.stdout).result;
    expect(result.steps.map((s: { id: string; status: string }) => `${s.id}:${s.status}`)).toEqual(['switch-dns:passed', 'switched:passed', 'propagation:passed']);
    // The server itself, asked with dig: the new address with the new TTL.
    expect(dig()).toEqual([`300 ${NEW}`]);

    // The journal recorded the record set it replaced: what the undo needs.
    const journal = RunbookJournal.read(join(dir, '.offramp', 'cutover.journal.ndjson'));
    expect(journal.find((r) => r.type === 'step-passed' && r.step === 'switch-dns')).toMatchObject({
      evidence: { previous: { name: API, type: 'A', ttl: 3600, values: [OLD] }, applied: { name: API, type: 'A', ttl: 300, values: [NEW] } },
    });
    expect(journal.find((r) => r.type === 'step-passed' && r.step === 'switched')).toMatchObject({ evidence: expect.anything() });

    const rollback = await runCli(['rollback', 'run', '--runbook', 'rollback.yaml', '--yes', '--json'], { cwd: dir, env });
    runs.push(rollback);
    expect({ exit: rollback.exitCode, stderr: rollback.stderr }).toMatchObject({ exit: 0 });
    const back = JSON.parse(rollback.stdout).result;
    expect(back.undone.map((u: { id: string; status: string }) => `${u.id}:${u.status}`)).toEqual(['undo:switch-dns:passed']);
    expect(back.steps.map((s: { id: string; status: string }) => `${s.id}:${s.status}`)).toEqual(['dns-reverted:passed', 'old-ttl-back:passed']);
    // The original record again: value and TTL, as BIND holds it.
    expect(dig()).toEqual([`3600 ${OLD}`]);

    const status = await runCli(['cutover', 'status'], { cwd: dir, env });
    runs.push(status);
    expect(status.exitCode).toBe(0);

    const files = ['cutover.journal.ndjson', 'rollback.journal.ndjson', 'cutover-report.md', 'rollback-report.md'].map((f) => readFileSync(join(dir, '.offramp', f), 'utf8'));
    expect(files[3]).toMatch(/undo of switch-dns: \*\*done\*\*/);
    for (const text of [...runs.flatMap((r) => [r.stdout, r.stderr]), ...files]) expect(text).not.toContain(bind.tsigSecret);
    console.log(`runbook-bind: cutover + rollback against BIND 9 took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 120_000);
});
