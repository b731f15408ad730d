/**
 * The engine's logic with an injected clock and, for the dns-* steps, an in-memory provider and
 * resolver (unit level only: the real-DNS proof is the BIND 9 integration test).
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cutoverRun } from '../../src/core/runbook/cutover.js';
import { RunbookJournal } from '../../src/core/runbook/journal.js';
import { rollbackRun } from '../../src/core/runbook/rollback.js';
import { acquireRunLock } from '../../src/core/runbook/lock.js';
import { spawnSync } from 'node:child_process';
import { mkdirSync, existsSync } from 'node:fs';
import type { RunEnvironment } from '../../src/core/runbook/session.js';
import type { Clock, DnsAccess } from '../../src/core/runbook/types.js';
import type { DnsProvider, DnsRecordSet, DnsRecordType } from '../../src/core/dns/types.js';
import { silentProgress } from '../../src/output/progress.js';

function fakeClock(start = Date.parse('2026-06-01T12:00:00Z')): Clock & { slept: number[] } {
  let t = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
      await Promise.resolve();
    },
  };
}

/** In-memory zone: what a provider holds, and what resolvers answer (switchable per poll). */
function memoryDns(initial: DnsRecordSet[]) {
  const zone = new Map(initial.map((r) => [`${r.name}/${r.type}`, structuredClone(r)]));
  const calls: string[] = [];
  const provider: DnsProvider = {
    kind: 'manual',
    get: async (name, type) => structuredClone(zone.get(`${name}/${type}`) ?? null),
    set: async (r) => {
      calls.push(`set ${r.name} ${r.values.join(',')} ${r.ttl}`);
      zone.set(`${r.name}/${r.type}`, structuredClone(r));
      return { changeId: `c${calls.length}` };
    },
    delete: async (name, type) => {
      calls.push(`delete ${name}`);
      zone.delete(`${name}/${type}`);
    },
  };
  let staleAnswers = 0;
  const access: DnsAccess = {
    provider: async () => provider,
    resolve: async (name: string, type: DnsRecordType) => {
      if (staleAnswers > 0) {
        staleAnswers--;
        return { values: ['192.0.2.1'], ttl: 3600, rcode: 'NOERROR' };
      }
      const r = zone.get(`${name}/${type}`);
      return { values: r?.values ?? [], ttl: r?.ttl ?? null, rcode: r ? 'NOERROR' : 'NXDOMAIN' };
    },
  };
  return { zone, calls, access, staleFor: (n: number) => void (staleAnswers = n) };
}

function project(runbook: string, rollback?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'offramp-rb-unit-'));
  writeFileSync(join(dir, 'cutover.yaml'), runbook);
  if (rollback) writeFileSync(join(dir, 'rollback.yaml'), rollback);
  return { dir, workDir: join(dir, '.offramp'), runbook: join(dir, 'cutover.yaml'), rollback: join(dir, 'rollback.yaml') };
}

const env = (clock: Clock, dns: DnsAccess, extra: NodeJS.ProcessEnv = {}): RunEnvironment => ({
  io: { env: { PATH: process.env.PATH, ...extra }, operator: 'alice', confirm: async () => false },
  clock, dns,
});

const DNS_RUNBOOK = `name: dns
phases:
  - id: p
    steps:
      - id: lower
        kind: dns-update
        params: { provider: { type: manual }, name: api.example.test, ttl: 300 }
        undo: auto
      - id: old-ttl
        kind: wait
        params: { ttlOf: lower }
      - id: switch
        kind: dns-update
        params: { provider: { type: manual }, name: api.example.test, ttl: 300, values: [203.0.113.10] }
        undo: auto
      - id: new-name
        kind: dns-update
        params: { provider: { type: manual }, name: www.example.test, ttl: 60, values: [203.0.113.10] }
        undo: auto
      - id: propagated
        kind: dns-propagation
        params: { name: api.example.test, values: [203.0.113.10], resolvers: [ns1, ns2], interval: 15s, within: 5m }
`;

