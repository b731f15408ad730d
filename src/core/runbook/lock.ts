/**
 * One run at a time per work directory: two operators starting the same cutover (or a rollback
 * while the cutover still runs) would interleave DNS changes. The lock file holds the pid; a lock
 * left by a killed run (its pid no longer alive) is taken over, so a kill -9 never blocks a resume.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RunLock { release(): void }

export function acquireRunLock(workDir: string, what: string): RunLock {
  const file = join(workDir, 'runbook.lock');
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n${what}\n`);
      closeSync(fd);
      return { release: () => rmSync(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const [pidText, holder] = readFileSync(file, 'utf8').split('\n');
      const pid = Number(pidText);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new UsageError(`another ${holder || 'run'} is in progress in ${workDir} (pid ${pid})`, {
          hint: `wait for it to finish; if that process is gone for good, remove ${file}`,
        });
      }
      rmSync(file, { force: true });
    }
  }
  throw new UsageError(`cannot take the run lock ${file}`);
}
