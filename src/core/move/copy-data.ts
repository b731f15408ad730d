/**
 * The data phase: pools of workers stream copy units with COPY TO STDOUT → COPY FROM STDIN
 * through pg-copy-streams (copy), into gzip files (dump), or from them (restore).
 * stream.pipeline gives back-pressure, so no table is ever held in memory. On the target a unit
 * commits before the journal records it.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { connect } from '../../db/connect.js';
import { importSnapshot } from '../../db/snapshot.js';
import type { ConnectionInfo } from '../../db/url.js';
import { toQueryError } from '../../db/sql.js';
import type { StepHandle } from '../../output/progress.js';
import { Sha256Stream } from './artifact.js';
import type { Journal } from './journal.js';
import type { CopyUnit, TablePlan } from './plan.js';
import { runPool } from './pool.js';
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

/** Totals per table and a throttled progress line (bytes, rate, ETA). */
export class DataProgress {
  private readonly started = performance.now();
  private readonly totals = new Map<string, TableCopyResult>();
  private readonly remaining = new Map<string, number>();
  private copied = 0;
  private unitsDone = 0;
  private lastReport = 0;

  constructor(private readonly units: Array<{ table: string; bytes: number }>, private readonly step: StepHandle) {
    for (const u of units) this.remaining.set(u.table, (this.remaining.get(u.table) ?? 0) + 1);
  }

  bytes = (n: number): void => {
    this.copied += n;
    this.report();
  };

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
    this.report(true);
    return left === 0 ? t : undefined;
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
    this.step.update(`${this.unitsDone}/${this.units.length} units, ${formatBytes(this.copied)} of ~${formatBytes(total)}, ${formatBytes(rate)}/s, ETA ${eta.toFixed(0)} s`, {
      current: this.copied, total: Math.max(total, this.copied), unit: 'bytes',
    });
  }
}

const formatClause = (format: CopyFormat): string => (format === 'binary' ? '(FORMAT binary)' : '');

function copyOutSql(unit: CopyUnit, format: CopyFormat): string {
  const t = unit.table;
  const cols = t.columns.join(', ');
  return unit.where
    ? `COPY (SELECT ${cols} FROM ONLY ${t.qualified} WHERE ${unit.where}) TO STDOUT ${formatClause(format)}`
    : `COPY ${t.qualified} (${cols}) TO STDOUT ${formatClause(format)}`;
}

const copyInSql = (t: TablePlan, format: CopyFormat): string => `COPY ${t.qualified} (${t.columns.join(', ')}) FROM STDIN ${formatClause(format)}`;

/** One target transaction: optionally empty the table, COPY the stream in, commit. */
async function loadInto(
  tgt: pg.Client, table: TablePlan, format: CopyFormat, truncate: boolean, what: string,
  feed: (sink: NodeJS.WritableStream) => Promise<void>, expectRows?: number,
): Promise<number> {
  await tgt.query('BEGIN');
  try {
    if (truncate) await tgt.query(`TRUNCATE ONLY ${table.qualified}`);
    const sink = tgt.query(copyFrom(copyInSql(table, format)));
    await feed(sink);
    const rows = Number(sink.rowCount ?? 0);
    if (expectRows !== undefined && rows !== expectRows) throw new Error(`loaded ${rows} rows where the dump holds ${expectRows}`);
    await tgt.query('COMMIT');
    return rows;
  } catch (error) {
    await tgt.query('ROLLBACK').catch(() => {});
    throw toQueryError(error, what);
  }
}

export interface CopyDataOptions {
  source: ConnectionInfo;
  target: ConnectionInfo;
  snapshot: string;
  format: CopyFormat;
  jobs: number;
  timeoutSeconds: number;
  journal: Journal;
  step: StepHandle;
  /** Tables to empty before their first unit (interrupted by a crash). */
  truncateFirst: Set<string>;
}

