/**
 * What `--yes` and `--clean` may drop on the target: exactly the objects this load creates (or,
 * for --clean, the earlier copy created) that are already there — never an extension or one of its
 * objects, never a schema, never anything else. Before anything is dropped, the catalog tells what
 * a DROP ... CASCADE of that set would take with it (sql/move/replace-closure.sql); when that
 * reaches an object outside the set (a view in another schema, a column of another table, a
 * foreign key, a trigger, a policy...) the load is refused and nothing is changed.
 *
 * Everything here is a function of (planned objects, target catalog, yes, the earlier copy's
 * objects), so it can be decided before the journal is opened and decided again inside the
 * pre-data transaction, or by a resumed run whose pre-data never committed.
 */
import { scan } from 'libpg-query';
import type pg from 'pg';
import { loadSql, query } from '../../db/sql.js';
import { ConfirmationRequiredError, UsageError } from '../../errors.js';
import type { DumpEntry } from './dump-sql.js';
import { existingUserTables } from './target-prep.js';

/** A schema object a load creates, as pg_dump's entry header names it ("fn(integer, text)" for functions). */
export interface PlannedObject {
  type: string;
  schema: string;
  name: string;
}

/** Entry types that create a schema-level object the target may already hold under the same name. */
const ROUTINE_TYPES = new Set(['FUNCTION', 'PROCEDURE', 'AGGREGATE']);
const CREATING_TYPES = new Set(['TABLE', 'VIEW', 'MATERIALIZED VIEW', 'SEQUENCE', 'FOREIGN TABLE', 'TYPE', 'DOMAIN', 'FUNCTION', 'PROCEDURE', 'AGGREGATE']);

/**
 * The objects pre-data entries create. `rewrite` is the load's --extensions-schema relocation: a
 * function's name carries its argument types ("near(\"extensions\".\"geography\")"), which
 * name the relocated schema on the target.
 */
export function plannedObjects(entries: DumpEntry[], rewrite: (sql: string) => string = (s) => s): PlannedObject[] {
  return entries.filter((e) => CREATING_TYPES.has(e.type) && e.schema !== null).map((e) => ({ type: e.type, schema: e.schema!, name: ROUTINE_TYPES.has(e.type) ? rewrite(e.name) : e.name }));
}

/** A journal of an offramp version that recorded only table names ("schema.name"). */
export function plannedFromTableNames(tables: string[]): PlannedObject[] {
  return tables.map((t) => {
    const dot = t.indexOf('.');
    return { type: 'TABLE', schema: t.slice(0, dot), name: t.slice(dot + 1) };
  });
}

/** An object on the target, as pg_identify_object names it. */
export interface TargetObject {
  classid: string;
  objid: string;
  type: string;
  identity: string;
  extension: string | null;
  /** An internal part of another object (an identity sequence): it goes with its owner, never alone. */
  internal: boolean;
  /** Created again by this load (false: --clean drops it because the earlier copy made it, and no more). */
  recreated?: boolean;
}

export const describeObject = (o: Pick<TargetObject, 'type' | 'identity'>): string => `${o.type} ${o.identity}`;

/**
 * A routine's header name, "name(type, type)", as name and argument types. The list is split with
 * PostgreSQL's own lexer, so commas inside quoted type names stay where they belong.
 */
export async function splitRoutineName(tag: string): Promise<{ name: string; args: string[] } | undefined> {
  const open = tag.indexOf('(');
  if (open < 0 || !tag.endsWith(')')) return undefined;
  const inner = tag.slice(open + 1, -1);
  if (inner.trim() === '*' || inner.trim() === '') return { name: tag.slice(0, open), args: [] };
  const args: string[] = [];
  let depth = 0;
  let from = 0;
  for (const token of (await scan(inner)).tokens) {
    if (token.text === '(' || token.text === '[') depth++;
    else if (token.text === ')' || token.text === ']') depth--;
    else if (token.text === ',' && depth === 0) {
      args.push(inner.slice(from, token.start).trim());
      from = token.end;
    }
  }
  args.push(inner.slice(from).trim());
  return { name: tag.slice(0, open), args };
}

export async function resolveOnTarget(client: pg.ClientBase, objects: PlannedObject[]): Promise<TargetObject[]> {
  if (objects.length === 0) return [];
  const others = objects.filter((o) => !ROUTINE_TYPES.has(o.type));
  const routines: Array<{ schema: string; name: string; args: string[] }> = [];
  for (const o of objects.filter((x) => ROUTINE_TYPES.has(x.type))) {
    const split = await splitRoutineName(o.name);
    if (split) routines.push({ schema: o.schema, ...split });
  }
  return query<TargetObject>(client, loadSql('move/replace-resolve.sql'),
    [others.map((o) => o.type), others.map((o) => o.schema), others.map((o) => o.name), JSON.stringify(routines)],
    'find the objects the load would create again');
}

/** What dropping these objects with CASCADE would destroy besides them (empty: the drops stay inside). */
export async function lostWith(client: pg.ClientBase, objects: TargetObject[]): Promise<string[]> {
  if (objects.length === 0) return [];
  const rows = await query<{ object: string }>(client, loadSql('move/replace-closure.sql'), [objects.map((o) => o.classid), objects.map((o) => o.objid)], 'find what dropping them would take along');
  return rows.map((r) => r.object);
}

