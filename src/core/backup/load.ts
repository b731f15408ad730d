/**
 * Loads plain SQL backup files into a scratch server as psql would (statement by statement,
 * `\connect` switching databases), except that a statement the local server cannot take is
 * deferred with the reason instead of stopping the load: a platform-only extension without a
 * stand-in, a role or database that already exists, a setting of a newer server. A damaged file
 * is not deferred: the reader's ArtifactError (file and line) ends the load.
 *
 * Role passwords are never applied and never kept: the PASSWORD clause is cut out of the
 * statement (at the parser's token locations) before it runs, and only counted. Deferred
 * statements are described by kind and object name, never by their text.
 */
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { connect } from '../../db/connect.js';
import { endClient, throwIfStopped } from '../../db/sessions.js';
import { applyEdits, quoteIdent, rangeVarName, scanTokens, type SqlStatement } from '../../db/sql-parse.js';
import { ArtifactError } from '../move/artifact.js';
import { registerSecret } from '../../secrets.js';
import type { Progress, StepHandle } from '../../output/progress.js';
import type { BackupFile } from './detect.js';
import { readBackup } from './reader.js';

export interface DeferredStatement {
  file: string;
  line: number;
  /** Parse-tree kind of the statement, e.g. CreateExtensionStmt. */
  kind: string;
  object: string;
  /** The server's error message (the statement's text is never kept: it may hold a secret). */
  reason: string;
}

export interface LoadedFile {
  path: string;
  role: BackupFile['role'];
  bytes: number;
  statements: number;
  copyBlocks: number;
  rows: number;
}

export interface LoadReport {
  files: LoadedFile[];
  /** Per schema, what the file created or filled. */
  schemas: Array<{ name: string; tables: number; rows: number }>;
  extensions: Array<{ name: string; loaded: boolean; reason?: string }>;
  roles: { created: number; passwordsFound: number };
  /** Databases the file creates or connects to; only `database` is copied on. */
  databases: string[];
  /** The scratch database that holds the project (what is copied to the target). */
  database: string;
  applied: number;
  deferred: DeferredStatement[];
  /**
   * Materialized views the files left unpopulated, refreshed on the scratch server: the
   * supabase db dump trio has `WITH NO DATA` in its schema file and no REFRESH in its data file.
   */
  refreshedViews: string[];
  /** Found on the scratch server after the load (absent when the file has no such table). */
  authUsers?: number;
  storageObjects?: number;
}

export interface LoadTarget {
  /** The scratch server's superuser URL of a database. */
  urlFor(database: string): string;
  /** The database the files start in (psql's connection before any `\connect`). */
  database: string;
}

const names = (list: unknown): string =>
  Array.isArray(list) ? list.map((n) => (n as { String?: { sval?: string } }).String?.sval ?? '').filter(Boolean).join('.') : '';

/** A readable name of what a statement is about, from its parse tree. */
export function objectNameOf(statement: SqlStatement): string {
  const n = statement.node;
  for (const key of ['relation', 'view', 'sequence', 'typevar', 'table']) {
    const name = rangeVarName(n[key]);
    if (name) return name;
  }
  for (const key of ['extname', 'dbname', 'trigname', 'schemaname', 'idxname', 'policy_name', 'pubname', 'subname', 'servername', 'fdwname']) {
    if (typeof n[key] === 'string') return n[key] as string;
  }
  if (typeof n.role === 'string') return n.role;
  const roleSpec = n.role as { rolename?: string } | undefined;
  if (roleSpec?.rolename) return roleSpec.rolename;
  for (const key of ['funcname', 'defnames', 'typeName']) {
    const name = names(n[key]);
    if (name) return name;
  }
  const name = n.name as { String?: { sval?: string } } | string | undefined;
  if (typeof name === 'string') return name;
  if (typeof n.objtype === 'string') return n.objtype.replace(/^OBJECT_/, '').toLowerCase();
  return '';
}

interface PasswordCut {
  sql?: string;
  hadPassword: boolean;
}

/**
 * CREATE/ALTER ROLE … PASSWORD '…': the clause is removed (from its keyword to its string or
 * NULL, by the scanner's tokens). A statement left with nothing to do is skipped (`sql` undefined).
 */