describe('runbook engine', () => {
  it('dns-update journals the previous record set; rollback restores it exactly and deletes what it created', async () => {
    const p = project(DNS_RUNBOOK, `name: back
phases:
  - id: verify
    steps:
      - id: old-answer
        kind: dns-check
        params: { name: api.example.test, resolvers: [ns1], expect: { values: [198.51.100.21, 198.51.100.20], maxTtl: 3600 } }
`);
    const clock = fakeClock();
    const dns = memoryDns([{ name: 'api.example.test', type: 'A', ttl: 3600, values: ['198.51.100.20', '198.51.100.21'] }]);
    dns.staleFor(4); // two polls of two resolvers still see the old answer
    const run = await cutoverRun({ runbook: p.runbook, workDir: p.workDir, dryRun: false, rerun: false, yes: true, confirmed: [], interactive: false }, silentProgress, env(clock, dns.access));
    expect(run.reason).toBeUndefined();
    expect(run.ok).toBe(true);
    expect(dns.zone.get('api.example.test/A')).toEqual({ name: 'api.example.test', type: 'A', ttl: 300, values: ['203.0.113.10'] });
    expect(dns.zone.has('www.example.test/A')).toBe(true);

    // The wait waited out exactly the old TTL; propagation polled three times, 15 s apart.
    const wait = run.steps.find((s) => s.id === 'old-ttl')!;
    expect(wait.evidence).toMatchObject({ waitedMs: 3_600_000 });
    const propagated = run.steps.find((s) => s.id === 'propagated')!;
    expect(propagated.evidence).toMatchObject({ polls: 3, elapsedMs: 30_000 });

    const passed = RunbookJournal.read(join(p.workDir, 'cutover.journal.ndjson')).filter((r) => r.type === 'step-passed');
    expect(passed.find((r) => r.step === 'lower')!.evidence.previous).toEqual({ name: 'api.example.test', type: 'A', ttl: 3600, values: ['198.51.100.20', '198.51.100.21'] });
    expect(passed.find((r) => r.step === 'new-name')!.evidence.previous).toBeNull();

    const back = await rollbackRun({ workDir: p.workDir, yes: true, confirmed: [], dryRun: false, interactive: false, runbook: p.rollback }, silentProgress, env(clock, dns.access));
    expect(back.reason).toBeUndefined();
    expect(back.ok).toBe(true);
    expect(back.steps.map((s) => [s.id, s.status])).toEqual([['old-answer', 'passed']]);
    expect(back.undone!.map((u) => u.id)).toEqual(['undo:new-name', 'undo:switch', 'undo:lower']);
    expect(dns.zone.get('api.example.test/A')).toEqual({ name: 'api.example.test', type: 'A', ttl: 3600, values: ['198.51.100.20', '198.51.100.21'] });
    expect(dns.zone.has('www.example.test/A')).toBe(false);
    expect(dns.calls.slice(-3)).toEqual(['delete www.example.test', 'set api.example.test 198.51.100.20,198.51.100.21 300', 'set api.example.test 198.51.100.20,198.51.100.21 3600']);

    // A second rollback has nothing left to undo; a new cutover runs every step again.
    const again = await rollbackRun({ workDir: p.workDir, yes: true, confirmed: [], dryRun: false, interactive: false, runbook: p.rollback }, silentProgress, env(clock, dns.access));
    expect(again.undone).toEqual([]);
    expect(dns.calls).toHaveLength(6);
  });

  it('dns-propagation fails when a resolver keeps the old answer past `within`', async () => {
    const p = project(DNS_RUNBOOK);
    const dns = memoryDns([{ name: 'api.example.test', type: 'A', ttl: 60, values: ['198.51.100.20'] }]);
    dns.staleFor(1000);
    const run = await cutoverRun({ runbook: p.runbook, workDir: p.workDir, dryRun: false, rerun: false, yes: true, confirmed: [], interactive: false }, silentProgress, env(fakeClock(), dns.access));
    expect(run.ok).toBe(false);
    expect(run.stoppedAt).toBe('propagated');
    expect(run.steps.at(-1)!.evidence).toMatchObject({ polls: 21, elapsedMs: 300_000 });
    expect(run.reason).toMatch(/not propagated within 300 s: ns1 → 192\.0\.2\.1/);
  });

  it('a refused run changes nothing: dns-update without --yes in non-interactive mode is exit 2 before the journal exists', async () => {
    const p = project(DNS_RUNBOOK);
    const dns = memoryDns([{ name: 'api.example.test', type: 'A', ttl: 60, values: ['198.51.100.20'] }]);
    await expect(cutoverRun({ runbook: p.runbook, workDir: p.workDir, dryRun: false, rerun: false, yes: false, confirmed: [], interactive: false }, silentProgress, env(fakeClock(), dns.access)))
      .rejects.toMatchObject({ exitCode: 2, code: 'CONFIRMATION_REQUIRED' });
    expect(dns.calls).toEqual([]);
    expect(RunbookJournal.read(join(p.workDir, 'cutover.journal.ndjson'))).toEqual([]);
  });

  const CHECKLIST = `name: checklist
secrets: [DEPLOY_CODE]
phases:
  - id: pre
    steps:
      - id: monitoring-active
        title: Monitoring active
        kind: manual
      - id: flaky
        kind: command
        params: { run: 'test -f "\${FLAG}" || { echo "code \${DEPLOY_CODE} not yet"; exit 3; }', readOnly: true }
        retries: 2
        retryDelay: 30s
      - id: after
        kind: command
        requires: [flaky]
        params: { run: "echo done", readOnly: true }
`;

  it('manual steps: refused without a person (stops, exit-4 result), passed with --confirmed and journaled with who confirmed', async () => {
    const p = project(CHECKLIST);
    const flag = join(p.dir, 'flag');
    writeFileSync(flag, '');
    const e = env(fakeClock(), memoryDns([]).access, { FLAG: flag, DEPLOY_CODE: 'sesame-4711' });
    const refused = await cutoverRun({ runbook: p.runbook, workDir: p.workDir, dryRun: false, rerun: false, yes: false, confirmed: [], interactive: false }, silentProgress, e);
    expect(refused.ok).toBe(false);
    expect(refused.stoppedAt).toBe('monitoring-active');
    expect(refused.reason).toMatch(/--confirmed monitoring-active/);
    expect(refused.steps.map((s) => s.status)).toEqual(['failed', 'not-run', 'not-run']);
    expect(refused.steps[0]!.attempts).toBe(1);

    const confirmed = await cutoverRun({ runbook: p.runbook, workDir: p.workDir, dryRun: false, rerun: false, yes: false, confirmed: ['monitoring-active'], interactive: false }, silentProgress, e);
    expect(confirmed.ok).toBe(true);
    const records = RunbookJournal.read(join(p.workDir, 'cutover.journal.ndjson'));
    expect(records.filter((r) => r.type === 'run-start').map((r) => r.run)).toEqual([1, 2]);
    expect(records).toContainEqual(expect.objectContaining({ type: 'confirmed', step: 'monitoring-active', by: 'alice', via: '--confirmed', run: 2 }));
    const report = readFileSync(confirmed.report, 'utf8');
    expect(report).toMatch(/\| monitoring-active \| alice \| --confirmed \|/);
  });

  it('retries on the injected clock, then stops; a step whose requirement failed does not run; secrets stay out of the journal', async () => {
    const p = project(CHECKLIST);
    const clock = fakeClock();
    const e = env(clock, memoryDns([]).access, { FLAG: join(p.dir, 'never'), DEPLOY_CODE: 'sesame-4711' });
    const run = await cutoverRun({ runbook: p.runbook, workDir: p.workDir, dryRun: false, rerun: false, yes: false, confirmed: ['monitoring-active'], interactive: false }, silentProgress, e);
    expect(run.ok).toBe(false);
    expect(run.stoppedAt).toBe('flaky');
    expect(run.steps[1]).toMatchObject({ status: 'failed', attempts: 3 });
    expect(clock.slept).toEqual([30_000, 30_000]);
    expect(run.steps[2]!.status).toBe('not-run');
    const text = readFileSync(join(p.workDir, 'cutover.journal.ndjson'), 'utf8');
    expect(text).toMatch(/code \*\*\*\* not yet/);
    expect(text).not.toMatch(/sesame-4711/);
    expect(readFileSync(run.report, 'utf8')).not.toMatch(/sesame-4711/);
    expect(statSync(join(p.workDir, 'cutover.journal.ndjson')).mode & 0o777).toBe(0o600);
    expect(statSync(p.workDir).mode & 0o777).toBe(0o700);
  });

  it('resume: passed steps are not run again, unless --rerun; --from skips the steps before it', async () => {
    const p = project(`name: counter
phases:
  - id: p
    steps:
      - { id: one, kind: command, params: { run: 'echo x >> "\${LOG}"', readOnly: true } }
      - { id: two, kind: command, params: { run: 'test -f "\${GATE}" && echo y >> "\${LOG}"', readOnly: true } }
      - { id: three, kind: command, params: { run: 'echo z >> "\${LOG}"', readOnly: true } }
`);
    const log = join(p.dir, 'log');
    const gate = join(p.dir, 'gate');
    const e = env(fakeClock(), memoryDns([]).access, { LOG: log, GATE: gate });
    const opts = { runbook: p.runbook, workDir: p.workDir, dryRun: false, rerun: false, yes: false, confirmed: [], interactive: false };
    expect((await cutoverRun(opts, silentProgress, e)).stoppedAt).toBe('two');
    writeFileSync(gate, '');
    const second = await cutoverRun(opts, silentProgress, e);
    expect(second.steps.map((s) => s.status)).toEqual(['already-passed', 'passed', 'passed']);
    expect(readFileSync(log, 'utf8')).toBe('x\ny\nz\n');
    const third = await cutoverRun({ ...opts, from: 'three', rerun: true }, silentProgress, e);
    expect(third.steps.map((s) => s.status)).toEqual(['skipped', 'skipped', 'passed']);
    expect(readFileSync(log, 'utf8')).toBe('x\ny\nz\nz\n');
    await expect(cutoverRun({ ...opts, from: 'four' }, silentProgress, e)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/--from four names no step/) });
  });

  it('wait until: re-checks the condition step on the clock until it passes, then the step itself runs', async () => {
    const p = project(`name: until
phases:
  - id: p
    steps:
      - { id: settle, kind: wait, params: { until: visible, interval: 10s, within: 2m } }
      - { id: visible, kind: dns-check, params: { name: api.example.test, resolvers: [ns1], expect: { values: [198.51.100.20] } } }
`);
    const clock = fakeClock();
    const dns = memoryDns([{ name: 'api.example.test', type: 'A', ttl: 60, values: ['198.51.100.20'] }]);
    dns.staleFor(3);
    const run = await cutoverRun({ runbook: p.runbook, workDir: p.workDir, dryRun: false, rerun: false, yes: false, confirmed: [], interactive: false }, silentProgress, env(clock, dns.access));
    expect(run.reason).toBeUndefined();
    expect(run.steps[0]!.evidence).toMatchObject({ until: 'visible', attempts: 4, waitedMs: 30_000 });
    expect(clock.slept).toEqual([10_000, 10_000, 10_000]);
    expect(run.steps[1]!.status).toBe('passed');
  });

  it('one run at a time per work directory; a lock left by a dead process is taken over', () => {
    const dir = mkdtempSync(join(tmpdir(), 'offramp-lock-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'runbook.lock'), `${process.ppid}\ncutover run\n`);
    expect(() => acquireRunLock(dir, 'rollback run')).toThrow(new RegExp(`another cutover run is in progress .*\\(pid ${process.ppid}\\)`));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(join(dir, 'runbook.lock'), `${dead}\ncutover run\n`);
    const lock = acquireRunLock(dir, 'rollback run');
    expect(readFileSync(join(dir, 'runbook.lock'), 'utf8')).toBe(`${process.pid}\nrollback run\n`);
    lock.release();
    expect(existsSync(join(dir, 'runbook.lock'))).toBe(false);
  });

  it('dns-update interrupted after the provider changed the record: the resumed run and the undo still know the original set', async () => {
    const p = project(`name: crash
phases:
  - id: p
    steps:
      - { id: switch, kind: dns-update, params: { provider: { type: manual }, name: api.example.test, ttl: 300, values: [203.0.113.10] }, undo: auto }
`, 'name: back\nphases:\n  - id: p\n    steps:\n      - { id: noop, kind: command, params: { run: "true", readOnly: true } }\n');
    const dns = memoryDns([{ name: 'api.example.test', type: 'A', ttl: 3600, values: ['198.51.100.20'] }]);
    const flaky: DnsAccess = {
      ...dns.access,
      provider: async () => {
        const real = await dns.access.provider({ type: 'manual' });
        // The change is applied, then the connection drops before the answer arrives.
        return { ...real, kind: 'manual', set: async (r) => { await real.set(r); throw new Error('connection reset'); } };
      },
    };
    const opts = { runbook: p.runbook, workDir: p.workDir, dryRun: false, rerun: false, yes: true, confirmed: [], interactive: false };
    const first = await cutoverRun(opts, silentProgress, env(fakeClock(), flaky));
    expect(first.reason).toBe('connection reset');
    expect(dns.zone.get('api.example.test/A')!.values).toEqual(['203.0.113.10']);

    const second = await cutoverRun(opts, silentProgress, env(fakeClock(), dns.access));
    expect(second.ok).toBe(true);
    expect(second.steps[0]!.evidence!.previous).toEqual({ name: 'api.example.test', type: 'A', ttl: 3600, values: ['198.51.100.20'] });

    const back = await rollbackRun({ runbook: p.rollback, workDir: p.workDir, yes: true, confirmed: [], dryRun: false, interactive: false }, silentProgress, env(fakeClock(), dns.access));
    expect(back.ok).toBe(true);
    expect(dns.zone.get('api.example.test/A')).toEqual({ name: 'api.example.test', type: 'A', ttl: 3600, values: ['198.51.100.20'] });
  });

  it('dry runs change nothing and go on past a failed check; rollback --dry-run only describes its undos', async () => {
    const p = project(DNS_RUNBOOK.replace('      - id: propagated', `      - { id: wrong, kind: dns-check, params: { name: api.example.test, expect: { values: [192.0.2.99] } } }
      - id: propagated`), 'name: back\nphases:\n  - id: p\n    steps:\n      - { id: restart, kind: command, params: { run: "exit 1" } }\n');
    const dns = memoryDns([{ name: 'api.example.test', type: 'A', ttl: 3600, values: ['198.51.100.20'] }]);
    const opts = { runbook: p.runbook, workDir: p.workDir, dryRun: true, rerun: false, yes: false, confirmed: [], interactive: false };
    const rehearsal = await cutoverRun(opts, silentProgress, env(fakeClock(), dns.access));
    expect(rehearsal.steps.map((s) => s.status)).toEqual(['dry-run', 'dry-run', 'dry-run', 'dry-run', 'failed', 'failed']);
    expect(rehearsal).toMatchObject({ ok: false, stoppedAt: 'wrong', journal: null, run: 0 });
    expect(rehearsal.steps[0]!.detail).toBe('would set api.example.test A to its current values TTL 300');
    expect(dns.calls).toEqual([]);
    expect(existsSync(join(p.workDir, 'cutover.journal.ndjson'))).toBe(false);
    expect(readFileSync(join(p.workDir, 'cutover-dry-run-report.md'), 'utf8')).toMatch(/^# Cutover rehearsal \(dry run\)/);

    await cutoverRun({ ...opts, dryRun: false, yes: true, runbook: p.runbook }, silentProgress, env(fakeClock(), dns.access));
    const callsAfterRun = dns.calls.length;
    const back = await rollbackRun({ runbook: p.rollback, workDir: p.workDir, yes: false, confirmed: [], dryRun: true, interactive: false }, silentProgress, env(fakeClock(), dns.access));
    expect(back.undone!.map((u) => `${u.id}:${u.status}`)).toEqual(['undo:new-name:dry-run', 'undo:switch:dry-run', 'undo:lower:dry-run']);
    expect(back.steps.map((s) => `${s.id}:${s.status}`)).toEqual(['restart:dry-run']);
    expect(dns.calls).toHaveLength(callsAfterRun);
    expect(existsSync(join(p.workDir, 'rollback.journal.ndjson'))).toBe(false);
  });
});
