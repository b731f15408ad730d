/**
 * What kind of backup a file (or a set of files, or a directory) is, told from its content and
 * never from its name: a Supabase user may have renamed `db_cluster-….backup` to anything.
 *
 *  - offramp-dump: a directory written by `offramp dump` (it holds manifest.json);
 *  - dashboard: the dashboard's daily backup, a pg_dumpall-style plain SQL file (usually gzip);
 *  - supabase-cli: the trio `supabase db dump` makes (roles, schema, data), as files or a directory;
 *  - pg-dump-plain: a plain-format `pg_dump` of one database.
 *
 * The head of every file is read through the same line reader the loader uses (gunzip on the
 * fly, COPY blocks and psql meta-commands kept apart, SQL split by the PostgreSQL parser), so
 * detection and loading can never disagree about what a file holds.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findSystemInstallation } from '../../db/local-cluster.js';
import { PreflightFailedError, UsageError } from '../../errors.js';
import { readBackup } from './reader.js';

export type BackupKind = 'offramp-dump' | 'dashboard' | 'supabase-cli' | 'pg-dump-plain';

export interface BackupFile {
  path: string;
  gzip: boolean;
  role: 'cluster' | 'roles' | 'schema' | 'data' | 'database';
  bytes: number;
}

export interface DetectedBackup {
  kind: BackupKind;
  files: BackupFile[];
  /** Major version of the server the file was taken from, when the file says (pg_dump's header). */
  serverMajor?: number;
  serverVersion?: string;
  dumpToolVersion?: string;
}

const ACCEPTED_HINT =
  'restore --from accepts: a directory written by offramp dump; a dashboard backup (db_cluster-*.backup, gzip or not); ' +
  'the supabase db dump trio (--from roles.sql --from schema.sql --from data.sql, or a directory holding them); a plain-format pg_dump SQL file';

/** How much of a file's head is read to tell what it is (statements; COPY rows are skipped). */
const HEAD_STATEMENTS = 400;

const GZIP_MAGIC = [0x1f, 0x8b];
/** pg_dump -Fc / -Ft archives start with "PGDMP". */
const PGDMP_MAGIC = [...Buffer.from('PGDMP')];

function hasMagic(path: string, magic: number[]): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(magic.length);
    return readSync(fd, head, 0, magic.length, 0) === magic.length && magic.every((b, i) => head[i] === b);
  } finally {
    closeSync(fd);
  }
}

export function isGzip(path: string): boolean {
  return hasMagic(path, GZIP_MAGIC);
}

interface FileSignals {
  path: string;
  gzip: boolean;
  bytes: number;
  clusterHeader: boolean;
  databaseHeader: boolean;
  serverVersion?: string;
  dumpToolVersion?: string;
  connects: number;
  createRoles: number;
  /** Statements that define objects (tables, functions, schemas, types…). */
  definitions: number;
  /** COPY … FROM stdin blocks and INSERTs: rows of data. */
  dataBlocks: number;
  statements: number;
}

/** Statement kinds that only hold data or session settings; everything else defines something. */
const DATA_KINDS = new Set(['CopyStmt', 'InsertStmt']);
const NEUTRAL_KINDS = new Set(['VariableSetStmt', 'SelectStmt', 'TransactionStmt', 'VariableShowStmt', 'GrantRoleStmt', 'AlterRoleSetStmt']);
const ROLE_KINDS = new Set(['CreateRoleStmt', 'AlterRoleStmt']);

