/**
 * Independent proof that a write path delivered: the target's tables and schema objects compared
 * with the source's by querying both servers (move-helpers), never by trusting the tool's report.
 */
import { expect } from 'vitest';
import { schemaFingerprint, tableStates } from './move-helpers.js';

/**
 * Every table of `schemas` holds the same rows on both sides, and every schema object of the
 * source is on the target except the lines `deferrable` accepts (what the tool reports as
 * deferred: foreign keys to auth/storage, policies calling auth.*); the target has nothing extra.
 */
export async function expectSameContents(sourceUrl: string, targetUrl: string, schemas: string[],
  deferrable: (line: string) => boolean = () => false): Promise<void> {
  const [want, got] = await Promise.all([tableStates(sourceUrl, schemas), tableStates(targetUrl, schemas)]);
  expect(Object.keys(want).length).toBeGreaterThan(0);
  expect(got).toEqual(want);
  const [wantSchema, gotSchema] = await Promise.all([schemaFingerprint(sourceUrl, schemas), schemaFingerprint(targetUrl, schemas)]);
  expect(gotSchema.filter((l) => !wantSchema.includes(l))).toEqual([]);
  expect(wantSchema.filter((l) => !gotSchema.includes(l) && !deferrable(l))).toEqual([]);
}

/** The objects a Supabase project's copy defers on a target without the auth stage: FKs into auth/storage, policies. */
export function deferredOnPlainTarget(names: string[]): (line: string) => boolean {
  return (line) => /^(constraint .* REFERENCES (auth|storage)\.|policy )/.test(line) && names.some((n) => line.includes(` ${n} `));
}