/** copy: source → target for every unit; per-table totals once all are committed. */
export async function copyUnits(units: CopyUnit[], options: CopyDataOptions): Promise<TableCopyResult[]> {
  const progress = new DataProgress(units.map((u) => ({ table: u.table.display, bytes: u.bytes })), options.step);
  const truncated = new Set<string>();
  const open = async (): Promise<{ src: pg.Client; tgt: pg.Client }> => {
    const src = await connect(options.source, { role: 'source', timeoutSeconds: options.timeoutSeconds, applicationName: 'offramp-copy' });
    const tgt = await connect(options.target, { role: 'target', timeoutSeconds: options.timeoutSeconds, applicationName: 'offramp-copy' }).catch(async (e) => {
      await src.end();
      throw e;
    });
    await importSnapshot(src, options.snapshot);
    return { src, tgt };
  };
  await runPool(units, options.jobs, open, async ({ src, tgt }, unit) => {
    const key = unit.table.display;
    // A table is emptied once, before its first unit: a unit never truncates another unit's rows.
    const truncate = options.truncateFirst.has(key) && !truncated.has(key);
    if (truncate) truncated.add(key);
    const started = performance.now();
    const counter = new ByteCounter(progress.bytes);
    const rows = await loadInto(tgt, unit.table, options.format, truncate, `copy ${unit.id}`, (sink) =>
      pipeline(src.query(copyTo(copyOutSql(unit, options.format))), counter, sink));
    options.journal.append({ type: 'unit-done', unit: unit.id, table: key, rows, bytes: counter.bytes });
    const tableDone = progress.unitDone(key, rows, counter.bytes, (performance.now() - started) / 1000);
    if (tableDone) options.journal.append({ type: 'table-done', table: key, rows: tableDone.rows });
  }, async ({ src, tgt }) => {
    await src.query('ROLLBACK').catch(() => {});
    await Promise.all([src.end(), tgt.end()]);
  });
  return progress.results();
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
export async function dumpUnits(units: Array<CopyUnit & { file: string }>, dir: string, options: Omit<CopyDataOptions, 'target' | 'journal' | 'truncateFirst'>): Promise<DumpedUnit[]> {
  const progress = new DataProgress(units.map((u) => ({ table: u.table.display, bytes: u.bytes })), options.step);
  const dumped: DumpedUnit[] = [];
  const open = async (): Promise<pg.Client> => {
    const src = await connect(options.source, { role: 'source', timeoutSeconds: options.timeoutSeconds, applicationName: 'offramp-dump' });
    await importSnapshot(src, options.snapshot);
    return src;
  };
  await runPool(units, options.jobs, open, async (src, unit) => {
    const started = performance.now();
    const counter = new ByteCounter(progress.bytes);
    const hash = new Sha256Stream();
    const out = src.query(copyTo(copyOutSql(unit, options.format)));
    try {
      await pipeline(out, counter, createGzip({ level: 1 }), hash, createWriteStream(`${dir}/${unit.file}`));
    } catch (error) {
      throw toQueryError(error, `dump ${unit.id}`);
    }
    const rows = Number(out.rowCount ?? 0);
    dumped.push({ id: unit.id, table: unit.table.display, file: unit.file, rows, bytes: counter.bytes, sha256: hash.digest(), fileBytes: hash.bytes });
    progress.unitDone(unit.table.display, rows, counter.bytes, (performance.now() - started) / 1000);
  }, async (src) => {
    await src.query('ROLLBACK').catch(() => {});
    await src.end();
  });
  return dumped;
}

/** restore: gzip file → target per unit; the row count must match what the dump wrote. */
export async function loadFiles(
  files: Array<{ id: string; table: TablePlan; path: string; rows: number; bytes: number }>,
  options: { target: ConnectionInfo; format: CopyFormat; jobs: number; timeoutSeconds: number; step: StepHandle },
): Promise<TableCopyResult[]> {
  const progress = new DataProgress(files.map((f) => ({ table: f.table.display, bytes: f.bytes })), options.step);
  await runPool(files, options.jobs,
    () => connect(options.target, { role: 'target', timeoutSeconds: options.timeoutSeconds, applicationName: 'offramp-restore' }),
    async (tgt, f) => {
      const started = performance.now();
      const counter = new ByteCounter(progress.bytes);
      const rows = await loadInto(tgt, f.table, options.format, false, `restore ${f.id}`, (sink) =>
        pipeline(createReadStream(f.path), createGunzip(), counter, sink), f.rows);
      progress.unitDone(f.table.display, rows, counter.bytes, (performance.now() - started) / 1000);
    },
    (tgt) => tgt.end());
  return progress.results();
}
