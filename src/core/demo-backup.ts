/**
 * `offramp demo --from-backup`: the demo's source as the dashboard backs it up — `pg_dumpall` of
 * the whole cluster, run as the bootstrap superuser, gzip-compressed (db_cluster-….backup) — made
 * with the real tool and streamed to disk, so restore-from-file is rehearsed on a real file.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { findSystemInstallation, type LocalCluster } from '../db/local-cluster.js';
import { trackChild } from '../db/sessions.js';
import { ExternalToolError } from '../errors.js';
import { redact } from '../secrets.js';

export interface DashboardBackup {
  file: string;
  bytes: number;
}

/** The name the dashboard gives its daily backups. */
function dashboardName(at: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `db_cluster-${p(at.getUTCDate())}-${p(at.getUTCMonth() + 1)}-${at.getUTCFullYear()}@${p(at.getUTCHours())}-${p(at.getUTCMinutes())}-${p(at.getUTCSeconds())}.backup`;
}

export async function makeDashboardBackup(cluster: LocalCluster, dir: string): Promise<DashboardBackup> {
  const file = join(dir, dashboardName(new Date()));
  const child = spawn(join(findSystemInstallation().bin, 'pg_dumpall'),
    ['-h', '127.0.0.1', '-p', String(cluster.port), '-U', cluster.superuser, '--quote-all-identifiers'],
    { env: { ...process.env, PGPASSWORD: cluster.password }, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += String(d); });
  const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? 1)));
  await pipeline(child.stdout, createGzip(), createWriteStream(file, { mode: 0o600 }));
  const code = await exited;
  if (code !== 0) throw new ExternalToolError(`pg_dumpall failed (exit ${code}): ${redact(stderr.trim().slice(-1000))}`, { hint: 'rerun the demo with --verbose' });
  return { file, bytes: statSync(file).size };
}
