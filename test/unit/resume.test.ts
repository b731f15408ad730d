import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, journalState, type JournalSelection } from '../../src/core/move/journal.js';
import { refuseDifferentCopy, replacementFor, selectionDifferences, selectionOf } from '../../src/core/move/resume.js';
import { UsageError } from '../../src/errors.js';

const base: JournalSelection = selectionOf({
  schemas: ['app', 'public'], excludeSchemas: [], excludeTables: ['public.audit'], platform: 'auto', extensionsSchema: 'extensions', ownerMap: { postgres: 'app_owner' },
});

function journalWith(records: Parameters<Journal['append']>[0][]): ReturnType<typeof journalState> {
  const path = join(mkdtempSync(join(tmpdir(), 'offramp-journal-')), 'copy.journal.ndjson');
  const j = Journal.open(path);
  for (const r of records) j.append(r);
  j.close();
  return journalState(Journal.read(path));
}

const start = (extra: object = {}) => ({
  type: 'start' as const, version: 'test', snapshot: 's1', source: 'postgresql://u:****@h/db', target: 'postgresql://u:****@t/db',
  plan: { tables: ['app.a'], units: 1 }, sourceIdentity: 'sys/1', selection: base, replace: { yes: true, clean: [{ type: 'TABLE', schema: 'app', name: 'a' }] }, ...extra,
});

describe('what a resume must match', () => {
  it('the same selection in another order is the same selection', () => {
    expect(selectionDifferences(base, { ...base, schemas: ['public', 'app'] })).toEqual([]);
  });

  it('names each option that differs, with both values', () => {
    const now = { ...base, excludeTables: [], platform: 'postgres', ownerMap: {} };
    expect(selectionDifferences(base, now)).toEqual([
      '--exclude-table: public.audit (interrupted copy) ≠ (none) (this run)',
      '--platform: auto (interrupted copy) ≠ postgres (this run)',
      '--owner-map: postgres=app_owner (interrupted copy) ≠ (none) (this run)',
    ]);
  });

  it('refuses another source database or another selection with a usage error (exit 2)', () => {
    const state = journalWith([start()]);
    expect(() => refuseDifferentCopy(state, 'sys/1', base)).not.toThrow();
    expect(() => refuseDifferentCopy(state, 'sys/2', base)).toThrow(/not the database the interrupted copy read/);
    const thrown = ((): unknown => {
      try {
        refuseDifferentCopy(state, 'sys/1', { ...base, schemas: ['app'] });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as UsageError).exitCode).toBe(2);
    expect((thrown as UsageError).message).toContain('--schema: app, public (interrupted copy) ≠ app (this run)');
  });

  it('a journal from before these were recorded is not refused', () => {
    const state = journalWith([start({ sourceIdentity: undefined, selection: undefined, replace: undefined })]);
    expect(() => refuseDifferentCopy(state, 'anything', { ...base, schemas: [] })).not.toThrow();
    expect(replacementFor(state, { yes: true })).toEqual({ yes: false });
  });
});

describe('what a resume replaces before pre-data', () => {
  it('a fresh run: what its flags ask for', () => {
    expect(replacementFor(undefined, { yes: true, clean: [{ type: 'TABLE', schema: 'app', name: 'a' }] })).toEqual({ yes: true, clean: [{ type: 'TABLE', schema: 'app', name: 'a' }] });
  });

  it('pre-data never committed: the interrupted run\'s replacement, whatever this run\'s flags say', () => {
    expect(replacementFor(journalWith([start()]), { yes: false })).toEqual({ yes: true, clean: [{ type: 'TABLE', schema: 'app', name: 'a' }] });
  });

  it('pre-data committed: nothing is replaced again', () => {
    expect(replacementFor(journalWith([start(), { type: 'phase-done', phase: 'pre-data' }]), { yes: true })).toEqual({ yes: false });
  });

  it('a resume that had to take a new snapshot makes every later resume inconsistent too', () => {
    const state = journalWith([start(), { type: 'resume', snapshot: 's2', consistent: false }, { type: 'resume', snapshot: 's3', consistent: true }]);
    expect(state).toMatchObject({ snapshot: 's3', consistent: false });
  });
});