export function withoutPassword(statement: SqlStatement): PasswordCut {
  if (statement.kind !== 'CreateRoleStmt' && statement.kind !== 'AlterRoleStmt') return { sql: statement.text, hadPassword: false };
  const options = (statement.node.options as Array<{ DefElem: { defname: string; location: number } }> | undefined) ?? [];
  const password = options.find((o) => o.DefElem.defname === 'password');
  if (!password) return { sql: statement.text, hadPassword: false };
  if (options.length === 1) {
    // Only a password: CREATE ROLE still makes the role; ALTER ROLE has nothing left to do.
    const role = statement.node.role;
    return { sql: statement.kind === 'CreateRoleStmt' && typeof role === 'string' ? `CREATE ROLE ${quoteIdent(role)}` : undefined, hadPassword: true };
  }
  const at = password.DefElem.location - statement.start;
  const tokens = scanTokens(statement.text);
  const first = tokens.findIndex((t) => t.start === at);
  const last = tokens.findIndex((t, i) => i >= first && (t.tokenName === 'SCONST' || t.text.toUpperCase() === 'NULL'));
  if (first < 0 || last < 0) return { sql: undefined, hadPassword: true }; // unexpected shape: never run what may keep a password
  return { sql: applyEdits(statement.text, [{ start: tokens[first]!.start, end: tokens[last]!.end, replacement: '' }]), hadPassword: true };
}

