/**
 * The copy journal: an append-only NDJSON file in the work directory, fsynced after every record,
 * so that after a crash or a kill -9 `--resume` knows which tables finished. A table is done only
 * when its `table-done` record is on disk; anything started but not done is emptied and copied
 * again. The `start` record also keeps what a resume must match (the source's identity, the
 * selection) and redo (the replacement before pre-data). Records never contain connection URLs
 * (only masked ones) or row values.
 */
import { closeSync, existsSync, fsyncSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../../errors.js';
import { redactDeep } from '../../secrets.js';
import { makePrivateDir, openPrivateAppend } from './private-files.js';
import type { PlannedObject } from './replace.js';
import type { DeferredObject } from './apply-schema.js';

/** What a copy was asked to copy; `--resume` must be asked for exactly the same. */
export interface JournalSelection {
  schemas: string[];
  excludeSchemas: string[];
  excludeTables: string[];
  platform: string;
  extensionsSchema: string;
  ownerMap: Record<string, string>;
}

/**
 * What a copy replaces on the target before pre-data (--yes / --clean) and the replacement step's
 * input: a resume that finds pre-data unfinished (its transaction rolled back) replaces the same.
 */
export interface JournalReplacement {
  yes: boolean;
  /** --clean: the objects the earlier copy created (its journal is set aside when this run starts). */
  clean?: PlannedObject[];
}

export interface StartRecord {
  type: 'start';
  version: string;
  snapshot: string;
  source: string;
  target: string;
  plan: { tables: string[]; units: number };
  /** databaseIdentity() of the source (journals written before it was recorded lack it). */
  sourceIdentity?: string;
  selection?: JournalSelection;
  replace?: JournalReplacement;
  /** What this copy creates (and, with --clean, what the earlier one had): a later --clean drops these. */
  objects?: PlannedObject[];
}

export type JournalRecord =
  | StartRecord
  | { type: 'resume'; snapshot: string | null; consistent: boolean }
  /** What pre-data deferred (written just before its phase-done): a resume lists it again. */
  | { type: 'pre-data-deferred'; objects: DeferredObject[] }
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
  start?: StartRecord;
  /** The snapshot of the latest run (the start or the last resume). */
  snapshot?: string;
  /** false once any earlier resume had to take a new snapshot. */
  consistent: boolean;
  phasesDone: Set<string>;
  tablesDone: Map<string, number>;
  preDataDeferred: DeferredObject[];
}

export function journalState(records: StampedRecord[]): JournalState {
  const state: JournalState = { started: false, finished: false, consistent: true, phasesDone: new Set(), tablesDone: new Map(), preDataDeferred: [] };
  for (const r of records) {
    if (r.type === 'start') {
      state.started = true;
      state.start = r;
      state.snapshot = r.snapshot;
    } else if (r.type === 'resume') {
      state.snapshot = r.snapshot ?? undefined;
      state.consistent &&= r.consistent;
    } else if (r.type === 'pre-data-deferred') state.preDataDeferred = r.objects;
    else if (r.type === 'phase-done') state.phasesDone.add(r.phase);
    else if (r.type === 'table-done') state.tablesDone.set(r.table, r.rows);
    else if (r.type === 'finished') state.finished = r.ok;
  }
  return state;
}
