/**
 * `offramp cutover` and `offramp rollback` as a person or a CI job runs them: the built CLI as a
 * child process, its exit codes (0, 2, 4), its files, and what a kill in the middle leaves behind.
 */
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunbookJournal, type StampedRunbookRecord } from '../../src/core/runbook/journal.js';
import { makeCertificates, startApi, type TestApi, type TestCa } from '../integration/runbook-helpers.js';
import { runCli } from './run-cli.js';

const BIN = fileURLToPath(new URL('../../bin/offramp.js', import.meta.url));
const TOKEN = 'tkn-5e4d3c2b1a0f';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'offramp-rb-e2e-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const journalOf = (dir: string): StampedRunbookRecord[] => RunbookJournal.read(join(dir, '.offramp', 'cutover.journal.ndjson'));

async function until<T>(what: string, probe: () => T | undefined, seconds = 60): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('offramp cutover / rollback CLI', () => {
  let ca: TestCa;
  let api: TestApi;
  beforeAll(async () => {
    ca = makeCertificates(5);
    api = await startApi(ca, TOKEN);
  });
  afterAll(() => api?.close());

  it('cutover init writes the default runbooks, refuses to overwrite without --yes, and plan reads them', async () => {
    const dir = project({});
    const first = await runCli(['cutover', 'init'], { cwd: dir });
    expect(first.exitCode).toBe(0);
    const shipped = readFileSync(fileURLToPath(new URL('../../runbooks/cutover.yaml', import.meta.url)), 'utf8');
    expect(readFileSync(join(dir, 'runbooks', 'cutover.yaml'), 'utf8')).toBe(shipped);
    writeFileSync(join(dir, 'runbooks', 'rollback.yaml'), '# edited\n');
    const again = await runCli(['cutover', 'init'], { cwd: dir });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/already exist.*\nhint: add --yes/s);
    expect(readFileSync(join(dir, 'runbooks', 'rollback.yaml'), 'utf8')).toBe('# edited\n');
    expect((await runCli(['cutover', 'init', '--yes'], { cwd: dir })).exitCode).toBe(0);
    expect(readFileSync(join(dir, 'runbooks', 'rollback.yaml'), 'utf8')).not.toBe('# edited\n');

    const plan = await runCli(['cutover', 'plan', '--json'], { cwd: dir });
    expect(plan.exitCode).toBe(0);
    const doc = JSON.parse(plan.stdout);
    const ids = doc.result.phases.flatMap((p: { steps: Array<{ id: string }> }) => p.steps.map((s) => s.id));
    expect(ids).toEqual(['endpoints-tested', 'data-validated', 'ssl-configured', 'monitoring-active', 'rollback-ready', 'new-server-health', 'new-server-tls',
      'new-server-cors', 'lower-ttl', 'old-ttl-expired', 'ttl-visible', 'final-validation', 'switch-dns', 'propagation', 'health', 'error-rate', 'row-counts']);
    const rollbackPlan = await runCli(['cutover', 'plan', '--runbook', 'runbooks/rollback.yaml'], { cwd: dir });
    expect(rollbackPlan.exitCode).toBe(0);
    expect(rollbackPlan.stderr).toMatch(/sync-back \(manual, line \d+\)/);
    expect(rollbackPlan.stderr).toMatch(/WHERE created_at >= '2026-01-01T00:00:00Z'/);
  });

  it('a runbook with typos is refused before anything runs: exit 2, every problem with its line, no journal', async () => {
    const dir = project({
      'rb.yaml': `name: typo
phases:
  - id: p
    steps:
      - { id: a, kind: comand, params: { run: "touch ran" } }
      - { id: b, kind: http, params: { method: GET } }
      - { id: c, kind: manual, requires: [a-typo] }
`,
    });
    for (const args of [['cutover', 'run', '--runbook', 'rb.yaml', '--yes'], ['cutover', 'plan', '--runbook', 'rb.yaml']]) {
      const r = await runCli(args, { cwd: dir });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/rb\.yaml:5:24: step "a": unknown step kind "comand"/);
      expect(r.stderr).toMatch(/rb\.yaml:6:\d+: step "b": missing parameter "url"/);
      expect(r.stderr).toMatch(/rb\.yaml:7:\d+: step "c": requires "a-typo", which names no step/);
    }
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(existsSync(join(dir, '.offramp'))).toBe(false);

    const bogus = await runCli(['cutover', 'run', '--bogus'], { cwd: dir });
    expect(bogus.exitCode).toBe(2);
    expect(bogus.stderr).toMatch(/unknown option '--bogus'/);
    const bogusJson = await runCli(['rollback', 'run', '--bogus', '--json'], { cwd: dir });
    expect(bogusJson.exitCode).toBe(2);
    expect(JSON.parse(bogusJson.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    const noRunbook = await runCli(['cutover', 'run'], { cwd: dir });
    expect(noRunbook.exitCode).toBe(2);
    expect(noRunbook.stderr).toMatch(/no cutover runbook at runbooks\/cutover\.yaml\nhint: `offramp cutover init`/);
  });

  it('a manual step is refused without a terminal (exit 4), passes with --confirmed (exit 0); status shows both runs', async () => {
    const dir = project({
      'rb.yaml': `name: checklist
phases:
  - id: pre
    title: Pre-cutover checklist
    steps:
      - { id: monitoring-active, title: Monitoring active, kind: manual }
      - { id: marker, kind: command, params: { run: "touch marker" } }
`,
    });
    const refused = await runCli(['cutover', 'run', '--runbook', 'rb.yaml', '--yes'], { cwd: dir, env: { USER: 'dana' } });
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toMatch(/stopped at monitoring-active: needs a person: confirm "Monitoring active" with --confirmed monitoring-active/);
    expect(existsSync(join(dir, 'marker'))).toBe(false);

    const confirmed = await runCli(['cutover', 'run', '--runbook', 'rb.yaml', '--yes', '--confirmed', 'monitoring-active', '--json'], { cwd: dir, env: { USER: 'dana' } });
    expect(confirmed.exitCode).toBe(0);
    expect(JSON.parse(confirmed.stdout).result.steps.map((s: { status: string }) => s.status)).toEqual(['passed', 'passed']);
    expect(existsSync(join(dir, 'marker'))).toBe(true);
    expect(journalOf(dir)).toContainEqual(expect.objectContaining({ type: 'confirmed', step: 'monitoring-active', by: 'dana', run: 2 }));
    const report = readFileSync(join(dir, '.offramp', 'cutover-report.md'), 'utf8');
    expect(report).toMatch(/\| monitoring-active \| dana \| --confirmed \|/);
    expect(report).toMatch(/run 1 stopped at monitoring-active/);

    const status = await runCli(['cutover', 'status', '--json'], { cwd: dir });
    expect(status.exitCode).toBe(0);
    const s = JSON.parse(status.stdout).result;
    expect(s.runs.map((r: { finished: { ok: boolean } }) => r.finished.ok)).toEqual([false, true]);
    expect(s.steps).toContainEqual(expect.objectContaining({ id: 'monitoring-active', state: 'passed', confirmedBy: 'dana' }));

    const typo = await runCli(['cutover', 'run', '--runbook', 'rb.yaml', '--confirmed', 'monitoring-activ'], { cwd: dir });
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toMatch(/--confirmed names no manual step: monitoring-activ/);
  });

  it('a run killed during a wait resumes at that step; the journal shows both runs', async () => {
    const dir = project({
      'rb.yaml': `name: killable
phases:
  - id: p
    steps:
      - { id: before, kind: command, params: { run: "echo ran >> before.log", readOnly: true } }
      - { id: pause, kind: wait, params: { duration: "\${PAUSE}" } }
      - { id: after, kind: command, params: { run: "echo ran >> after.log", readOnly: true } }
`,
    });
    const env: Record<string, string> = { ...process.env as Record<string, string>, NO_COLOR: '1', PAUSE: '10m' };
    for (const k of Object.keys(env)) if (k.startsWith('OFFRAMP_')) delete env[k];
    const child = execa(process.execPath, [BIN, 'cutover', 'run', '--runbook', 'rb.yaml'], { cwd: dir, env, extendEnv: false, reject: false });
    await until('the wait to start', () => journalOf(dir).find((r) => r.type === 'step-started' && r.step === 'pause'));
    child.kill('SIGKILL');
    const killed = await child;
    expect(killed.signal).toBe('SIGKILL');
    // The CLI process behind the shim dies with it; its lock stays behind and must not block the resume.
    const lock = join(dir, '.offramp', 'runbook.lock');
    const holder = Number(readFileSync(lock, 'utf8').split('\n')[0]);
    await until('the killed run to be gone', () => {
      try {
        process.kill(holder, 0);
        return undefined;
      } catch {
        return true;
      }
    });
    expect(journalOf(dir).some((r) => r.type === 'run-finished')).toBe(false);

    const resumed = await runCli(['cutover', 'run', '--runbook', 'rb.yaml', '--json'], { cwd: dir, env: { PAUSE: '1s' } });
    expect(resumed.exitCode).toBe(0);
    expect(JSON.parse(resumed.stdout).result.steps.map((s: { status: string }) => s.status)).toEqual(['already-passed', 'passed', 'passed']);
    expect(readFileSync(join(dir, 'before.log'), 'utf8')).toBe('ran\n');
    expect(readFileSync(join(dir, 'after.log'), 'utf8')).toBe('ran\n');
    const records = journalOf(dir);
    expect(records.filter((r) => r.type === 'run-start').map((r) => r.run)).toEqual([1, 2]);
    expect(records.filter((r) => 'step' in r && r.step === 'pause').map((r) => `${r.run}:${r.type}`)).toEqual(['1:step-started', '2:step-started', '2:step-passed']);
    expect(records.find((r) => r.type === 'step-skipped' && r.step === 'before')).toMatchObject({ run: 2, reason: expect.stringMatching(/passed in run 1/) });
    expect(statSync(join(dir, '.offramp', 'cutover.journal.ndjson')).mode & 0o777).toBe(0o600);
    expect(existsSync(lock)).toBe(false);
  });

  it('rollback run needs --yes, undoes the passed steps newest first, runs the rollback runbook, and writes its report', async () => {
    const dir = project({
      'cutover.yaml': `name: reversible
phases:
  - id: p
    steps:
      - { id: first, kind: command, params: { run: "echo 1 > first.flag" }, undo: { kind: command, params: { run: "rm first.flag && echo first >> undo.log" } } }
      - { id: check, kind: command, params: { run: "test -f first.flag", readOnly: true } }
      - { id: second, kind: command, params: { run: "echo 2 > second.flag" }, undo: { kind: command, params: { run: "rm second.flag && echo second >> undo.log" } } }
`,
      'rollback.yaml': `name: back
phases:
  - id: after
    steps:
      - { id: clients-updated, kind: manual }
      - { id: gone, kind: command, params: { run: "test ! -e first.flag && test ! -e second.flag", readOnly: true } }
`,
    });
    expect((await runCli(['cutover', 'run', '--runbook', 'cutover.yaml', '--yes'], { cwd: dir })).exitCode).toBe(0);
    const refused = await runCli(['rollback', 'run', '--runbook', 'rollback.yaml'], { cwd: dir });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/this rollback changes things outside offramp \(undo:second \(command\), undo:first \(command\)\) and was not confirmed/);
    expect(existsSync(join(dir, 'first.flag'))).toBe(true);

    const stopped = await runCli(['rollback', 'run', '--runbook', 'rollback.yaml', '--yes'], { cwd: dir });
    expect(stopped.exitCode).toBe(4);
    expect(readFileSync(join(dir, 'undo.log'), 'utf8')).toBe('second\nfirst\n');
    const done = await runCli(['rollback', 'run', '--runbook', 'rollback.yaml', '--yes', '--confirmed', 'clients-updated', '--json'], { cwd: dir });
    expect(done.exitCode).toBe(0);
    const result = JSON.parse(done.stdout).result;
    expect(result.undone.map((u: { id: string; status: string }) => `${u.id}:${u.status}`)).toEqual(['undo:second:already-passed', 'undo:first:already-passed']);
    expect(result.steps.map((s: { id: string; status: string }) => `${s.id}:${s.status}`)).toEqual(['clients-updated:passed', 'gone:passed']);
    expect(readFileSync(join(dir, 'undo.log'), 'utf8')).toBe('second\nfirst\n');
    const report = readFileSync(join(dir, '.offramp', 'rollback-report.md'), 'utf8');
    expect(report).toMatch(/^# Rollback report/);
    expect(report).toMatch(/## Undone \(newest first\)/);
    expect(report).toMatch(/undo of second: \*\*done\*\*/);
  });

  it('a token used in an http header never appears in output, journal, plan or report', async () => {
    const dir = project({
      'rb.yaml': `name: secret
phases:
  - id: p
    steps:
      - id: health
        kind: http
        params: { url: "${api.base}/health", headers: { Authorization: "Bearer \${API_TOKEN}" }, ca: "${ca.caFile}" }
      - { id: echo, kind: command, params: { run: "echo token is $API_TOKEN; exit 1", readOnly: true } }
`,
    });
    const env = { API_TOKEN: TOKEN };
    const runs = [
      await runCli(['cutover', 'plan', '--runbook', 'rb.yaml'], { cwd: dir, env }),
      await runCli(['cutover', 'plan', '--runbook', 'rb.yaml', '--json'], { cwd: dir, env }),
      await runCli(['cutover', 'run', '--runbook', 'rb.yaml', '--output', 'ndjson'], { cwd: dir, env }),
      await runCli(['cutover', 'run', '--runbook', 'rb.yaml', '--json'], { cwd: dir, env }),
      await runCli(['cutover', 'status'], { cwd: dir, env }),
    ];
    expect(runs.map((r) => r.exitCode)).toEqual([0, 0, 4, 4, 0]);
    expect(api.seenAuth).toContain(`Bearer ${TOKEN}`);
    expect(runs[0]!.stderr).toMatch(/Authorization.*Bearer \*\*\*\*/);
    expect(runs[2]!.stdout).toMatch(/token is \*\*\*\*/);
    const files = ['cutover.journal.ndjson', 'cutover-report.md'].map((f) => readFileSync(join(dir, '.offramp', f), 'utf8'));
    for (const text of [...runs.flatMap((r) => [r.stdout, r.stderr]), ...files]) expect(text).not.toContain(TOKEN);
  });
});
