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

/**
 * Whether a schema-fingerprint line (move-helpers) is one of the objects the tool reported as
 * deferred, matched by kind and name: constraints (FK and CHECK), policies, views, column defaults,
 * triggers, functions, indexes.
 */
export function explainedByDeferred(deferred: Array<{ type: string; name: string; schema: string | null }>): (line: string) => boolean {
  return (line) => deferred.some((d) => {
    const schema = d.schema ?? 'public';
    switch (d.type) {
      case 'FK CONSTRAINT':
      case 'CONSTRAINT':
        return line.startsWith('constraint ') && line.includes(` ${d.name.split(' ').pop()} `);
      case 'CHECK CONSTRAINT':
        return line.startsWith('constraint ') && line.includes(` ${d.name.slice(d.name.indexOf('.') + 1)} `);
      case 'POLICY':
        return line.startsWith(`policy ${schema}.${d.name} `);
      case 'VIEW': // the view and its columns (information_schema lists a view's columns too)
        return line.startsWith(`view ${schema}.${d.name} `) || line.startsWith(`column ${schema}.${d.name}.`);
      case 'DEFAULT':
        return line.startsWith(`default ${schema}.${d.name} `);
      case 'TRIGGER':
        return line.startsWith('trigger ') && line.includes(` ${d.name.split(' ').pop()} `);
      case 'FUNCTION':
        return line.startsWith(`function ${schema}.${d.name.split('(')[0]}(`);
      case 'INDEX':
        return line.startsWith('index ') && line.includes(` ${d.name} ON `);
      default:
        return false;
    }
  });
}
