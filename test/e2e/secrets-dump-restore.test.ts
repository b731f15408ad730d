/**
 * "Passwords never appear in output, logs, reports, journals or files" for the commands that were
 * not covered (issue 7, tests section): `dump` and `restore` in every output mode (text, --json,
 * --output ndjson, -v), the deferred-objects file and journal they leave, and the pg_dump command
 * line seen in the process list while pg_dump runs (the password travels in PGPASSWORD).
 * Distinctive passwords of roles made here, with characters that URLs percent-encode.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withClient } from '../../src/db/connect.js';
import { emptyTargetDatabase, fixtureDatabase, type TestDatabase } from '../bed/databases.js';
import { tableStates } from '../integration/move-helpers.js';
import { runCli, type CliRun } from './run-cli.js';

const tag = randomBytes(4).toString('hex');
const SOURCE_ROLE = `hard_src_${tag}`;
const TARGET_ROLE = `hard_tgt_${tag}`;
const SOURCE_PW = `Src#Pw!${tag}-dump&x`;
const TARGET_PW = `Tgt#Pw!${tag}-restore&y`;
/** Every form a password could leak in: as is, percent-encoded (as in the URL), and the URL's own spelling. */
const FORMS = [SOURCE_PW, TARGET_PW, encodeURIComponent(SOURCE_PW), encodeURIComponent(TARGET_PW)];

let source: TestDatabase;
const made: TestDatabase[] = [];
let sourceUrl: string;

function asRole(url: string, role: string, password: string): string {
  const u = new URL(url);
  u.username = role;
  u.password = encodeURIComponent(password);
  return u.toString();
}

beforeAll(async () => {
  source = await fixtureDatabase();
  // Superusers (dump reads everything; restore creates roles and extensions) with the distinctive passwords.
  await withClient(inject('sourceAdminUrl'), { role: 'admin' }, (c) => c.query(`CREATE ROLE ${SOURCE_ROLE} LOGIN SUPERUSER PASSWORD '${SOURCE_PW}'`));
  await withClient(inject('targetAdminUrl'), { role: 'admin' }, (c) => c.query(`CREATE ROLE ${TARGET_ROLE} LOGIN SUPERUSER PASSWORD '${TARGET_PW}'`));
  sourceUrl = asRole(source.url, SOURCE_ROLE, SOURCE_PW);
  expect(sourceUrl).toContain(encodeURIComponent(SOURCE_PW));
});

afterAll(async () => {
  await Promise.all([source?.drop(), ...made.map((d) => d.drop())]);
  await withClient(inject('sourceAdminUrl'), { role: 'admin' }, (c) => c.query(`DROP ROLE IF EXISTS ${SOURCE_ROLE}`));
  // restore may have given the target role objects in databases already dropped; nothing else holds it.
  await withClient(inject('targetAdminUrl'), { role: 'admin' }, (c) => c.query(`DROP ROLE IF EXISTS ${TARGET_ROLE}`));
});

function expectNoPassword(where: string, text: string): void {
  for (const form of FORMS) expect(text.includes(form), `${where} holds a password`).toBe(false);
}

/** Every file under `dir`, read raw (data files too). */
function expectNoPasswordInFiles(dir: string): string[] {
  const files: string[] = [];
  const visit = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) visit(path);
      else files.push(path);
    }
  };
  visit(dir);
  for (const f of files) expectNoPassword(f, readFileSync(f).toString('latin1'));
  return files;
}

interface ProcSeen { cmdline: string; environ: string }

