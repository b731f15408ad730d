/**
 * The copy journal: an append-only NDJSON file in the work directory, fsynced after every record,
 * so that after a crash or a kill -9 `--resume` knows which tables finished. A table is done only
 * when its `table-done` record is on disk; anything started but not done is truncated and copied
 * again. Records never contain connection URLs (only masked ones) or row values.
 */
import { closeSync, existsSync, fsyncSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../../errors.js';
import { redactDeep } from '../../secrets.js';
import { makePrivateDir, openPrivateAppend } from './private-files.js';
import type { PlannedObject } from './replace.js';

export type JournalRecord =
  | { type: 'start'; version: string; snapshot: string; source: string; target: string; plan: { tables: string[]; units: number }; objects?: PlannedObject[] }
  | { type: 'resume'; snapshot: string | null; consistent: boolean }
  | { type: 'phase-done'; phase: string }
  | { type: 'unit-done'; unit: string; table: string; rows: number; bytes: number }
  | { type: 'table-done'; table: string; rows: number }
  | { type: 'finished'; ok: boolean };

export type StampedRecord = JournalRecord & { at: string };

export class Journal {
  private fd: number;

  private constructor(readonly path: string, fd: number) {
    this.fd = fd;
  }

  /** Open for appending (creating the file 0600 and its directory 0700: it names tables and schemas). */
  static open(path: string): Journal {
    makePrivateDir(dirname(path));
    return new Journal(path, openPrivateAppend(path));
  }

  append(record: JournalRecord): void {
    const line = `${JSON.stringify(redactDeep({ ...record, at: new Date().toISOString() }))}\n`;
    writeSync(this.fd, line);
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Read every complete record; a torn last line (crash mid-write) is ignored. */
  static read(path: string): StampedRecord[] {
    if (!existsSync(path)) return [];
    const lines = readFileSync(path, 'utf8').split('\n');
    const records: StampedRecord[] = [];
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line) as StampedRecord);
      } catch {
        if (i < lines.length - 2) {
          throw new UsageError(`the journal ${path} is corrupt at line ${i + 1}`, { hint: 'start a fresh copy without --resume (add --yes to replace the target)' });
        }
      }
    }
    return records;
  }
}

/** What a journal says about a previous run. */
export interface JournalState {
  started: boolean;
  finished: boolean;
  snapshot?: string;
  phasesDone: Set<string>;
  tablesDone: Map<string, number>;
}

export function journalState(records: StampedRecord[]): JournalState {
  const state: JournalState = { started: false, finished: false, phasesDone: new Set(), tablesDone: new Map() };
  for (const r of records) {
    if (r.type === 'start') {
      state.started = true;
      state.snapshot = r.snapshot;
    } else if (r.type === 'phase-done') state.phasesDone.add(r.phase);
    else if (r.type === 'table-done') state.tablesDone.set(r.table, r.rows);
    else if (r.type === 'finished') state.finished = r.ok;
  }
  return state;
}
