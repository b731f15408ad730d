/**
 * Schema diff: both catalogs read into (category, object, owner, attributes) rows by
 * sql/validate/schema-objects.sql, compared here. Each difference gets a severity: `fail`,
 * `warn`, or `expected` (with the reason) for what the migration does on purpose — Supabase's
 * managed schemas and platform-only extensions left behind, owners mapped, grants to platform
 * roles the target does not have. Every category is one check of the shared check registry, so
 * reports and CI see one verdict per category.
 */
import { runChecks, type Check, type CheckOutcome } from '../../checks/types.js';
import { loadSql } from '../../db/sql.js';
import type { Progress } from '../../output/progress.js';
import { PLATFORM_ONLY_EXTENSIONS, isPlatformOnlyExtension, isPlatformRole } from '../supabase/platform.js';
import type { Side } from './side.js';
import type { PlatformKind, SchemaDifference, SchemaReport, SchemaSeverity } from './types.js';

export interface SchemaObject {
  category: string;
  object: string;
  owner: string | null;
  attrs: Record<string, unknown>;
}

export const SCHEMA_CATEGORIES: ReadonlyArray<{ id: string; title: string }> = [
  { id: 'schemas', title: 'schemas' },
  { id: 'tables', title: 'tables (kind, persistence, partitioning)' },
  { id: 'columns', title: 'columns (type, nullability, default, generated, identity)' },
  { id: 'constraints', title: 'constraints' },
  { id: 'indexes', title: 'indexes' },
  { id: 'sequences', title: 'sequences (definition and last value)' },
  { id: 'views', title: 'views and materialized views' },
  { id: 'functions', title: 'functions (signature and body hash)' },
  { id: 'types', title: 'types (enums, domains, composites, ranges)' },
  { id: 'triggers', title: 'triggers' },
  { id: 'policies', title: 'RLS policies' },
  { id: 'rls', title: 'RLS flags' },
  { id: 'extensions', title: 'extensions and versions' },
  { id: 'grants', title: 'grants' },
  { id: 'owners', title: 'owners' },
];

/** New objects on the target that do not change how the compared objects behave: a warning only. */
const EXTRA_IS_WARNING = new Set(['schemas', 'tables', 'views', 'functions', 'sequences', 'types', 'extensions']);
/** Categories whose objects hang off a table named at the start of the object name. */
const TABLE_CHILDREN = new Set(['columns', 'constraints', 'triggers', 'policies', 'rls']);

/**
 * leftOut: schemas not compared; only: schemas compared (empty: all others); translated: left-out
 * schemas whose dependents are judged `expected` when absent or changed on the target;
 * missingExtensions: extensions the target never gets (platform-only), judged the same way.
 */
export async function readSchema(side: Side, leftOut: string[], only: string[], translated: string[], missingExtensions: string[] = []): Promise<SchemaObject[]> {
  return side.query<SchemaObject>(loadSql('validate/schema-objects.sql'), [leftOut, only, translated, missingExtensions], 'read the schema');
}

export interface DiffRules {
  platform: PlatformKind;
  ownerMap: Record<string, string>;
  /** The target's connecting role: where unmapped owners end up. */
  targetUser: string;
  targetRoles: Set<string>;
}

function show(v: unknown): string {
  return v === null || v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v);
}

function grantKey(o: SchemaObject, map: Record<string, string>): string {
  const grantee = String(o.attrs.grantee);
  return `${o.object} to ${map[grantee] ?? grantee}: ${String(o.attrs.privilege)}`;
}

function index(objects: SchemaObject[], map: Record<string, string>): Map<string, SchemaObject> {
  return new Map(objects.map((o) => [`${o.category}\u0000${o.category === 'grants' ? grantKey(o, map) : o.object}`, o]));
}

/** The key of the object this one is attached to (a grant's object, an index's table or view). */
function parentKey(o: SchemaObject): string | undefined {
  const p = o.attrs._parent as [string, string] | null | undefined;
  return Array.isArray(p) ? `${p[0]}\u0000${p[1]}` : undefined;
}