/** Command line and environment of every process now running whose executable name is `name`. */
function processesNamed(name: string): ProcSeen[] {
  const out: ProcSeen[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let cmdline = '';
    let environ = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`).toString('utf8').replaceAll('\0', ' ');
      if (!cmdline.split(' ')[0]!.endsWith(`/${name}`) && cmdline.split(' ')[0] !== name) continue;
      environ = readFileSync(`/proc/${pid}/environ`).toString('utf8');
    } catch {
      continue; // the process ended while being read
    }
    out.push({ cmdline, environ: environ.replaceAll('\0', '\n') });
  }
  return out;
}

/** Run the CLI and, while it runs, record the pg_dump processes started for `database`. */
async function runWatchingPgDump(args: string[], database: string): Promise<{ run: CliRun; pgDumps: ProcSeen[] }> {
  const seen = new Map<string, ProcSeen>();
  let finished = false;
  const running = runCli(args).finally(() => { finished = true; });
  while (!finished) {
    for (const p of processesNamed('pg_dump')) if (p.environ.includes(`PGDATABASE=${database}\n`)) seen.set(p.cmdline + p.environ, p);
    await new Promise((r) => setTimeout(r, 2));
  }
  return { run: await running, pgDumps: [...seen.values()] };
}

const MODES: Array<[string, string[]]> = [['text', []], ['--json', ['--json']], ['--output ndjson', ['--output', 'ndjson']], ['-v', ['-v']]];

describe('dump and restore never show a password', () => {
  const dumps: string[] = [];

  it.each(MODES)('dump (%s): outputs, every file of the dump, and the pg_dump command line hold no password', async (_mode, flags) => {
    const out = join(mkdtempSync(join(tmpdir(), 'offramp-secrets-')), 'dump');
    const { run, pgDumps } = await runWatchingPgDump(['dump', '--source', sourceUrl, '--out', out, '--jobs', '2', ...flags], source.name);
    expect(run.exitCode, run.stderr).toBe(0);
    expectNoPassword('stdout', run.stdout);
    expectNoPassword('stderr', run.stderr);
    expect(run.stdout + run.stderr).toContain('****');
    const files = expectNoPasswordInFiles(out);
    expect(files.some((f) => f.endsWith('manifest.json'))).toBe(true);
    // pg_dump was seen running (pre-data and post-data), with the password only in its environment.
    expect(pgDumps.length).toBeGreaterThan(0);
    for (const p of pgDumps) {
      expect(p.cmdline).toMatch(/pg_dump .*--section=(pre|post)-data/);
      expectNoPassword('pg_dump command line', p.cmdline);
      expect(p.environ).toContain(`PGPASSWORD=${SOURCE_PW}\n`);
      expect(p.environ).toContain(`PGUSER=${SOURCE_ROLE}\n`);
    }
    dumps.push(out);
  }, 120_000);

  it.each(MODES)('restore (%s): outputs, the deferred-objects file and the work directory hold no password; the data arrived', async (_mode, flags) => {
    expect(dumps.length).toBeGreaterThan(0);
    const target = await emptyTargetDatabase();
    made.push(target);
    const targetUrl = asRole(target.url, TARGET_ROLE, TARGET_PW);
    const workDir = mkdtempSync(join(tmpdir(), 'offramp-secrets-work-'));
    const run = await runCli(['restore', '--from', dumps[0]!, '--target', targetUrl, '--jobs', '2', '--work-dir', workDir, ...flags]);
    expect(run.exitCode, run.stderr).toBe(0);
    expectNoPassword('stdout', run.stdout);
    expectNoPassword('stderr', run.stderr);
    // The fixture's foreign keys to auth.users wait for the auth stage: a deferred file was written.
    const files = expectNoPasswordInFiles(workDir);
    expect(files.filter((f) => /deferred-.*\.sql$/.test(f))).toHaveLength(1);
    expect(readFileSync(files.find((f) => /deferred-.*\.sql$/.test(f))!, 'utf8')).toMatch(/REFERENCES "auth"\."users"/);
    expect(await tableStates(target.url, ['public'])).toEqual(await tableStates(source.url, ['public']));
  }, 120_000);

  it('a failing dump and a failing restore (-v --json) show no password either', async () => {
    expect(dumps.length).toBeGreaterThan(0);
    const again = await runCli(['dump', '--source', sourceUrl, '--out', dumps[0]!, '-v', '--json']);
    expect(again.exitCode).toBe(2);
    expect(JSON.parse(again.stdout).error.code).toBe('CONFIRMATION_REQUIRED');
    const badTarget = asRole(inject('targetAdminUrl'), TARGET_ROLE, `${TARGET_PW}-wrong`);
    const refused = await runCli(['restore', '--from', dumps[0]!, '--target', badTarget, '-v', '--json']);
    expect(refused.exitCode).toBe(1);
    expect(JSON.parse(refused.stdout).error.code).toBe('CONNECTION_FAILED');
    for (const r of [again, refused]) {
      expectNoPassword('stdout', r.stdout);
      expectNoPassword('stderr', r.stderr);
    }
    expect(existsSync(join(dumps[0]!, 'manifest.json'))).toBe(true);
  });
});

describe('copy never shows a password in the pg_dump command line or the deferred file', () => {
  it('copy -v: pg_dump seen without the password; journal and deferred file clean; the data arrived', async () => {
    const target = await emptyTargetDatabase();
    made.push(target);
    const workDir = mkdtempSync(join(tmpdir(), 'offramp-secrets-work-'));
    const { run, pgDumps } = await runWatchingPgDump(['copy', '--source', sourceUrl, '--target', asRole(target.url, TARGET_ROLE, TARGET_PW),
      '--work-dir', workDir, '-v', '--output', 'ndjson'], source.name);
    expect(run.exitCode, run.stderr).toBe(0);
    expectNoPassword('stdout', run.stdout);
    expectNoPassword('stderr', run.stderr);
    expect(pgDumps.length).toBeGreaterThan(0);
    for (const p of pgDumps) expectNoPassword('pg_dump command line', p.cmdline);
    const files = expectNoPasswordInFiles(workDir);
    expect(files.some((f) => /deferred-.*\.sql$/.test(f))).toBe(true);
    expect(await tableStates(target.url, ['public'])).toEqual(await tableStates(source.url, ['public']));
  }, 120_000);
});