export interface ReplacementInput {
  /** What this load creates (from its pre-data entries). */
  planned: PlannedObject[];
  /** --yes: replace the planned objects the target already has. */
  yes: boolean;
  /** --clean: what the earlier offramp copy into this target created (from its journal). */
  clean?: PlannedObject[];
  database: string;
  /** copy offers --clean; restore does not. */
  canClean: boolean;
}

const list = (names: string[]): string => names.join(', ');
const same = (a: TargetObject, b: TargetObject): boolean => a.classid === b.classid && a.objid === b.objid;

/**
 * Decide what to drop, or refuse (exit 2) naming every object concerned. Only reads the catalog.
 * Returns the objects to replace (dropped, then created again by the load).
 */
export async function planReplacement(client: pg.ClientBase, input: ReplacementInput): Promise<TargetObject[]> {
  const existing = await resolveOnTarget(client, input.planned);
  let replace: TargetObject[];
  if (input.clean) {
    const earlier = await resolveOnTarget(client, input.clean);
    const notOurs = existing.filter((o) => !earlier.some((e) => same(e, o)));
    if (notOurs.length > 0 && !input.yes) {
      throw new ConfirmationRequiredError(`the target database "${input.database}" holds ${notOurs.length} object${notOurs.length > 1 ? 's' : ''} this copy creates that the earlier offramp copy did not: ${list(notOurs.map(describeObject))}`, {
        hint: 'add --yes to replace them as well (drop and create again), or drop them yourself; nothing was changed',
      });
    }
    replace = [...earlier.map((o) => ({ ...o, recreated: existing.some((e) => same(e, o)) })), ...notOurs.map((o) => ({ ...o, recreated: true }))];
  } else if (input.yes) {
    replace = existing.map((o) => ({ ...o, recreated: true }));
  } else {
    const tables = await existingUserTables(client);
    if (existing.length > 0) {
      throw new ConfirmationRequiredError(`the target database "${input.database}" already holds ${existing.length} object${existing.length > 1 ? 's' : ''} this load creates: ${list(existing.map(describeObject))}`, {
        hint: `add --yes to replace exactly these (drop and create again; nothing else on the target is dropped)${input.canClean ? ', --clean to drop what an earlier offramp copy loaded' : ''}, or use an empty database; nothing was changed`,
      });
    }
    if (tables.length > 0) {
      const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? `, … (${tables.length} in all)` : '');
      throw new ConfirmationRequiredError(`the target database "${input.database}" is not empty (${shown}); nothing there has the name of an object this load creates`, {
        hint: 'add --yes to load beside what is there (none of it is dropped), or use an empty database; nothing was changed',
      });
    }
    replace = [];
  }
  const owned = replace.filter((o) => o.extension);
  if (owned.length > 0) {
    throw new UsageError(`refused: ${list(owned.map((o) => `${describeObject(o)} (extension ${o.extension})`))} would have to be replaced, but belongs to an extension on the target; offramp never drops an extension or its objects`, {
      hint: 'rename or drop the conflicting object on the source side of the move, or load into a database without it; nothing was changed',
    });
  }
  const lost = await lostWith(client, replace);
  if (lost.length > 0) {
    throw new UsageError(`refused: replacing ${list(replace.map(describeObject))} would also destroy ${lost.length} object${lost.length > 1 ? 's' : ''} this load does not create: ${list(lost)}`, {
      hint: 'drop or change those objects yourself if they may go, or load into another database; nothing was changed',
    });
  }
  return replace;
}

const DROP_ORDER = ['table', 'foreign table', 'materialized view', 'view', 'sequence', 'function', 'procedure', 'aggregate', 'type', 'composite type', 'domain'];

function dropStatement(o: TargetObject): string {
  const kind = o.type === 'composite type' ? 'TYPE' : o.type.toUpperCase();
  // pg_identify_object names an aggregate over * with "()", which DROP AGGREGATE does not take.
  const identity = o.type === 'aggregate' && o.identity.endsWith('()') ? `${o.identity.slice(0, -2)}(*)` : o.identity;
  // CASCADE only after lostWith proved that it stays inside the replaced set.
  return `DROP ${kind} IF EXISTS ${identity} CASCADE`;
}

/**
 * Inside the pre-data transaction: decide again (the catalog is read in the same transaction as
 * the drops), check it is what the user confirmed, and drop. Returns the names of the objects
 * dropped to be created again (replaced) and of those --clean dropped for good (cleaned).
 */
export async function replaceObjects(client: pg.ClientBase, input: ReplacementInput, confirmed: string[]): Promise<{ replaced: string[]; cleaned: string[] }> {
  const replace = await planReplacement(client, input);
  const now = replace.map(describeObject).sort();
  const expected = [...confirmed].sort();
  if (now.join('\n') !== expected.join('\n')) {
    throw new UsageError('the target changed while offramp was preparing the load: the objects to replace are no longer the ones checked', {
      hint: 'run the command again; nothing was changed',
      detail: `checked: ${list(expected)}\nnow: ${list(now)}`,
    });
  }
  const order = (o: TargetObject): number => DROP_ORDER.indexOf(o.type) >>> 0;
  for (const o of [...replace].filter((x) => !x.internal).sort((a, b) => order(a) - order(b))) await client.query(dropStatement(o));
  const names = (recreated: boolean): string[] => replace.filter((o) => Boolean(o.recreated) === recreated).map(describeObject).sort();
  return { replaced: names(true), cleaned: names(false) };
}
