/**
 * `offramp doctor --source FILE`: what a backup file needs before anything heavy starts. The
 * file's head is read (detectBackup: kind from the content, the server version from pg_dump's
 * header) and the local server binaries are looked up; no server is started and nothing is loaded.
 * A file from a newer server than the local binaries FAILs with the Debian install hint, because
 * a plain dump of a newer server may hold syntax an older one rejects.
 */
import { basename } from 'node:path';
import type { CheckResult } from '../../checks/types.js';
import { OfframpError } from '../../errors.js';
import { formatBytes } from '../../output/format.js';
import { detectBackup, localServerMajor, type BackupFile, type BackupKind } from '../backup/detect.js';

export interface DoctorBackupSummary {
  kind: BackupKind;
  files: BackupFile[];
  bytes: number;
  serverVersion?: string;
  /** The PostgreSQL major the file needs locally (the major it was taken from). */
  neededMajor?: number;
  /** The major of the local server binaries offramp would load it with (absent when none are installed). */
  localMajor?: number;
}

/** Supabase projects run PostgreSQL 15 or 17; a file that does not say is judged against the newer. */
const NEWEST_PLATFORM_MAJOR = 17;

const installHint = (major: number): string =>
  `install PostgreSQL ${major} or newer (Debian: apt-get install postgresql-${major} postgresql-${major}-postgis-3), or set OFFRAMP_PG_BIN to its bin directory`;

function check(id: string, title: string, outcome: Omit<CheckResult, 'id' | 'title' | 'durationMs'>): CheckResult {
  return { id, title, durationMs: 0, ...outcome };
}

export async function backupFileChecks(paths: string[]): Promise<{ backup: DoctorBackupSummary; checks: CheckResult[] }> {
  // A path that does not exist or does not hold a backup is a usage error (exit 2), not a check.
  const detected = await detectBackup(paths);
  const bytes = detected.files.reduce((sum, f) => sum + f.bytes, 0);
  let localMajor: number | undefined;
  let missing: OfframpError | undefined;
  try {
    localMajor = localServerMajor();
  } catch (error) {
    if (!(error instanceof OfframpError)) throw error;
    missing = error;
  }
  const backup: DoctorBackupSummary = {
    kind: detected.kind, files: detected.files, bytes,
    ...(detected.serverVersion ? { serverVersion: detected.serverVersion } : {}),
    ...(detected.serverMajor ? { neededMajor: detected.serverMajor } : {}),
    ...(localMajor ? { localMajor } : {}),
  };
  const names = detected.files.map((f) => basename(f.path)).join(' + ');
  const checks: CheckResult[] = [
    check('backup-file', 'Backup file', {
      status: 'pass',
      detail: `${detected.kind} backup ${names}, ${formatBytes(bytes)}${detected.files.some((f) => f.gzip) ? ' (gzip)' : ''}${detected.serverVersion ? `, taken from PostgreSQL ${detected.serverVersion}` : ''}`,
      evidence: { kind: detected.kind, files: detected.files.map((f) => ({ path: f.path, role: f.role, bytes: f.bytes, gzip: f.gzip })), bytes },
    }),
  ];
  const needed = detected.serverMajor;
  const evidence = { neededMajor: needed ?? null, localMajor: localMajor ?? null };
  if (detected.kind === 'offramp-dump') {
    checks.push(check('backup-server-binaries', 'Local PostgreSQL for the file', { status: 'skip', detail: 'an offramp dump is restored straight into the target: no local server is needed', evidence }));
  } else if (missing || localMajor === undefined) {
    checks.push(check('backup-server-binaries', 'Local PostgreSQL for the file', {
      status: 'fail',
      detail: `the file is loaded into a throwaway local server, and ${missing?.message ?? 'no PostgreSQL server binaries were found'}${needed ? `; it needs PostgreSQL ${needed} or newer` : ''}`,
      hint: installHint(needed ?? NEWEST_PLATFORM_MAJOR), evidence,
    }));
  } else if (needed === undefined) {
    checks.push(check('backup-server-binaries', 'Local PostgreSQL for the file', {
      status: 'warn',
      detail: `the file does not say which PostgreSQL it came from (supabase db dump removes pg_dump's header); the local binaries are PostgreSQL ${localMajor}`,
      hint: localMajor >= NEWEST_PLATFORM_MAJOR ? 'nothing to do unless the project ran a newer PostgreSQL than the local one' : `if the project runs PostgreSQL ${NEWEST_PLATFORM_MAJOR} (Project Settings → Infrastructure), ${installHint(NEWEST_PLATFORM_MAJOR)}`,
      evidence,
    }));
  } else if (needed > localMajor) {
    checks.push(check('backup-server-binaries', 'Local PostgreSQL for the file', {
      status: 'fail',
      detail: `the file was taken from PostgreSQL ${detected.serverVersion ?? needed}; the local server binaries are PostgreSQL ${localMajor}, too old to load it`,
      hint: installHint(needed), evidence,
    }));
  } else {
    checks.push(check('backup-server-binaries', 'Local PostgreSQL for the file', {
      status: 'pass', detail: `the file needs PostgreSQL ${needed} or newer; the local binaries are PostgreSQL ${localMajor}`, evidence,
    }));
  }
  return { backup, checks };
}