/** Compare two schema snapshots. */
export function diffSchemas(source: SchemaObject[], target: SchemaObject[], rules: DiffRules): SchemaDifference[] {
  const src = index(source, rules.ownerMap);
  const tgt = index(target, {});
  const out: SchemaDifference[] = [];
  const missingTables = new Set<string>();
  for (const [k, o] of src) if (o.category === 'tables' && !tgt.has(k)) missingTables.add(o.object);
  const underMissingTable = (o: SchemaObject): boolean => {
    if (o.category === 'indexes') return missingTables.has(String(o.attrs._table));
    if (o.category === 'grants') return [...missingTables].some((t) => o.object === `table ${t}`);
    return TABLE_CHILDREN.has(o.category) && [...missingTables].some((t) => o.object === t || o.object.startsWith(`${t}.`));
  };
  const add = (o: SchemaObject, d: Omit<SchemaDifference, 'category' | 'object'>, objectName = o.object): void => {
    out.push({ category: o.category, object: objectName, ...d });
  };

  for (const [k, o] of src) {
    const name = o.category === 'grants' ? grantKey(o, rules.ownerMap) : o.object;
    const t = tgt.get(k);
    if (!t) {
      if (underMissingTable(o)) continue;
      // Attached to an object missing on the target: judged with it. Expected with it when it is
      // expected (the copy deferred it); otherwise the parent's own difference already fails.
      const parent = parentKey(o);
      const parentObject = parent !== undefined ? src.get(parent) : undefined;
      if (parent !== undefined && parentObject && !tgt.has(parent)) {
        const verdict = missingVerdict(parentObject, rules);
        if (verdict.severity !== 'expected') continue;
        add(o, { change: 'missing_on_target', severity: 'expected', reason: `belongs to ${parentObject.category.replace(/s$/, '')} ${parentObject.object}, missing with it: ${verdict.reason ?? 'expected'}` }, name);
        continue;
      }
      add(o, { change: 'missing_on_target', ...missingVerdict(o, rules) }, name);
      continue;
    }
    compareAttributes(o, t, name, out);
    compareOwner(o, t, rules, out);
  }
  for (const [k, o] of tgt) {
    if (src.has(k)) continue;
    const name = o.category === 'grants' ? grantKey(o, {}) : o.object;
    add(o, { change: 'extra_on_target', severity: EXTRA_IS_WARNING.has(o.category) ? 'warn' : 'fail' }, name);
  }
  return out;
}

/**
 * An object that depends on what stays behind: a left-behind schema (auth.uid(), auth.users,
 * storage.objects…) or a platform-only extension the target never gets (pgjwt's sign()).
 */
function translatedBy(o: SchemaObject): { severity: SchemaSeverity; reason: string } | undefined {
  const refs = o.attrs._refs as string[] | null | undefined;
  if (!refs?.length) return undefined;
  const extensions = refs.filter((r) => r.startsWith('extension ')).map((r) => r.slice('extension '.length));
  const schemas = refs.filter((r) => !r.startsWith('extension '));
  const reasons = [
    ...(schemas.length ? [`depends on ${schemas.join(', ')} (Supabase-managed, left behind): provided by the auth/RLS stage, not by the copy`] : []),
    ...extensions.map((e) => `depends on the platform-only extension ${e}${PLATFORM_ONLY_EXTENSIONS[e] ? ` (${PLATFORM_ONLY_EXTENSIONS[e]})` : ''}, which the target does not have: deferred by the copy`),
  ];
  return { severity: 'expected', reason: reasons.join('; ') };
}

function missingVerdict(o: SchemaObject, rules: DiffRules): { severity: SchemaSeverity; reason?: string } {
  const translated = translatedBy(o);
  if (translated) return translated;
  if (o.category === 'extensions') {
    if (rules.platform === 'supabase' && isPlatformOnlyExtension(o.object)) {
      return { severity: 'expected', reason: `platform-only extension: ${PLATFORM_ONLY_EXTENSIONS[o.object]}` };
    }
    if (o.attrs._used === false) return { severity: 'warn', reason: 'no object outside the extension uses it; install it on the target if the application calls it' };
  }
  if (o.category === 'grants') {
    const grantee = String(o.attrs.grantee);
    const mapped = rules.ownerMap[grantee] ?? grantee;
    if (mapped !== 'PUBLIC' && !rules.targetRoles.has(mapped)) {
      if (isPlatformRole(grantee)) return { severity: 'expected', reason: `platform role ${grantee} does not exist on the target` };
      return { severity: 'fail', reason: `role ${mapped} does not exist on the target` };
    }
  }
  return { severity: 'fail' };
}

