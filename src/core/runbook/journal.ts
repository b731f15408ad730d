/**
 * The cutover/rollback journal: append-only JSON lines, fsynced after every record, in a 0700 work
 * directory with the file 0600. It is the memory of a run: what started, passed (with evidence and
 * the step's undo), failed, was skipped, and who confirmed what. A killed run resumes from it.
 * Every record passes through redactDeep: evidence never carries a registered secret.
 */
import { chmodSync, closeSync, existsSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../../errors.js';
import { redactDeep } from '../../secrets.js';
import type { StepKind, UndoSpec } from './schema.js';

export type Evidence = Record<string, unknown>;

export type RunbookRecord =
  | { type: 'run-start'; runbook: string; file: string; sha256: string; operator: string; dryRun: boolean; from?: string; rerun: boolean; vars: Record<string, string>; basis?: number; /** Why the run was started when not by a person's own decision (watch: the trigger that fired). */ cause?: string }
  | { type: 'step-started'; step: string; phase: string; kind: StepKind; title: string; attempt: number }
  | { type: 'step-passed'; step: string; phase: string; kind: StepKind; title: string; attempt: number; durationMs: number; detail: string; evidence: Evidence; undo?: UndoSpec }
  | { type: 'step-failed'; step: string; phase: string; kind: StepKind; title: string; attempt: number; durationMs: number; detail: string; evidence?: Evidence; final: boolean }
  /** Evidence written before a step acts (dns-update: the record set before the change), so a crash mid-step loses nothing. */
  | { type: 'step-note'; step: string; evidence: Evidence }
  | { type: 'step-skipped'; step: string; phase: string; title: string; reason: string }
  | { type: 'confirmed'; step: string; by: string; via: 'prompt' | '--confirmed' }
  | { type: 'undo-started'; step: string; kind: string; of: string }
  | { type: 'undo-passed'; step: string; kind: string; of: string; detail: string; evidence: Evidence }
  | { type: 'undo-failed'; step: string; kind: string; of: string; detail: string }
  | { type: 'run-finished'; ok: boolean; stoppedAt?: string; reason?: string };

export type StampedRunbookRecord = RunbookRecord & { at: string; run: number };

/** Make the work directory private (0700): journals and reports describe production. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

export class RunbookJournal {
  private constructor(readonly path: string, private readonly fd: number, readonly run: number, private readonly now: () => number) {}

  /** Open for appending as run number (previous runs + 1). */
  static open(path: string, now: () => number = Date.now): RunbookJournal {
    privateDir(dirname(path));
    const previous = RunbookJournal.read(path).filter((r) => r.type === 'run-start').length;
    const fd = openSync(path, 'a', 0o600);
    fchmodSync(fd, 0o600);
    return new RunbookJournal(path, fd, previous + 1, now);
  }

  append(record: RunbookRecord): StampedRunbookRecord {
    const stamped = redactDeep({ ...record, at: new Date(this.now()).toISOString(), run: this.run });
    writeSync(this.fd, `${JSON.stringify(stamped)}\n`);
    fsyncSync(this.fd);
    return stamped;
  }

  close(): void {
    closeSync(this.fd);
  }

  /** Every complete record; a torn last line (killed mid-write) is ignored. */
  static read(path: string): StampedRunbookRecord[] {
    if (!existsSync(path)) return [];
    const lines = readFileSync(path, 'utf8').split('\n');
    const records: StampedRunbookRecord[] = [];
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line) as StampedRunbookRecord);
      } catch {
        if (i < lines.length - 2) throw new UsageError(`the journal ${path} is corrupt at line ${i + 1}`, { hint: 'move it aside to start over; it is the record of what ran, keep a copy' });
      }
    }
    return records;
  }
}

export type PassedRecord = Extract<StampedRunbookRecord, { type: 'step-passed' }>;

/** The latest pass of every step (a failure or a rerun start after it does not erase it: it did happen). */
export function passedSteps(records: StampedRunbookRecord[]): Map<string, PassedRecord> {
  const passed = new Map<string, PassedRecord>();
  for (const r of records) if (r.type === 'step-passed') passed.set(r.step, r);
  return passed;
}

/** Notes a step wrote since it last passed (all of them when it never passed): what an interrupted attempt saw. */
export function notesSinceLastPass(records: StampedRunbookRecord[], step: string): Evidence[] {
  let lastPass = -1;
  records.forEach((r, i) => {
    if (r.type === 'step-passed' && r.step === step) lastPass = i;
  });
  return records.slice(lastPass + 1).filter((r): r is Extract<StampedRunbookRecord, { type: 'step-note' }> => r.type === 'step-note' && r.step === step).map((r) => r.evidence);
}
