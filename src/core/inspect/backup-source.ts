/**
 * `offramp inspect --source FILE`: the same inventory and findings for a backup file as for a
 * live project. The file is loaded into a scratch server shaped as the platform (b9's
 * withScratchSource, which refuses a newer server's file before starting anything and always
 * stops the server), the normal inspect reads that server, and the report gains what the file
 * was and what the load could not take. The scratch server's URL never reaches the report: it
 * names the file instead.
 */
import { basename } from 'node:path';
import type { ChalkInstance } from 'chalk';
import { UsageError } from '../../errors.js';
import { silentProgress, type Progress } from '../../output/progress.js';
import { detectBackup, type BackupFile, type BackupKind } from '../backup/detect.js';
import type { DeferredStatement, LoadReport } from '../backup/load.js';
import { withScratchSource } from '../backup/scratch.js';
import { formatBytes, plural } from './format.js';
import { inspect } from './index.js';
import { renderInspectMarkdown, renderInspectText } from './render.js';
import type { InspectOptions, InspectReport } from './types.js';

export interface BackupFacts {
  kind: Exclude<BackupKind, 'offramp-dump'>;
  files: BackupFile[];
  /** The server the file was taken from, when its header says. */
  serverVersion?: string;
  /** What the load applied, created and could not take (deferred, with the server's reason). */
  load: Pick<LoadReport, 'applied' | 'roles' | 'extensions' | 'databases' | 'authUsers' | 'storageObjects'> & { deferred: DeferredStatement[] };
}

export type InspectBackupReport = InspectReport & { backup: BackupFacts };

export interface InspectBackupOptions extends Omit<InspectOptions, 'source'> {
  files: string[];
  /** Where the scratch server's data directory goes (default: the OS temp dir). */
  workDir?: string;
}

export function describeBackup(kind: string, files: Array<{ path: string }>): string {
  return `${kind} backup ${files.map((f) => basename(f.path)).join(' + ')}`;
}

export async function inspectBackup(options: InspectBackupOptions, progress: Progress = silentProgress): Promise<InspectBackupReport> {
  const { files, workDir, ...inspectOptions } = options;
  const backup = await detectBackup(files);
  const kind = backup.kind;
  if (kind === 'offramp-dump') {
    throw new UsageError(`${backup.files[0]?.path ?? files[0]} is an offramp dump: inspect reads a database or a backup file`, {
      hint: 'inspect the database the dump was taken from, or restore it (offramp restore --from DIR) and inspect the target',
    });
  }
  progress.log('info', `${describeBackup(backup.kind, backup.files)}${backup.serverVersion ? ` of PostgreSQL ${backup.serverVersion}` : ''}`);
  return withScratchSource(backup, { progress, ...(workDir ? { workDir } : {}) }, async (scratch) => {
    const report = await inspect({ ...inspectOptions, source: scratch.url }, progress);
    const { applied, roles, extensions, databases, authUsers, storageObjects, deferred } = scratch.load;
    return {
      ...report,
      source: describeBackup(backup.kind, backup.files),
      backup: {
        kind,
        files: backup.files,
        ...(backup.serverVersion ? { serverVersion: backup.serverVersion } : {}),
        load: { applied, roles, extensions, databases, deferred, ...(authUsers !== undefined ? { authUsers } : {}), ...(storageObjects !== undefined ? { storageObjects } : {}) },
      },
    };
  });
}

/** Deferred statements grouped by kind and reason: a dashboard backup defers hundreds alike. */
function deferredGroups(deferred: DeferredStatement[]): Array<{ kind: string; reason: string; count: number; example: string }> {
  const groups = new Map<string, { kind: string; reason: string; count: number; example: string }>();
  for (const d of deferred) {
    const key = `${d.kind}\u0000${d.reason}`;
    const g = groups.get(key) ?? { kind: d.kind, reason: d.reason, count: 0, example: d.object };
    g.count++;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

function backupLines(b: BackupFacts): string[] {
  const files = b.files.map((f) => `${basename(f.path)} (${f.role}, ${formatBytes(f.bytes)}${f.gzip ? ', gzip' : ''})`).join(', ');
  const skipped = b.load.extensions.filter((e) => !e.loaded).map((e) => e.name);
  return [
    `file: ${b.kind} backup — ${files}${b.serverVersion ? `; taken from PostgreSQL ${b.serverVersion}` : ''}`,
    `loaded: ${plural(b.load.applied, 'statement')}; ${plural(b.load.roles.created, 'role')} created, ${plural(b.load.roles.passwordsFound, 'role password')} found and not applied` +
      `${skipped.length ? `; extensions not loaded: ${skipped.join(', ')}` : ''}`,
    ...(b.load.deferred.length
      ? [`left behind by the load: ${plural(b.load.deferred.length, 'statement')}`, ...deferredGroups(b.load.deferred).slice(0, 10).map((g) => `  ${g.count} × ${g.kind} (e.g. ${g.example}): ${g.reason}`)]
      : []),
  ];
}

export function renderInspectBackupText(report: InspectBackupReport, c: ChalkInstance): string {
  return [...backupLines(report.backup).map((l, i) => (i === 0 ? c.bold(l) : l)), '', renderInspectText(report, c)].join('\n');
}

export function renderInspectBackupMarkdown(report: InspectBackupReport): string {
  return [renderInspectMarkdown(report), '', '## The backup file', '', ...backupLines(report.backup).map((l) => (l.startsWith('  ') ? `  - ${l.trim()}` : `- ${l}`)), ''].join('\n');
}
