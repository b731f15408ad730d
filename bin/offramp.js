#!/usr/bin/env node
// Shim for the compiled CLI (npm run build). It starts node once more with a 1 MB young
// generation: offramp streams gigabytes through short-lived buffers, and with V8's default
// (16 MB semi-spaces) freed buffers pile up to ~130 MB RSS; with 1 MB the client stays near 80 MB
// at no measured cost (README, Performance). The flag only works at start-up, hence the re-run.
// The child watches the IPC channel so that killing this process kills the copy too. Signals go
// to the child, which reports the interrupt; this process then exits with the child's status.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const configured = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('--max-semi-space-size'));
if (configured || process.env.OFFRAMP_NO_REEXEC) {
  import('../dist/cli.js').then((m) => m.main(process.argv));
} else {
  const child = spawn(process.execPath, ['--max-semi-space-size=1', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  // Signals are passed on; the child stops its work and exits 130/143 itself (src/cli.ts).
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const forward = (signal) => child.kill(signal);
  for (const signal of signals) process.on(signal, forward);
  child.on('exit', (code, signal) => {
    // A child ended by a signal (kill -9) ends this process the same way: the handlers must be
    // gone first, or this process would catch its own signal and exit 0.
    for (const s of signals) process.removeListener(s, forward);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
