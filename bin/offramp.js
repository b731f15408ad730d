#!/usr/bin/env node
// Shim for the compiled CLI (npm run build). It starts node once more with a 1 MB young
// generation: offramp streams gigabytes through short-lived buffers, and with V8's default
// (16 MB semi-spaces) freed buffers pile up to ~130 MB RSS; with 1 MB the client stays near 80 MB
// at no measured cost (README, Performance). The flag only works at start-up, hence the re-run.
// The child watches the IPC channel so that killing this process kills the copy too.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const configured = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('--max-semi-space-size'));
if (configured || process.env.OFFRAMP_NO_REEXEC) {
  import('../dist/cli.js').then((m) => m.main(process.argv));
} else {
  const child = spawn(process.execPath, ['--max-semi-space-size=1', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
