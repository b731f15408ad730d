/**
 * Dumps, journals and deferred-SQL files hold personal data and schema: directories 0700 and files
 * 0600 whatever the umask of the shell that ran offramp.
 */
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { emptySourceDatabase, emptyTargetDatabase, trackDatabases } from '../bed/databases.js';
import { sql } from './move-helpers.js';

const BIN = fileURLToPath(new URL('../../bin/offramp.js', import.meta.url));
const track = trackDatabases();

/** The built CLI started from a shell with the given umask. */
async function underUmask(umask: string, args: string[]): Promise<number> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', NO_COLOR: '1' };
  const r = await execa('sh', ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, BIN, ...args], { env, extendEnv: false, reject: false, timeout: 120_000 });
  return r.exitCode ?? -1;
}

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8).padStart(4, '0');

/** Every directory and file under dir, with its mode. */
function modesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = { '.': mode(dir) };
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = join(entry.parentPath, entry.name);
    out[full.slice(dir.length + 1)] = mode(full);
  }
  return out;
}

describe('file modes', () => {
  for (const umask of ['022', '000']) {
    it(`dump directory 0700 and its files 0600; work dir 0700, journal and deferred file 0600 (umask ${umask})`, async () => {
      const source = await track(emptySourceDatabase());
      // aux is left behind, so the view calling aux.tag() is deferred and the deferred file is written.
      await sql(source.url, `CREATE SCHEMA aux; CREATE FUNCTION aux.tag() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;
        CREATE TABLE public.notes (id int PRIMARY KEY, body text); INSERT INTO public.notes SELECT i, md5(i::text) FROM generate_series(1, 100) i;
        CREATE VIEW public.tagged AS SELECT id, aux.tag() AS tag FROM public.notes`);
      const parent = mkdtempSync(join(tmpdir(), 'offramp-modes-'));

      const out = join(parent, 'dump');
      expect(await underUmask(umask, ['dump', '--source', source.url, '--out', out])).toBe(0);
      const dumpModes = modesUnder(out);
      expect(Object.keys(dumpModes)).toEqual(expect.arrayContaining(['manifest.json', 'pre-data.sql', 'data']));
      for (const [path, m] of Object.entries(dumpModes)) {
        const isDir = statSync(join(out, path)).isDirectory();
        expect({ path, mode: m }).toEqual({ path, mode: isDir ? '0700' : '0600' });
      }

      const target = await track(emptyTargetDatabase());
      const workDir = join(parent, 'nested', '.offramp');
      expect(await underUmask(umask, ['copy', '--source', source.url, '--target', target.url, '--exclude-schema', 'aux', '--work-dir', workDir])).toBe(0);
      const workModes = modesUnder(workDir);
      expect(Object.keys(workModes).some((f) => f.endsWith('.journal.ndjson'))).toBe(true);
      expect(Object.keys(workModes).some((f) => f.startsWith('deferred-'))).toBe(true);
      expect(workModes).toEqual(Object.fromEntries(Object.keys(workModes).map((f) => [f, f === '.' ? '0700' : '0600'])));
      expect(mode(join(parent, 'nested'))).toBe('0700');
      // the deferred view really was deferred (the file is not empty ceremony)
      expect(await sql(target.url, `SELECT to_regclass('public.tagged') AS v`)).toEqual([{ v: null }]);
    }, 120_000);
  }
});
