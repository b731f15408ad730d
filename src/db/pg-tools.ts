/**
 * Finding the PostgreSQL client programs (pg_dump, pg_restore) on this machine: every directory
 * of PATH, Debian's /usr/lib/postgresql/<major>/bin, /usr/local/pgsql/bin and OFFRAMP_PG_BIN; the
 * newest version of each wins. dump/restore/copy use the same lookup, so doctor judges the very
 * binary that will run later.
 */
import { accessSync, constants, existsSync, readdirSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { runTool } from './run-tool.js';

export const CLIENT_TOOL_NAMES = ['pg_dump', 'pg_restore'] as const;
export type ClientToolName = (typeof CLIENT_TOOL_NAMES)[number];

export interface ClientTool {
  name: string;
  path: string;
  /** "15.18" */
  version: string;
  major: number;
  minor: number;
}

export interface ClientTools {
  /** The newest usable binary of each tool, if any was found. */
  best: Partial<Record<ClientToolName, ClientTool>>;
  /** Every binary found, newest first. */
  found: Record<ClientToolName, ClientTool[]>;
  /** Directories that were searched, in order. */
  searched: string[];
}

/** Parse `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` and the 9.6-era `9.6.24` forms. */
export function parseToolVersion(output: string): { version: string; major: number; minor: number } | undefined {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(output);
  if (!m) return undefined;
  const first = Number(m[1]);
  // Before 10 the major version had two parts (9.6); keep the first one, it is all we compare.
  const minor = Number(first < 10 ? (m[3] ?? 0) : (m[2] ?? 0));
  return { version: m[0].replace(/^\(PostgreSQL\)\s+/, ''), major: first, minor };
}

/** Newest first; on a tie a versioned directory beats a wrapper such as Debian's pg_wrapper. */
export function compareTools(a: ClientTool, b: ClientTool): number {
  if (a.major !== b.major) return b.major - a.major;
  if (a.minor !== b.minor) return b.minor - a.minor;
  const aVersioned = /\/postgresql\/\d+\/bin\//.test(a.path) ? 0 : 1;
  const bVersioned = /\/postgresql\/\d+\/bin\//.test(b.path) ? 0 : 1;
  return aVersioned - bVersioned;
}

export function searchDirectories(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  if (env.OFFRAMP_PG_BIN) dirs.push(env.OFFRAMP_PG_BIN);
  for (const d of (env.PATH ?? '').split(delimiter)) if (d) dirs.push(d);
  if (existsSync('/usr/lib/postgresql')) {
    for (const v of readdirSync('/usr/lib/postgresql').filter((d) => /^\d+$/.test(d))) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  }
  dirs.push('/usr/local/pgsql/bin');
  return [...new Set(dirs)];
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function probe(name: string, path: string): Promise<ClientTool | undefined> {
  const run = await runTool(path, ['--version'], { timeoutMs: 5000, env: { ...process.env, LC_ALL: 'C' } });
  if (run.exitCode !== 0) return undefined;
  const parsed = parseToolVersion(String(run.stdout));
  return parsed ? { name, path, ...parsed } : undefined;
}

/** Look up every pg_dump / pg_restore on this machine and pick the newest of each. */
export async function findClientTools(dirs: string[] = searchDirectories()): Promise<ClientTools> {
  const found = { pg_dump: [], pg_restore: [] } as Record<ClientToolName, ClientTool[]>;
  const best: ClientTools['best'] = {};
  for (const name of CLIENT_TOOL_NAMES) {
    const seen = new Set<string>();
    const candidates: string[] = [];
    for (const dir of dirs) {
      const path = join(dir, name);
      if (!existsSync(path) || !isExecutable(path)) continue;
      // The same file reached twice (/bin → /usr/bin on merged-/usr systems) is probed once.
      let key = path;
      try {
        key = realpathSync(path);
      } catch {
        // keep the path itself
      }
      if (seen.has(key)) continue;
      seen.add(key);
      candidates.push(path);
    }
    const probed = (await Promise.all(candidates.map((p) => probe(name, p)))).filter((t): t is ClientTool => Boolean(t));
    probed.sort(compareTools);
    found[name] = probed;
    if (probed[0]) best[name] = probed[0];
  }
  return { best, found, searched: dirs };
}
