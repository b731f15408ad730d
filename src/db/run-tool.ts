/**
 * Running PostgreSQL's client programs (pg_dump, --version probes) on the CLI's hot path.
 * node:child_process rather than execa here: execa costs ~70 ms to import on every offramp run,
 * and these calls need nothing beyond "run, collect output, exit code". (execa stays where it
 * earns its keep: the throwaway servers of demo and the test bed.)
 */
import { execFile } from 'node:child_process';
import { trackChild } from './sessions.js';

export interface ToolRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function runTool(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; maxBuffer?: number } = {}): Promise<ToolRun> {
  return new Promise((resolve) => {
    // Tracked so that an interrupt stops pg_dump too (sessions.ts), not only offramp's own sessions.
    const child = execFile(file, args, {
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 0,
      maxBuffer: options.maxBuffer ?? 64 * 1024 * 1024,
      encoding: 'utf8',
    }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ exitCode: code, stdout: String(stdout), stderr: String(stderr) || (error && code !== 0 && !stderr ? error.message : '') });
    });
    trackChild(child);
  });
}