async function signalsOf(path: string): Promise<FileSignals> {
  const gzip = isGzip(path);
  const s: FileSignals = {
    path, gzip, bytes: statSync(path).size, clusterHeader: false, databaseHeader: false,
    connects: 0, createRoles: 0, definitions: 0, dataBlocks: 0, statements: 0,
  };
  if (hasMagic(path, PGDMP_MAGIC)) {
    throw new UsageError(`${path} is a pg_dump custom-format archive, not a plain SQL backup`, {
      hint: `turn it into plain SQL first: pg_restore -f backup.sql ${path}; then offramp restore --from backup.sql`,
    });
  }
  try {
    await readHead(path, s);
  } catch (error) {
    // Nothing recognisable before the parser gave up: not a damaged backup, not a backup at all.
    if (s.statements === 0 && (error as { code?: string }).code === 'ARTIFACT_INVALID') {
      throw new UsageError(`${path} is not a backup offramp can read: ${(error as Error).message}`, { hint: ACCEPTED_HINT });
    }
    throw error;
  }
  return s;
}

async function readHead(path: string, s: FileSignals): Promise<void> {
  for await (const item of readBackup(path, { headOnly: true })) {
    if (item.type === 'comment') {
      // pg_dump's and pg_dumpall's fixed header lines (comments, not SQL).
      const text = item.text.trim();
      if (text === '-- PostgreSQL database cluster dump') s.clusterHeader = true;
      else if (text === '-- PostgreSQL database dump') s.databaseHeader = true;
      else if (text.startsWith('-- Dumped from database version ')) s.serverVersion ??= text.slice('-- Dumped from database version '.length).split(' ')[0];
      else if (text.startsWith('-- Dumped by pg_dump version ') || text.startsWith('-- Dumped by pg_dumpall version ')) s.dumpToolVersion ??= text.split(' version ')[1]?.split(' ')[0];
      continue;
    }
    if (item.type === 'meta') {
      if (item.command === 'connect' || item.command === 'c') s.connects++;
      continue;
    }
    if (item.type === 'copy') {
      s.dataBlocks++;
      s.statements++;
      // Dumps write every definition before the first COPY block: the rest is rows.
      break;
    } else {
      s.statements++;
      const kind = item.statement.kind;
      if (kind === 'CreateRoleStmt') s.createRoles++;
      if (DATA_KINDS.has(kind)) s.dataBlocks++;
      else if (!NEUTRAL_KINDS.has(kind) && !ROLE_KINDS.has(kind)) s.definitions++;
    }
    if (s.statements >= HEAD_STATEMENTS) break;
  }
}

function roleOf(s: FileSignals): BackupFile['role'] | undefined {
  if (s.clusterHeader || (s.connects > 0 && s.createRoles > 0 && s.definitions > 0)) return s.definitions > 0 || s.dataBlocks > 0 ? 'cluster' : 'roles';
  if (s.createRoles > 0 && s.definitions === 0 && s.dataBlocks === 0) return 'roles';
  if (s.databaseHeader && s.definitions > 0 && s.dataBlocks > 0) return 'database';
  if (s.definitions > 0 && s.dataBlocks === 0) return 'schema';
  if (s.dataBlocks > 0 && s.definitions === 0) return 'data';
  if (s.definitions > 0 && s.dataBlocks > 0) return 'database';
  // A file with only role memberships and settings (roles dumped with every CREATE ROLE commented out).
  if (s.statements > 0 && s.dataBlocks === 0 && s.definitions === 0) return 'roles';
  return undefined;
}

function expandPaths(paths: string[]): { files: string[]; offrampDump?: string } {
  const files: string[] = [];
  for (const p of paths.map((x) => resolve(x))) {
    if (!existsSync(p)) throw new UsageError(`${p} does not exist`, { hint: ACCEPTED_HINT });
    if (statSync(p).isDirectory()) {
      // schema-meta.json without a manifest: an offramp dump that did not finish (restore says so).
      if (existsSync(join(p, 'manifest.json')) || existsSync(join(p, 'schema-meta.json'))) {
        if (paths.length > 1) throw new UsageError('an offramp dump directory is restored on its own', { hint: 'pass one --from for an offramp dump' });
        return { files: [], offrampDump: p };
      }
      const inside = readdirSync(p).map((f) => join(p, f)).filter((f) => statSync(f).isFile() && statSync(f).size > 0).sort();
      if (inside.length === 0) throw new UsageError(`${p} holds no files and no manifest.json`, { hint: ACCEPTED_HINT });
      files.push(...inside);
    } else {
      files.push(p);
    }
  }
  return { files };
}

