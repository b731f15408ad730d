/**
 * Which project objects lean on the platform (auth.*, storage.*) or on extensions: catalog
 * dependencies first (pg_depend), then the text of definitions for what pg_depend cannot see
 * (plpgsql and SQL function bodies).
 */
import type { Snapshot } from './session.js';
import type { AuthTrigger, ExtensionDependent, ExtensionInfo, ObjectKind, PlatformReference, PolicyInfo } from './types.js';

interface DependencyRow {
  kind: string; schema: string; name: string; table_schema: string | null; table_name: string | null;
  extension: string | null; platform_name: string | null;
  platform_kind: 'relation' | 'function' | 'type' | 'project-function' | null;
}

interface TextRow {
  kind: 'view' | 'materialized view' | 'default' | 'policy'; schema: string; name: string;
  table_schema: string | null; table_name: string | null; platform_refs: string[];
}

interface FunctionRow {
  schema: string; name: string; owner: string; security_definer: boolean; language: string; search_path: string | null;
  platform_refs: string[]; extensions: string[];
}

export interface ReferencesResult {
  references: PlatformReference[];
  securityDefinerFunctions: Array<{ function: string; owner: string; searchPath: string | null }>;
}

const REFERENCE_KINDS = new Set<PlatformReference['kind']>(['function', 'trigger', 'view', 'materialized view', 'default', 'policy', 'constraint']);

/** Split a text match: `auth.uid()` is a call of auth.uid, `auth.users` a plain name. */
export function parseTextReference(match: string): { name: string; call: boolean } {
  return match.endsWith('()') ? { name: match.slice(0, -2), call: true } : { name: match, call: false };
}

function objectLabel(r: { kind: string; schema: string; name: string; table_schema: string | null; table_name: string | null }): string {
  if ((r.kind === 'policy' || r.kind === 'trigger') && r.table_name) return `${r.name} on ${r.table_schema}.${r.table_name}`;
  if (r.kind === 'constraint' && r.table_name) return `${r.table_schema}.${r.table_name}.${r.name}`;
  return `${r.schema}.${r.name}`;
}

function toObjectKind(kind: string): ObjectKind {
  const known: ObjectKind[] = ['table', 'column', 'index', 'view', 'materialized view', 'sequence', 'function', 'trigger', 'policy', 'default', 'constraint', 'type'];
  return (known as string[]).includes(kind) ? (kind as ObjectKind) : 'other';
}

/**
 * Read dependencies and definitions, fill `extensions[].dependents` and `policies[].references`,
 * and return every project object that references the platform schemas.
 */
export async function readReferences(
  snap: Snapshot,
  managed: string[],
  platformSchemas: string[],
  extensions: ExtensionInfo[],
  policies: PolicyInfo[],
  projectTriggers: AuthTrigger[],
): Promise<ReferencesResult> {
  const [deps, texts, functions] = [
    await snap.run<DependencyRow>('dependencies', [managed, platformSchemas]),
    platformSchemas.length > 0 ? await snap.run<TextRow>('text-references', [managed, platformSchemas]) : [],
    await snap.run<FunctionRow>('functions', [managed, platformSchemas]),
  ];

  const refs = new Map<string, PlatformReference>();
  const add = (
    r: { kind: string; schema: string; name: string; table_schema: string | null; table_name: string | null },
    name: string, isFunction: boolean, via: 'depend' | 'text',
  ): void => {
    if (!REFERENCE_KINDS.has(r.kind as PlatformReference['kind'])) return;
    const table = r.table_name ? `${r.table_schema}.${r.table_name}` : undefined;
    const key = `${r.kind}|${r.schema}|${r.name}|${table ?? ''}`;
    let ref = refs.get(key);
    if (!ref) {
      ref = { kind: r.kind as PlatformReference['kind'], schema: r.schema, name: r.name, ...(table ? { table } : {}), references: [], functions: [], via: [] };
      refs.set(key, ref);
    }
    if (!ref.references.includes(name)) ref.references.push(name);
    if (isFunction && !ref.functions.includes(name)) ref.functions.push(name);
    if (!ref.via.includes(via)) ref.via.push(via);
  };

  const dependents = new Map<string, ExtensionDependent[]>();
  const addDependent = (extension: string, dependent: ExtensionDependent): void => {
    const list = dependents.get(extension) ?? [];
    if (!list.some((d) => d.kind === dependent.kind && d.object === dependent.object)) list.push(dependent);
    dependents.set(extension, list);
  };

  const calls: Array<{ caller: DependencyRow; fn: string }> = [];
  for (const d of deps) {
    if (d.extension) addDependent(d.extension, { kind: toObjectKind(d.kind), object: objectLabel(d) });
    if (d.platform_kind === 'project-function' && d.platform_name) calls.push({ caller: d, fn: d.platform_name });
    else if (d.platform_name) add(d, d.platform_name, d.platform_kind === 'function', 'depend');
  }
  for (const t of texts) {
    for (const m of t.platform_refs) {
      const { name, call } = parseTextReference(m);
      add(t, name, call, 'text');
    }
  }
  for (const f of functions) {
    const row = { kind: 'function', schema: f.schema, name: f.name, table_schema: null, table_name: null };
    for (const m of f.platform_refs) {
      const { name, call } = parseTextReference(m);
      add(row, name, call, 'text');
    }
    for (const e of f.extensions) addDependent(e, { kind: 'function', object: `${f.schema}.${f.name}` });
  }
  // One hop through project functions: a policy calling public.is_moderator(), whose body calls
  // auth.uid(), breaks on the target just like one calling auth.uid() itself.
  const platformUseOf = new Map<string, PlatformReference>();
  for (const r of refs.values()) if (r.kind === 'function') platformUseOf.set(`${r.schema}.${r.name.slice(0, r.name.indexOf('('))}`, r);
  for (const { caller, fn } of calls) {
    const used = platformUseOf.get(fn);
    if (!used) continue;
    for (const name of used.references) add(caller, name, used.functions.includes(name), 'depend');
    const ref = [...refs.values()].find((r) => r.kind === caller.kind && r.schema === caller.schema && r.name === caller.name
      && (r.table ?? null) === (caller.table_name ? `${caller.table_schema}.${caller.table_name}` : null));
    if (ref && !(ref.through ??= []).includes(`${fn}()`)) ref.through.push(`${fn}()`);
  }
  for (const t of projectTriggers) {
    const [schema = '', table = ''] = t.table.split('.');
    add({ kind: 'trigger', schema, name: t.name, table_schema: schema, table_name: table }, t.table, false, 'depend');
  }

  // A function known to be a function from pg_depend or a call in some text is one everywhere.
  const references = [...refs.values()];
  const knownFunctions = new Set(references.flatMap((r) => r.functions));
  for (const r of references) {
    for (const name of r.references) if (knownFunctions.has(name) && !r.functions.includes(name)) r.functions.push(name);
    r.references.sort();
    r.functions.sort();
  }
  for (const p of policies) {
    const ref = refs.get(`policy|${p.schema}|${p.name}|${p.schema}.${p.table}`);
    p.references = ref ? [...ref.references] : [];
  }
  for (const e of extensions) {
    e.dependents = (dependents.get(e.name) ?? []).sort((a, b) => a.object.localeCompare(b.object));
  }
  references.sort((a, b) => a.kind.localeCompare(b.kind) || a.schema.localeCompare(b.schema) || a.name.localeCompare(b.name));

  return {
    references,
    securityDefinerFunctions: functions
      .filter((f) => f.security_definer)
      .map((f) => ({ function: `${f.schema}.${f.name}`, owner: f.owner, searchPath: f.search_path })),
  };
}