function compareAttributes(s: SchemaObject, t: SchemaObject, name: string, out: SchemaDifference[]): void {
  const keys = new Set([...Object.keys(s.attrs), ...Object.keys(t.attrs)]);
  for (const attr of [...keys].sort()) {
    if (attr.startsWith('_')) continue;
    const a = s.attrs[attr] ?? null;
    const b = t.attrs[attr] ?? null;
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const base = { category: s.category, object: name, change: 'changed' as const, attribute: attr, source: show(a), target: show(b) };
    if (s.category === 'sequences' && attr === 'last value') {
      out.push({ ...base, ...sequenceVerdict(a as string | null, b as string | null) });
    } else if (s.category === 'extensions') {
      out.push({ ...base, severity: 'warn', reason: attr === 'version' ? 'a different extension version: check its release notes for changed behaviour' : 'the extension lives in another schema: references must be rewritten' });
    } else if (s.category === 'grants' && attr === 'grantee') {
      continue; // the key already carries the (mapped) grantee
    } else {
      // A part left out on the target (a default calling auth.uid(), deferred by the copy) is
      // intended; a part that says something else (a policy rewritten to USING (true)) is not.
      out.push({ ...base, ...((b === null && translatedBy(s)) || { severity: 'fail' }) });
    }
  }
}

function sequenceVerdict(source: string | null, target: string | null): { severity: SchemaSeverity; reason: string } {
  if (source === null) return { severity: 'warn', reason: 'the sequence was never used on the source but has a value on the target' };
  if (target === null || BigInt(target) < BigInt(source)) {
    return { severity: 'fail', reason: 'the target sequence is behind the source: new rows would collide with copied keys (run setval)' };
  }
  return { severity: 'warn', reason: 'the target sequence is ahead of the source (no collision, but values were used or skipped)' };
}

function compareOwner(s: SchemaObject, t: SchemaObject, rules: DiffRules, out: SchemaDifference[]): void {
  if (s.owner === null || t.owner === null) return;
  const mapped = rules.ownerMap[s.owner] ?? s.owner;
  if (mapped === t.owner) return;
  const viaDefault = t.owner === rules.targetUser;
  out.push({
    category: 'owners', object: `${s.category.replace(/s$/, '')} ${s.object}`, change: 'changed', attribute: 'owner',
    source: s.owner, target: t.owner,
    severity: viaDefault ? 'expected' : 'warn',
    reason: viaDefault ? 'owners not in the owner map become the target\'s connecting role' : 'the owner differs and is not the one the owner map gives',
  });
}

/** One check per category, for reports and JUnit. */
export async function schemaChecks(differences: SchemaDifference[], progress?: Progress): Promise<SchemaReport> {
  const checks: Array<Check<SchemaDifference[]>> = SCHEMA_CATEGORIES.map((c) => ({
    id: `schema.${c.id}`,
    title: c.title,
    run: async (all): Promise<CheckOutcome> => {
      const mine = all.filter((d) => d.category === c.id);
      const fail = mine.filter((d) => d.severity === 'fail');
      const warn = mine.filter((d) => d.severity === 'warn');
      const expected = mine.filter((d) => d.severity === 'expected');
      const first = (list: SchemaDifference[]): string => list.slice(0, 3).map(describe).join('; ') + (list.length > 3 ? `; … ${list.length - 3} more` : '');
      const tail = expected.length ? ` (${expected.length} expected)` : '';
      const evidence = mine.length ? { differences: mine.slice(0, 200) } : undefined;
      if (fail.length) return { status: 'fail', detail: `${fail.length} difference${fail.length === 1 ? '' : 's'}: ${first(fail)}${tail}`, hint: fail[0]!.reason ?? 'make the target match the source, or map the difference as expected', evidence };
      if (warn.length) return { status: 'warn', detail: `${warn.length} warning${warn.length === 1 ? '' : 's'}: ${first(warn)}${tail}`, hint: warn[0]!.reason, evidence };
      return { status: 'pass', detail: expected.length ? `equal apart from ${expected.length} expected difference${expected.length === 1 ? '' : 's'}` : 'equal', evidence };
    },
  }));
  return { checks: await runChecks(checks, differences, progress), differences };
}

export function describe(d: SchemaDifference): string {
  if (d.change === 'missing_on_target') return `${d.object} missing on the target`;
  if (d.change === 'extra_on_target') return `${d.object} only on the target`;
  return `${d.object}: ${d.attribute} ${d.source} → ${d.target}`;
}
