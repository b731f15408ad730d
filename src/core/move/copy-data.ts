/**
 * The data phase: pools of workers stream copy units with COPY TO STDOUT → COPY FROM STDIN
 * through pg-copy-streams (copy), into gzip files (dump), or from them (restore).
 * stream.pipeline gives back-pressure, so no table is ever held in memory. On the target a unit
 * commits before the journal records it.
 */
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { connect } from '../../db/connect.js';
import { destroyClient, endClient } from '../../db/sessions.js';
import type { ServerSide } from '../../errors.js';
import { importSnapshot } from '../../db/snapshot.js';
import type { ConnectionInfo } from '../../db/url.js';
import { toQueryError } from '../../db/sql.js';
import type { StepHandle } from '../../output/progress.js';
import { Sha256Stream } from './artifact.js';
import { faultGate, faultPoint } from './fault-points.js';
import type { Journal } from './journal.js';
import type { CopyUnit, TablePlan } from './plan.js';
import type { PipelineTask } from './pipeline.js';
import { runPool } from './pool.js';
import { privateWriteStream } from './private-files.js';
import { formatBytes } from '../../output/format.js';

export type CopyFormat = 'binary' | 'text';

export interface TableCopyResult {
  table: string;
  rows: number;
  bytes: number;
  seconds: number;
}

/** Counts bytes on their way through, for progress and the summary. */
class ByteCounter extends Transform {
  bytes = 0;
  constructor(private readonly onBytes: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    this.bytes += chunk.length;
    this.onBytes(chunk.length);
    cb(null, chunk);
  }
}

/**
 * Totals per table and a throttled progress line: overall bytes, rate and ETA, then each table
 * in flight with its share done (estimated from its size on the source).
 */
export class DataProgress {
  private readonly started = performance.now();
  private readonly totals = new Map<string, TableCopyResult>();
  private readonly remaining = new Map<string, number>();
  private readonly expected = new Map<string, number>();
  private readonly moved = new Map<string, number>();
  private copied = 0;
  private unitsDone = 0;
  private lastReport = 0;

  constructor(private readonly units: Array<{ table: string; bytes: number }>, private readonly step: StepHandle) {
    for (const u of units) {
      this.remaining.set(u.table, (this.remaining.get(u.table) ?? 0) + 1);
      this.expected.set(u.table, (this.expected.get(u.table) ?? 0) + u.bytes);
    }
  }

  /** A byte counter for one table's stream. */
  counter(table: string): (n: number) => void {
    return (n) => {
      this.copied += n;
      this.moved.set(table, (this.moved.get(table) ?? 0) + n);
      this.report();
    };
  }

  /** Record a finished unit; returns the table's total when it was the table's last unit. */
  unitDone(table: string, rows: number, bytes: number, seconds: number): TableCopyResult | undefined {
    const t = this.totals.get(table) ?? { table, rows: 0, bytes: 0, seconds: 0 };
    t.rows += rows;
    t.bytes += bytes;
    t.seconds += seconds;
    this.totals.set(table, t);
    this.unitsDone++;
    const left = this.remaining.get(table)! - 1;
    this.remaining.set(table, left);
    if (left === 0) this.moved.delete(table);
    this.report(true);
    return left === 0 ? t : undefined;
  }

  /** Every unit finished. */
  get complete(): boolean {
    return this.unitsDone === this.units.length;
  }

  results(): TableCopyResult[] {
    return [...this.totals.values()].map((t) => ({ ...t, seconds: Math.round(t.seconds * 100) / 100 }));
  }

  private report(force = false): void {
    const now = performance.now();
    if (!force && now - this.lastReport < 250) return;
    this.lastReport = now;
    const total = this.units.reduce((s, u) => s + u.bytes, 0);
    const rate = this.copied / Math.max((now - this.started) / 1000, 0.001);
    const eta = rate > 0 ? Math.max(0, (total - this.copied) / rate) : 0;
    const inFlight = [...this.moved.entries()]
      .map(([table, n]) => `${table} ${Math.min(99, Math.floor((100 * n) / Math.max(1, this.expected.get(table) ?? 1)))}%`)
      .join(' · ');
    this.step.update(`${this.unitsDone}/${this.units.length} units, ${formatBytes(this.copied)} of ~${formatBytes(total)}, ${formatBytes(rate)}/s, ETA ${eta.toFixed(0)} s${inFlight ? ` · ${inFlight}` : ''}`, {
      current: this.copied, total: Math.max(total, this.copied), unit: 'bytes',
    });
  }
}

const formatClause = (format: CopyFormat): string => (format === 'binary' ? '(FORMAT binary)' : '');

/**
 * The column list COPY reads and writes. A table with no columns still has rows: `COPY t () ...`
 * is a syntax error, so the list is left out (COPY then takes all zero columns, text or binary).
 */
