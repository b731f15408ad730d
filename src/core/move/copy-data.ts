/**
 * The data phase: a pool of workers, each with one source connection (inside the shared
 * snapshot) and one target connection, streams copy units with COPY TO STDOUT → COPY FROM STDIN
 * through pg-copy-streams. Back-pressure comes from stream.pipeline, so no table is ever held in
 * memory. A unit commits on the target before the journal records it.
 */
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { connect } from '../../db/connect.js';
import { importSnapshot } from '../../db/snapshot.js';
import type { ConnectionInfo } from '../../db/url.js';
import { toQueryError } from '../../db/sql.js';
import type { StepHandle } from '../../output/progress.js';
import type { Journal } from './journal.js';
import type { CopyUnit } from './plan.js';

export type CopyFormat = 'binary' | 'text';

export interface CopyDataOptions {
  source: ConnectionInfo;
  target: ConnectionInfo;
  snapshot: string;
  format: CopyFormat;
  jobs: number;
  timeoutSeconds: number;
  journal: Journal;
  step: StepHandle;
  /** Tables that must be emptied before their first unit is copied (interrupted by a crash). */
  truncateFirst: Set<string>;
}

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

function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  return `${(n / 1024).toFixed(0)} kB`;
}

async function copyOneUnit(src: pg.Client, tgt: pg.Client, unit: CopyUnit, format: CopyFormat, truncate: boolean, onBytes: (n: number) => void): Promise<{ rows: number; bytes: number }> {
  const t = unit.table;
  const cols = t.columns.join(', ');
  const fmt = format === 'binary' ? '(FORMAT binary)' : '';
  const out = unit.where
    ? `COPY (SELECT ${cols} FROM ONLY ${t.qualified} WHERE ${unit.where}) TO STDOUT ${fmt}`
    : `COPY ${t.qualified} (${cols}) TO STDOUT ${fmt}`;
  const into = `COPY ${t.qualified} (${cols}) FROM STDIN ${fmt}`;
  await tgt.query('BEGIN');
  try {
    if (truncate) await tgt.query(`TRUNCATE ONLY ${t.qualified}`);
    const counter = new ByteCounter(onBytes);
    const sink = tgt.query(copyFrom(into));
    await pipeline(src.query(copyTo(out)), counter, sink);
    await tgt.query('COMMIT');
    return { rows: Number(sink.rowCount ?? 0), bytes: counter.bytes };
  } catch (error) {
    await tgt.query('ROLLBACK').catch(() => {});
    throw toQueryError(error, `copy ${unit.id}`);
  }
}

/** Copy every unit; resolves with per-table totals once all are committed. */
export async function copyUnits(units: CopyUnit[], options: CopyDataOptions): Promise<TableCopyResult[]> {
  const queue = [...units];
  const remainingUnits = new Map<string, number>();
  for (const u of units) remainingUnits.set(u.table.display, (remainingUnits.get(u.table.display) ?? 0) + 1);
  const totals = new Map<string, TableCopyResult>();
  const started = performance.now();
  const totalBytes = units.reduce((s, u) => s + u.bytes, 0);
  let copiedBytes = 0;
  let unitsDone = 0;
  let lastReport = 0;
  const report = (force = false): void => {
    const now = performance.now();
    if (!force && now - lastReport < 250) return;
    lastReport = now;
    const secs = (now - started) / 1000;
    const rate = copiedBytes / Math.max(secs, 0.001);
    const eta = rate > 0 ? Math.max(0, (totalBytes - copiedBytes) / rate) : 0;
    options.step.update(`${unitsDone}/${units.length} units, ${formatBytes(copiedBytes)} of ~${formatBytes(totalBytes)}, ${formatBytes(rate)}/s, ETA ${eta.toFixed(0)} s`, {
      current: copiedBytes,
      total: Math.max(totalBytes, copiedBytes),
      unit: 'bytes',
    });
  };
  // Tables emptied once, before the first of their units (a unit never truncates another's rows).
  const truncated = new Set<string>();
  let failure: unknown;

  const worker = async (): Promise<void> => {
    const src = await connect(options.source, { role: 'source', timeoutSeconds: options.timeoutSeconds, applicationName: 'offramp-copy' });
    const tgt = await connect(options.target, { role: 'target', timeoutSeconds: options.timeoutSeconds, applicationName: 'offramp-copy' });
    try {
      await importSnapshot(src, options.snapshot);
      for (let unit = queue.shift(); unit && !failure; unit = queue.shift()) {
        const key = unit.table.display;
        const truncate = options.truncateFirst.has(key) && !truncated.has(key);
        if (truncate) truncated.add(key);
        const unitStarted = performance.now();
        const { rows, bytes } = await copyOneUnit(src, tgt, unit, options.format, truncate, (n) => {
          copiedBytes += n;
          report();
        });
        options.journal.append({ type: 'unit-done', unit: unit.id, table: key, rows, bytes });
        const total = totals.get(key) ?? { table: key, rows: 0, bytes: 0, seconds: 0 };
        total.rows += rows;
        total.bytes += bytes;
        total.seconds += (performance.now() - unitStarted) / 1000;
        totals.set(key, total);
        unitsDone++;
        const left = remainingUnits.get(key)! - 1;
        remainingUnits.set(key, left);
        if (left === 0) options.journal.append({ type: 'table-done', table: key, rows: total.rows });
        report();
      }
    } catch (error) {
      failure ??= error;
    } finally {
      await src.query('ROLLBACK').catch(() => {});
      await Promise.all([src.end().catch(() => {}), tgt.end().catch(() => {})]);
    }
  };

  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.jobs, units.length)) }, worker));
  if (failure) throw failure;
  report(true);
  return [...totals.values()].map((t) => ({ ...t, seconds: Math.round(t.seconds * 100) / 100 }));
}
