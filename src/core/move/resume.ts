/**
 * What `copy --resume` must match and what it redoes. A resume finishes the interrupted copy, so
 * it must read the same database (compared by identity, whatever URL reaches it) and copy the
 * same selection; otherwise "finished tables are kept" would keep tables of another copy. When the
 * interrupted run's pre-data never committed (one transaction, rolled back by the kill), the
 * resume runs that run's replacement step (--yes / --clean) again with the inputs it recorded.
 */
import { UsageError } from '../../errors.js';
import type { JournalReplacement, JournalSelection, JournalState } from './journal.js';

export interface SelectionOptions {
  schemas: string[];
  excludeSchemas: string[];
  excludeTables: string[];
  platform: string;
  extensionsSchema: string;
  ownerMap: Record<string, string>;
}

export function selectionOf(o: SelectionOptions): JournalSelection {
  return {
    schemas: [...o.schemas], excludeSchemas: [...o.excludeSchemas], excludeTables: [...o.excludeTables],
    platform: o.platform, extensionsSchema: o.extensionsSchema, ownerMap: { ...o.ownerMap },
  };
}

const FLAGS: Record<keyof JournalSelection, string> = {
  schemas: '--schema', excludeSchemas: '--exclude-schema', excludeTables: '--exclude-table',
  platform: '--platform', extensionsSchema: '--extensions-schema', ownerMap: '--owner-map',
};

/** A comparable, readable form: order of repeated flags does not change what is copied. */
function shown(value: JournalSelection[keyof JournalSelection]): string {
  if (Array.isArray(value)) return value.length > 0 ? [...value].sort().join(', ') : '(none)';
  if (typeof value === 'object') {
    const pairs = Object.entries(value).map(([from, to]) => `${from}=${to}`).sort();
    return pairs.length > 0 ? pairs.join(', ') : '(none)';
  }
  return value;
}

/** One line per selection option that differs: "--schema: app (interrupted copy) ≠ (none) (now)". */
export function selectionDifferences(recorded: JournalSelection, now: JournalSelection): string[] {
  return (Object.keys(FLAGS) as Array<keyof JournalSelection>)
    .filter((k) => shown(recorded[k]) !== shown(now[k]))
    .map((k) => `${FLAGS[k]}: ${shown(recorded[k])} (interrupted copy) ≠ ${shown(now[k])} (this run)`);
}

/** Refuse (exit 2) a resume that would finish a different copy than the journal's. */
export function refuseDifferentCopy(previous: JournalState, sourceIdentity: string, selection: JournalSelection): void {
  const start = previous.start;
  if (!start) return;
  if (start.sourceIdentity !== undefined && start.sourceIdentity !== sourceIdentity) {
    throw new UsageError(`--resume refused: the source is not the database the interrupted copy read (${start.source})`, {
      hint: 'point --source at the database of the interrupted copy (another host name for it is fine), or start over with --yes; nothing was changed',
    });
  }
  const differences = start.selection ? selectionDifferences(start.selection, selection) : [];
  if (differences.length > 0) {
    throw new UsageError(`--resume refused: this run selects differently from the interrupted copy\n  ${differences.join('\n  ')}`, {
      hint: 'repeat the interrupted copy\'s selection flags with --resume, or start over with --yes; nothing was changed',
    });
  }
}

/**
 * The replacement the pre-data step must do. A fresh run: what its flags ask for. A resume whose
 * pre-data committed: nothing. A resume whose pre-data did not: the interrupted run's, unchanged.
 */
export function replacementFor(previous: JournalState | undefined, fresh: JournalReplacement): JournalReplacement {
  if (!previous) return fresh;
  if (previous.phasesDone.has('pre-data')) return { yes: false };
  return previous.start?.replace ?? { yes: false };
}