const columnList = (t: TablePlan): string => (t.columns.length > 0 ? ` (${t.columns.join(', ')})` : '');

function copyOutSql(unit: CopyUnit, format: CopyFormat): string {
  const t = unit.table;
  return unit.where
    ? `COPY (SELECT ${t.columns.join(', ')} FROM ONLY ${t.qualified} WHERE ${unit.where}) TO STDOUT ${formatClause(format)}`
    : `COPY ${t.qualified}${columnList(t)} TO STDOUT ${formatClause(format)}`;
}


/**
 * One target transaction per unit. A unit that is its table's only one empties the table in the
 * same transaction and loads with COPY FREEZE: the rows arrive frozen and all-visible, so the
 * index builds and ANALYZE that follow read them without clog lookups or hint-bit writes.
 *
 * When anything fails, the unit's sessions are destroyed, not reused: a COPY that stopped half-way
 * leaves its client unable to run another statement, and the server at the other end of the stream
 * would otherwise wait for data (or block writing it) forever. The error names the side that failed
 * first: the stream whose error came first, or the target for its own statements.
 */
async function loadInto(
  sessions: { tgt: pg.Client; src?: pg.Client }, table: TablePlan, format: CopyFormat, mode: 'append' | 'freeze', what: string,
  feed: (sink: NodeJS.WritableStream, failed: (side: ServerSide) => void) => Promise<void>, expectRows?: number,
): Promise<number> {
  const { tgt } = sessions;
  let failedFirst: ServerSide | undefined;
  try {
    await tgt.query('BEGIN');
    if (mode === 'freeze') await tgt.query(`TRUNCATE ONLY ${table.qualified}`);
    const options = [format === 'binary' ? 'FORMAT binary' : '', mode === 'freeze' ? 'FREEZE' : ''].filter(Boolean).join(', ');
    const sink = tgt.query(copyFrom(`COPY ${table.qualified}${columnList(table)} FROM STDIN${options ? ` (${options})` : ''}`));
    sink.once('error', () => void (failedFirst ??= 'target'));
    await feed(sink, (side) => void (failedFirst ??= side));
    const rows = Number(sink.rowCount ?? 0);
    if (expectRows !== undefined && rows !== expectRows) throw new Error(`loaded ${rows} rows where the dump holds ${expectRows}`);
    await tgt.query('COMMIT');
    return rows;
  } catch (error) {
    for (const client of [tgt, sessions.src]) if (client) destroyClient(client);
    throw toQueryError(error, what, failedFirst ?? 'target');
  }
}

/** A worker of the copy pipeline: a source session in the snapshot and a target session. */
export interface CopyWorker {
  src: pg.Client;
  tgt: pg.Client;
}

export async function openCopyWorker(source: ConnectionInfo, target: ConnectionInfo, snapshot: string, timeoutSeconds: number, targetPreamble: string): Promise<CopyWorker> {
  const src = await connect(source, { role: 'source', timeoutSeconds, applicationName: 'offramp-copy' });
  try {
    await importSnapshot(src, snapshot);
    const tgt = await connect(target, { role: 'target', timeoutSeconds, applicationName: 'offramp-copy' });
    await tgt.query(targetPreamble);
    return { src, tgt };
  } catch (error) {
    await src.end().catch(() => {});
    throw error;
  }
}

/** Ending the source session ends its read-only snapshot transaction; a dead peer is not waited for. */
export async function closeCopyWorker(w: CopyWorker): Promise<void> {
  await Promise.all([endClient(w.src), endClient(w.tgt)]);
}

/** Make a worker's in-flight unit fail at once (the pipeline failed elsewhere, or the run was stopped). */
export function abortCopyWorker(w: CopyWorker): void {
  destroyClient(w.src);
  destroyClient(w.tgt);
}

/**
 * Resume: empty every table a crash interrupted, all in one transaction, before the pipeline
 * loads any of their units again. Emptying per unit instead would race: with several jobs, the
 * TRUNCATE of one chunk of a split table can wait for, then wipe, a sibling chunk's append.
 */
export async function resetInterruptedTables(control: pg.Client, tables: TablePlan[]): Promise<void> {
  if (tables.length === 0) return;
  await control.query('BEGIN');
  try {
    await control.query(`TRUNCATE ONLY ${tables.map((t) => t.qualified).join(', ')}`);
    await control.query('COMMIT');
  } catch (error) {
    await control.query('ROLLBACK').catch(() => {});
    throw toQueryError(error, 'empty the tables the interrupted copy had started');
  }
}

export interface CopyTaskOptions {
  format: CopyFormat;
  journal: Journal;
  progress: DataProgress;
}

