/**
 * Killing `offramp copy` at a chosen point, deterministically: the copy runs with the test-only
 * fault pause (src/core/move/fault-points.ts), the test waits for its marker file (so the copy is
 * known to be inside the phase), sends the signal, then waits until the process and its target
 * sessions are really gone before anything resumes.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { sql } from './move-helpers.js';

const BIN = fileURLToPath(new URL('../../bin/offramp.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The environment runCli gives the CLI (no OFFRAMP_* of the caller), plus extra variables. */
export function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: '1' };
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('OFFRAMP_')) env[k] = v;
  return { ...env, ...extra };
}

/** Poll `check` every 50 ms for at most `seconds`; throws `what` when it never holds. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, seconds = 60): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`waited ${seconds} s for ${what}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface Killed {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  /** Seconds from start until the copy reached the fault point. */
  secondsToFault: number;
}

/**
 * Run the CLI with OFFRAMP_FAULT_PAUSE=<pause>, wait (≤ 60 s) until it is paused there, send
 * `signal`, and wait (≤ 60 s each) until the copying process and its sessions on the target are gone.
 */
export async function killAtFault(args: string[], pause: string, signal: 'SIGKILL' | 'SIGTERM', marker: string, targetUrl: string): Promise<Killed> {
  rmSync(marker, { force: true });
  const started = Date.now();
  const child = execa(process.execPath, [BIN, ...args], {
    env: cliEnv({ OFFRAMP_FAULT_PAUSE: pause, OFFRAMP_FAULT_MARKER: marker }), extendEnv: false, reject: false, timeout: 300_000,
  });
  let ended = false;
  void child.then(() => {
    ended = true;
  });
  try {
    await waitFor(`the copy to pause at ${pause}`, () => existsSync(marker) || ended);
  } catch (error) {
    // Never leave a paused copy behind (it would wait forever).
    child.kill('SIGKILL');
    await child;
    throw error;
  }
  if (!existsSync(marker)) {
    const r = await child;
    throw new Error(`the copy ended (exit ${r.exitCode}) before reaching the fault point ${pause}:\n${String(r.stderr).slice(-2000)}`);
  }
  const secondsToFault = (Date.now() - started) / 1000;
  // The bin shim re-runs node: the marker names the process that does the work.
  const pid = Number(readFileSync(marker, 'utf8').trim().split(' ')[1]);
  child.kill(signal);
  const r = await child;
  await waitFor(`process ${pid} to end after ${signal}`, () => !alive(pid));
  await waitFor('the killed copy\'s target sessions to end', async () =>
    (await sql(targetUrl, `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE 'offramp%'`)).length === 0);
  return { exitCode: r.exitCode, signal: r.signal ?? undefined, stdout: String(r.stdout), stderr: String(r.stderr), secondsToFault };
}

/** The tables a journal records as finished. */
export function tablesDoneIn(journalText: string): string[] {
  return journalText.split('\n').filter((l) => l.includes('"table-done"')).map((l) => JSON.parse(l).table as string).sort();
}

/**
 * The transaction ids that wrote a table's rows on the target (the table as the journal names it,
 * schema.name unquoted): unchanged exactly when the table was not loaded again.
 */
export async function writers(url: string, table: string): Promise<string> {
  const dot = table.indexOf('.');
  const quoted = [table.slice(0, dot), table.slice(dot + 1)].map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
  const [row] = await sql<{ x: string | null }>(url, `SELECT string_agg(DISTINCT xmin::text, ',' ORDER BY xmin::text) AS x FROM ONLY ${quoted}`);
  return row?.x ?? '';
}
