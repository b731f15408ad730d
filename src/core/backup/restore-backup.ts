/**
 * `offramp restore --from …` for every kind of backup: an offramp dump directory is restored as
 * it always was; any other backup (dashboard, supabase db dump trio, plain pg_dump) is loaded into
 * a scratch server shaped as the platform, and then the normal copy runs from that server into the
 * target: the same snapshot rules, Supabase awareness, deferred objects, journal and report.
 *
 * The result says what the file held and what was left behind, and why: statements the scratch
 * server could not take (load.deferred), schemas the copy leaves to later stages (platform
 * schemas), and objects the copy deferred until the auth/RLS stages provide what they need.
 * Journal and deferred file are named after the target database, never after the scratch server.
 */
import { basename } from 'node:path';
import type { Progress } from '../../output/progress.js';
import { copyDatabase, copyOptions, type CopyResult } from '../move/copy.js';
import { restoreDatabase, type RestoreOptions, type RestoreResult } from '../move/restore.js';
import { detectBackup, type BackupKind, type DetectedBackup } from './detect.js';
import type { LoadReport } from './load.js';
import { withScratchSource } from './scratch.js';

export interface RestoreFromOptions extends Omit<RestoreOptions, 'from'> {
  from: string[];
  /** Where the scratch server's data directory is made (default: the OS temp dir). */
  scratchDir?: string;
}

export interface BackupRestoreResult {
  ok: boolean;
  kind: Exclude<BackupKind, 'offramp-dump'>;
  from: string[];
  serverVersion?: string;
  target: string;
  /** What the file held and what the scratch server could not take. */
  load: LoadReport;
  /** What was in the file and did not reach the target, and why. */
  leftBehind: {
    notLoaded: LoadReport['deferred'];
    schemasNotCopied: string[];
    /** Other databases of a pg_dumpall file: only the project database is restored. */
    databasesNotCopied: string[];
    deferredObjects: number;
  };
  copy: CopyResult;
}

export type RestoreFromResult =
  | { kind: 'offramp-dump'; ok: boolean; restore: RestoreResult }
  | BackupRestoreResult;

function describeSource(backup: DetectedBackup): string {
  const files = backup.files.map((f) => basename(f.path)).join(' + ');
  return `${backup.kind} backup ${files}`;
}

export async function restoreFrom(options: RestoreFromOptions, progress: Progress): Promise<RestoreFromResult> {
  const backup = await detectBackup(options.from);
  if (backup.kind === 'offramp-dump') {
    const restore = await restoreDatabase({ ...options, from: backup.files[0]!.path }, progress);
    return { kind: 'offramp-dump', ok: restore.ok, restore };
  }
  progress.log('info', `${options.from.join(', ')}: ${describeSource(backup)}${backup.serverVersion ? ` of PostgreSQL ${backup.serverVersion}` : ''}`);
  return withScratchSource(backup, { progress, ...(options.scratchDir ? { workDir: options.scratchDir } : {}) }, async (scratch) => {
    const otherDatabases = scratch.load.databases.filter((d) => d !== scratch.database && !['template0', 'template1'].includes(d));
    if (otherDatabases.length > 0) {
      progress.log('warn', `the file also holds the database${otherDatabases.length > 1 ? 's' : ''} ${otherDatabases.join(', ')}: only "${scratch.database}" (the project database) is restored`);
    }
    const copied = await copyDatabase(copyOptions(scratch.url, options.target, {
      jobs: options.jobs, extensionsSchema: options.extensionsSchema, ownerMap: options.ownerMap, workDir: options.workDir,
      yes: options.yes, connectTimeoutSeconds: options.connectTimeoutSeconds, analyze: options.analyze,
    }), progress);
    // The scratch server is gone after this run: the report names the file, not it.
    const copy: CopyResult = { ...copied, source: describeSource(backup) };
    return {
      ok: copy.ok,
      kind: backup.kind as BackupRestoreResult['kind'],
      from: backup.files.map((f) => f.path),
      ...(backup.serverVersion ? { serverVersion: backup.serverVersion } : {}),
      target: copy.target,
      load: scratch.load,
      leftBehind: { notLoaded: scratch.load.deferred, schemasNotCopied: copy.excludedSchemas, databasesNotCopied: otherDatabases, deferredObjects: copy.deferred.length },
      copy,
    };
  });
}