/**
 * copy: one pipeline task per unit, source → target; journaled once committed. Units of a split
 * table only ever append (an interrupted table was emptied before the pipeline started); a table's
 * only unit empties it in its own transaction, which COPY FREEZE needs.
 */
export function copyUnitTasks(units: CopyUnit[], options: CopyTaskOptions): Array<PipelineTask<CopyWorker>> {
  const unitsPerTable = new Map<string, number>();
  for (const u of units) unitsPerTable.set(u.table.display, (unitsPerTable.get(u.table.display) ?? 0) + 1);
  return units.map((unit) => ({
    kind: 'data' as const,
    table: unit.table.qualified,
    weight: unit.bytes,
    label: `copy ${unit.id}`,
    run: async ({ src, tgt }: CopyWorker) => {
      await faultGate();
      const key = unit.table.display;
      const whole = !unit.where && unitsPerTable.get(key) === 1;
      const started = performance.now();
      const counter = new ByteCounter(options.progress.counter(key));
      const rows = await loadInto({ tgt, src }, unit.table, options.format, whole ? 'freeze' : 'append', `copy ${unit.id}`, (sink, failed) => {
        const out = src.query(copyTo(copyOutSql(unit, options.format)));
        out.once('error', () => failed('source'));
        return pipeline(out, counter, sink);
      });
      options.journal.append({ type: 'unit-done', unit: unit.id, table: key, rows, bytes: counter.bytes });
      const tableDone = options.progress.unitDone(key, rows, counter.bytes, (performance.now() - started) / 1000);
      if (tableDone) options.journal.append({ type: 'table-done', table: key, rows: tableDone.rows });
      await faultPoint('unit-done');
      if (tableDone) await faultPoint('table-done');
    },
  }));
}

export interface DumpedUnit {
  id: string;
  table: string;
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
  fileBytes: number;
}

/** dump: source → gzip file per unit, hashed while written. */
export async function dumpUnits(units: Array<CopyUnit & { file: string }>, dir: string, options: { source: ConnectionInfo; snapshot: string; format: CopyFormat; jobs: number; timeoutSeconds: number; step: StepHandle }): Promise<DumpedUnit[]> {
  const progress = new DataProgress(units.map((u) => ({ table: u.table.display, bytes: u.bytes })), options.step);
  const dumped: DumpedUnit[] = [];
  const open = async (): Promise<pg.Client> => {
    const src = await connect(options.source, { role: 'source', timeoutSeconds: options.timeoutSeconds, applicationName: 'offramp-dump' });
    await importSnapshot(src, options.snapshot);
    return src;
  };
  await runPool(units, options.jobs, open, async (src, unit) => {
    const started = performance.now();
    const counter = new ByteCounter(progress.counter(unit.table.display));
    const hash = new Sha256Stream();
    const out = src.query(copyTo(copyOutSql(unit, options.format)));
    try {
      await pipeline(out, counter, createGzip({ level: 1 }), hash, privateWriteStream(`${dir}/${unit.file}`));
    } catch (error) {
      destroyClient(src); // a COPY stopped half-way: the session cannot be reused
      throw toQueryError(error, `dump ${unit.id}`, 'source');
    }
    const rows = Number(out.rowCount ?? 0);
    dumped.push({ id: unit.id, table: unit.table.display, file: unit.file, rows, bytes: counter.bytes, sha256: hash.digest(), fileBytes: hash.bytes });
    progress.unitDone(unit.table.display, rows, counter.bytes, (performance.now() - started) / 1000);
  }, (src) => endClient(src), destroyClient);
  return dumped;
}

/** restore: one pipeline task per data file; the row count must match what the dump wrote. */
export function loadFileTasks(
  files: Array<{ id: string; table: TablePlan; path: string; rows: number; bytes: number }>,
  options: { format: CopyFormat; progress: DataProgress },
): Array<PipelineTask<pg.Client>> {
  const filesPerTable = new Map<string, number>();
  for (const f of files) filesPerTable.set(f.table.display, (filesPerTable.get(f.table.display) ?? 0) + 1);
  return files.map((f) => ({
    kind: 'data' as const,
    table: f.table.qualified,
    weight: f.bytes,
    label: `load ${f.id}`,
    run: async (tgt: pg.Client) => {
      const started = performance.now();
      const counter = new ByteCounter(options.progress.counter(f.table.display));
      const mode = filesPerTable.get(f.table.display) === 1 ? 'freeze' : 'append';
      const rows = await loadInto({ tgt }, f.table, options.format, mode, `restore ${f.id}`, (sink) =>
        pipeline(createReadStream(f.path), createGunzip(), counter, sink), f.rows);
      options.progress.unitDone(f.table.display, rows, counter.bytes, (performance.now() - started) / 1000);
    },
  }));
}
