import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * A report file named by a flag (--markdown, --junit) must be writable before the work starts:
 * found only after a long run, a mistyped directory would end as an unexplained ENOENT (exit 1)
 * with the result lost. A bad path is the user's input, so it is a usage error (exit 2).
 */
export function checkOutputFile(flag: string, path: unknown): void {
  if (typeof path !== 'string') return;
  const full = resolve(path);
  if (existsSync(full) && statSync(full).isDirectory()) {
    throw new UsageError(`${flag} ${path} is a directory`, { hint: `give ${flag} a file name, e.g. ${flag} ${path.replace(/\/+$/, '')}/report` });
  }
  const dir = dirname(full);
  if (!existsSync(dir)) {
    throw new UsageError(`${flag} ${path}: the directory ${dir} does not exist`, { hint: 'create the directory first, or choose another path' });
  }
  try {
    accessSync(existsSync(full) ? full : dir, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${path} cannot be written (permission denied)`, { hint: 'choose a path this user may write' });
  }
}