/** psql's meta-command arguments: blank-separated words; "…" keeps blanks ("" is a quote), '…' too. */
function metaArguments(args: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const ch = args[i]!;
    if (ch === ' ' || ch === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (ch === '"' || ch === "'") {
      word ??= '';
      for (i++; i < args.length; i++) {
        if (args[i] === ch && args[i + 1] === ch && ch === '"') word += args[++i];
        else if (args[i] === '\\' && ch === "'") word += args[++i] ?? '';
        else if (args[i] === ch) break;
        else word += args[i];
      }
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** `\connect` arguments: a plain or quoted name, or pg_dumpall's `-reuse-previous=on "dbname='x'"`. */
export function connectTarget(args: string): string | undefined {
  const first = metaArguments(args).find((w) => !w.startsWith('-'));
  if (first === undefined) return undefined;
  // A conninfo string: its dbname (single-quoted, backslash escapes), as pg_dumpall writes it.
  if (first.startsWith('dbname=')) {
    const value = first.slice('dbname='.length);
    return value.startsWith("'") ? metaArguments(value)[0] : value.split(' ')[0];
  }
  return first;
}

async function* batches(rows: AsyncIterable<string>, counter: { rows: number }): AsyncGenerator<string> {
  let chunk = '';
  for await (const row of rows) {
    chunk += `${row}\n`;
    counter.rows++;
    if (chunk.length >= 1 << 16) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

class Loader {
  readonly report: LoadReport;
  private client?: pg.Client;
  private current: string;
  private connectError?: string;
  private readonly schemas = new Map<string, { tables: number; rows: number }>();
  private readonly extensions = new Map<string, { loaded: boolean; reason?: string }>();
  private readonly databases = new Set<string>();

  constructor(private readonly target: LoadTarget) {
    this.current = target.database;
    this.report = {
      files: [], schemas: [], extensions: [], roles: { created: 0, passwordsFound: 0 }, databases: [], database: target.database, applied: 0, deferred: [], refreshedViews: [],
    };
  }

  private schema(name: string): { tables: number; rows: number } {
    let s = this.schemas.get(name);
    if (!s) this.schemas.set(name, (s = { tables: 0, rows: 0 }));
    return s;
  }

  private async session(): Promise<pg.Client | undefined> {
    if (this.client || this.connectError) return this.client;
    try {
      this.client = await connect(this.target.urlFor(this.current), { role: 'admin', applicationName: 'offramp-load-backup' });
    } catch (error) {
      this.connectError = `cannot connect to database "${this.current}" on the scratch server: ${(error as Error).message}`;
    }
    return this.client;
  }

  async switchTo(database: string): Promise<void> {
    // As psql: a new session, so the settings of the previous one do not carry over.
    if (this.client) await endClient(this.client);
    this.client = undefined;
    this.connectError = undefined;
    this.current = database;
    this.databases.add(database);
  }

  private defer(file: string, line: number, statement: SqlStatement, reason: string): void {
    this.report.deferred.push({ file: basename(file), line, kind: statement.kind, object: objectNameOf(statement), reason: reason.split('\n')[0]! });
  }

  /** What the statement says the file holds (whether or not it applies). */
  private note(statement: SqlStatement): void {
    const n = statement.node;
    if (statement.kind === 'CreateSchemaStmt' && typeof n.schemaname === 'string') this.schema(n.schemaname);
    if (statement.kind === 'CreateStmt') this.schema((n.relation as { schemaname?: string }).schemaname ?? 'public').tables++;
    if (statement.kind === 'CreatedbStmt' && typeof n.dbname === 'string') this.databases.add(n.dbname);
  }

  async statement(file: LoadedFile, line: number, statement: SqlStatement): Promise<void> {
    throwIfStopped();
    this.note(statement);
    file.statements++;
    const cut = withoutPassword(statement);
    if (cut.hadPassword) {
      this.report.roles.passwordsFound++;
      // Never applied, and redacted should it ever reach a message (a server error quoting it).
      const password = (statement.node.options as Array<{ DefElem: { defname: string; arg?: { String?: { sval?: string } } } }>)
        .find((o) => o.DefElem.defname === 'password')?.DefElem.arg?.String?.sval;
      if (password) registerSecret(password);
    }
    if (cut.sql === undefined) return;
    const client = await this.session();
    if (!client) return this.defer(file.path, line, statement, this.connectError!);
    try {
      await client.query(cut.sql);
      this.report.applied++;
      if (statement.kind === 'CreateRoleStmt') this.report.roles.created++;
      if (statement.kind === 'CreateExtensionStmt') this.extensions.set(String(statement.node.extname), { loaded: true });
    } catch (error) {
      const reason = (error as Error).message;
      this.defer(file.path, line, statement, reason);
      if (statement.kind === 'CreateExtensionStmt') this.extensions.set(String(statement.node.extname), { loaded: false, reason });
    }
  }

  async copy(file: LoadedFile, line: number, statement: SqlStatement, rows: AsyncIterable<string>): Promise<void> {
    throwIfStopped();
    file.statements++;
    file.copyBlocks++;
    const table = statement.node.relation as { schemaname?: string } | undefined;
    const client = await this.session();
    if (!client) return this.defer(file.path, line, statement, this.connectError!);
    const counter = { rows: 0 };
    try {
      await pipeline(Readable.from(batches(rows, counter)), client.query(copyFrom(statement.text)));
      this.report.applied++;
      file.rows += counter.rows;
      this.schema(table?.schemaname ?? 'public').rows += counter.rows;
    } catch (error) {
      if (error instanceof ArtifactError) throw error;
      this.defer(file.path, line, statement, (error as Error).message);
    }
  }

  async close(): Promise<void> {
    if (this.client) await endClient(this.client);
    this.client = undefined;
    this.report.schemas = [...this.schemas].map(([name, s]) => ({ name, ...s })).sort((a, b) => a.name.localeCompare(b.name));
    this.report.extensions = [...this.extensions].map(([name, e]) => ({ name, ...e })).sort((a, b) => a.name.localeCompare(b.name));
    this.report.databases = [...this.databases].sort();
  }
}

function progressNote(step: StepHandle, file: LoadedFile, applied: number, bytesRead: number): void {
  step.update(`${basename(file.path)}: ${applied} statements applied`, { current: bytesRead, total: file.bytes, unit: 'bytes' });
}

/**
 * Load the files in order into the scratch server. Every file starts in `target.database` (as
 * each would be given to psql on its own); `\connect` moves to another database of the server.
 */
export async function loadBackupFiles(target: LoadTarget, files: BackupFile[], progress: Progress): Promise<LoadReport> {
  const loader = new Loader(target);
  try {
    for (const f of files) {
      const file: LoadedFile = { path: f.path, role: f.role, bytes: f.bytes, statements: 0, copyBlocks: 0, rows: 0 };
      loader.report.files.push(file);
      await loader.switchTo(target.database);
      const step = progress.step(`load ${basename(f.path)} into the scratch server`);
      let bytesRead = 0;
      let shown = 0;
      try {
        for await (const item of readBackup(f.path, { onBytes: (b) => { bytesRead = b; } })) {
          if (item.type === 'comment') continue;
          if (item.type === 'meta') {
            // \restrict / \unrestrict (pg_dump 17.6, 16.10, 15.14 and later) only guard psql itself.
            if (item.command === 'connect' || item.command === 'c') {
              const database = connectTarget(item.args);
              if (database) await loader.switchTo(database);
            }
            continue;
          }
          if (item.type === 'copy') await loader.copy(file, item.line, item.statement, item.rows);
          else await loader.statement(file, item.line, item.statement);
          if (file.statements - shown >= 50) {
            shown = file.statements;
            progressNote(step, file, loader.report.applied, bytesRead);
          }
        }
        progressNote(step, file, loader.report.applied, file.bytes);
        step.succeed(`${basename(f.path)}: ${file.statements} statements, ${file.rows} rows`);
      } catch (error) {
        step.fail();
        throw error;
      }
    }
  } finally {
    await loader.close();
  }
  loader.report.databases = loader.report.databases.filter((d) => d !== '');
  return loader.report;
}
