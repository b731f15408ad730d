/**
 * Dumps, journals and deferred-SQL files hold personal data and schema: directories are created
 * 0700 and files 0600. The mode is passed at creation (so the file is never readable by others,
 * not even for a moment) and set again afterwards, because the umask can only take bits away and
 * an odd one (e.g. 0277) would otherwise leave the owner without write access.
 */
import { chmodSync, createWriteStream, fchmodSync, mkdirSync, openSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * mkdir -p with mode 0700 for every directory it creates. A directory that already exists is left
 * as it is (it may be the user's own, e.g. --work-dir .).
 */
export function makePrivateDir(path: string): void {
  const leaf = resolve(path);
  const first = mkdirSync(leaf, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  for (let dir = leaf; ; dir = dirname(dir)) {
    chmodSync(dir, PRIVATE_DIR_MODE);
    if (dir === resolve(first) || dirname(dir) === dir) break;
  }
}

export function writePrivateFile(path: string, data: string | Uint8Array): void {
  writeFileSync(path, data, { mode: PRIVATE_FILE_MODE });
  chmodSync(path, PRIVATE_FILE_MODE);
}

/** Open for appending, creating the file 0600. */
export function openPrivateAppend(path: string): number {
  const fd = openSync(path, 'a', PRIVATE_FILE_MODE);
  fchmodSync(fd, PRIVATE_FILE_MODE);
  return fd;
}

/** A write stream to a new file created 0600 (the mode is set again once it is open). */
export function privateWriteStream(path: string): WriteStream {
  const stream = createWriteStream(path, { mode: PRIVATE_FILE_MODE });
  stream.once('open', (fd: number) => fchmodSync(fd, PRIVATE_FILE_MODE));
  return stream;
}
