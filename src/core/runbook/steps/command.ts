/**
 * `command`: a shell command (systemctl, nginx -t, ...) with an expected exit code. Evidence is the
 * exit code and the tails of stdout and stderr (the journal redacts registered secrets).
 */
import { execa } from 'execa';
import type { StepParams } from '../schema.js';
import { fail, pass, type StepExecutor } from '../types.js';

function tail(text: string, lines = 20, chars = 2000): string {
  return text.split('\n').slice(-lines).join('\n').slice(-chars);
}

export const runCommand: StepExecutor = async (ctx) => {
  const p = ctx.params as StepParams<'command'>;
  const r = await execa(p.run, {
    shell: true, reject: false, cancelSignal: ctx.signal, cwd: p.cwd, env: { ...ctx.io.env, ...p.env }, extendEnv: false,
    stdin: 'ignore', all: false, forceKillAfterDelay: 2000,
  });
  if (r.isCanceled) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('cancelled');
  const exitCode = r.exitCode ?? -1;
  const evidence = { command: p.run, exitCode, ...(r.signal ? { signal: r.signal } : {}), stdoutTail: tail(String(r.stdout)), stderrTail: tail(String(r.stderr)) };
  return exitCode === p.expectExit
    ? pass(`exit ${exitCode}`, evidence)
    : fail(`exit ${exitCode}${r.signal ? ` (${r.signal})` : ''}, expected ${p.expectExit}${String(r.stderr).trim() ? `: ${tail(String(r.stderr), 1, 200)}` : ''}`, evidence);
};