function majorOf(version: string | undefined): number | undefined {
  const m = version ? Number.parseInt(version, 10) : Number.NaN;
  return Number.isFinite(m) && m > 0 ? m : undefined;
}

/** Tell what the given paths hold; unknown content is a usage error that lists what is accepted. */
export async function detectBackup(paths: string[]): Promise<DetectedBackup> {
  if (paths.length === 0) throw new UsageError('no backup given', { hint: ACCEPTED_HINT });
  const { files, offrampDump } = expandPaths(paths);
  if (offrampDump) return { kind: 'offramp-dump', files: [{ path: offrampDump, gzip: false, role: 'database', bytes: 0 }] };

  const signals = await Promise.all(files.map(async (f) => {
    try {
      return await signalsOf(f);
    } catch (error) {
      if (error instanceof UsageError || (error as { code?: string }).code === 'ARTIFACT_INVALID') throw error;
      throw new UsageError(`cannot read ${f} as a SQL backup: ${(error as Error).message}`, { hint: ACCEPTED_HINT });
    }
  }));
  const described: BackupFile[] = signals.map((s) => {
    const role = roleOf(s);
    if (!role) throw new UsageError(`${s.path} is not a backup offramp can read (no SQL statements found)`, { hint: ACCEPTED_HINT });
    return { path: s.path, gzip: s.gzip, role, bytes: s.bytes };
  });
  const versions = signals.map((s) => s.serverVersion).filter((v): v is string => Boolean(v));
  const serverVersion = versions.sort((a, b) => (majorOf(b) ?? 0) - (majorOf(a) ?? 0))[0];
  const dumpToolVersion = signals.find((s) => s.dumpToolVersion)?.dumpToolVersion;
  const common = { serverVersion, serverMajor: majorOf(serverVersion), dumpToolVersion };

  const roles = described.map((d) => d.role);
  if (described.length === 1 && roles[0] === 'cluster') return { kind: 'dashboard', files: described, ...common };
  if (described.length === 1 && roles[0] === 'database') return { kind: 'pg-dump-plain', files: described, ...common };
  const order: Array<BackupFile['role']> = ['roles', 'schema', 'data'];
  if (roles.every((r) => order.includes(r)) && roles.includes('schema') && new Set(roles).size === roles.length) {
    // Loaded as the platform's docs do it: roles, then schema, then data.
    const sorted = [...described].sort((a, b) => order.indexOf(a.role) - order.indexOf(b.role));
    return { kind: 'supabase-cli', files: sorted, ...common };
  }
  throw new UsageError(`cannot tell what backup these files make together: ${described.map((d) => `${d.path} (${d.role})`).join(', ')}`, {
    hint: `${ACCEPTED_HINT}; a supabase db dump trio needs one schema file, optionally one roles file and one data file`,
  });
}

/** Major version of the PostgreSQL server binaries offramp starts local servers with. */
export function localServerMajor(): number {
  return findSystemInstallation().major;
}

/**
 * A plain SQL dump of a newer server can hold syntax an older one rejects: refuse before any
 * server starts (exit 5, preflight failed: the machine is not ready, nothing was done).
 */
export function refuseNewerServer(backup: DetectedBackup, localMajor: number = localServerMajor()): void {
  if (backup.serverMajor === undefined || backup.serverMajor <= localMajor) return;
  const n = backup.serverMajor;
  throw new PreflightFailedError(`${backup.files[0]?.path ?? 'the backup'} was taken from PostgreSQL ${backup.serverVersion ?? n}; the local server binaries are PostgreSQL ${localMajor}`, {
    hint: `install PostgreSQL ${n} or newer (Debian: apt-get install postgresql-${n} postgresql-${n}-postgis-3) or set OFFRAMP_PG_BIN to its bin directory; nothing was started or written`,
  });
}
