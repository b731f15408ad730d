/**
 * Findings about the project's own objects: tables, extensions, and everything that leans on
 * auth.* / storage.*. Pure functions of the inventory, so they are unit-tested without a server.
 * Finding ids are a contract (scripts match on them): add new ones, never rename.
 */
import { findPlatformFindings } from './findings-platform.js';
import { agree, formatBytes, formatCount, listSome, plural } from './format.js';
import type { Finding, InspectInventory, InspectTotals, Severity } from './types.js';

export const LARGE_TABLE_ROWS = 1_000_000;
export const LARGE_TABLE_BYTES = 1024 ** 3;

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** All findings, most severe first (stable within a severity). */
export function buildFindings(inv: InspectInventory): Finding[] {
  const findings = [
    ...tableFindings(inv),
    ...extensionFindings(inv),
    ...referenceFindings(inv),
    ...findPlatformFindings(inv),
  ];
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.i - b.i)
    .map(({ f }) => f);
}

function tableFindings(inv: InspectInventory): Finding[] {
  const out: Finding[] = [];
  for (const t of inv.tables) {
    const name = `${t.schema}.${t.name}`;
    const rows = `${formatCount(t.rows, t.rowsExact)} rows`;
    // Partitions inherit the parent's keys: report the parent only.
    if (!t.hasPrimaryKey && !t.partitionOf) {
      out.push({
        id: 'table-without-primary-key', severity: 'warning', object: name,
        message: `${name} has no primary key (${rows})`,
        hint: `validate compares it as a multiset (an order-independent hash of all rows, so a difference cannot be localised to a key range); copy cannot split it into key ranges and moves it in one stream${t.hasUniqueKey ? ' (it has a unique key on NOT NULL columns, which could become the primary key)' : ''}; add a primary key if the data has a natural one`,
      });
    }
    if (t.kind === 'table' && ((t.rows ?? 0) > LARGE_TABLE_ROWS || t.totalBytes > LARGE_TABLE_BYTES)) {
      out.push({
        id: 'large-table', severity: 'info', object: name,
        message: `${name} is large: ${rows}, ${formatBytes(t.totalBytes)}${t.rowsExact ? '' : ' (row count estimated from statistics)'}`,
        hint: t.hasPrimaryKey
          ? 'copy splits it into primary-key ranges and copies them in parallel; validate hashes it per key chunk; expect it to dominate the copy time'
          : 'without a primary key copy moves it in one stream: it will dominate the copy time; add a key first if you can',
      });
    }
    if (t.rlsEnabled && t.policies === 0) {
      out.push({
        id: 'rls-enabled-without-policies', severity: 'info', object: name,
        message: `${name} has row-level security enabled but no policies: only its owner and BYPASSRLS roles see rows`,
        hint: 'often intended (a table only the service role touches); `offramp rls translate` keeps the deny-all, so make sure the new backend reads it as the owner',
      });
    }
    if (t.kind === 'partitioned') {
      const parts = inv.tables.filter((p) => p.partitionOf === name).length;
      out.push({
        id: 'partitioned-table', severity: 'info', object: name,
        message: `${name} is partitioned (${plural(parts, 'partition')}, ${rows} in all)`,
        hint: 'copy creates the parent and its partitions from the schema and copies the leaf partitions; validate compares each partition',
      });
    }
  }
  const generated = inv.tables.filter((t) => t.generatedColumns.length > 0);
  if (generated.length > 0) {
    out.push({
      id: 'generated-columns', severity: 'info',
      message: `${plural(generated.length, 'table')} ${agree(generated.length, 'has', 'have')} generated columns: ${listSome(generated.flatMap((t) => t.generatedColumns.map((c) => `${t.schema}.${t.name}.${c}`)))}`,
      hint: 'copy leaves generated columns out of its column lists and the target computes them again; nothing to do unless their expression calls a function the target lacks',
    });
  }
  return out;
}

function extensionFindings(inv: InspectInventory): Finding[] {
  const out: Finding[] = [];
  const supabase = inv.platform.kind === 'supabase';
  for (const e of inv.extensions) {
    if (e.platformOnly) {
      const deps = e.dependents.map((d) => `${d.kind} ${d.object}`);
      out.push({
        id: 'platform-only-extension', severity: deps.length > 0 ? 'error' : 'warning', object: e.name,
        message: deps.length > 0
          ? `extension ${e.name} (schema ${e.schema}) is not available on a plain PostgreSQL server, and ${plural(deps.length, 'object')} of yours ${agree(deps.length, 'needs', 'need')} it: ${listSome(deps)}`
          : `extension ${e.name} (schema ${e.schema}) is not available on a plain PostgreSQL server; nothing in your schemas depends on it`,
        hint: deps.length > 0
          ? `${e.platformOnlyReason ?? 'platform extension'}. copy leaves it behind, so rewrite or drop the objects listed before copying (or install an equivalent extension on the target); doctor checks what the target offers`
          : `${e.platformOnlyReason ?? 'platform extension'}. copy leaves it behind; nothing to do`,
      });
    }
    if (supabase && e.schema === 'public' && e.name !== 'plpgsql') {
      out.push({
        id: 'extension-in-public', severity: 'warning', object: e.name,
        message: `extension ${e.name} is installed in schema public, not in extensions`,
        hint: `its types and functions are then resolved through public: create it in public on the target too (copy does this), or move it first with ALTER EXTENSION ${quoteIdent(e.name)} SET SCHEMA extensions where the extension is relocatable`,
      });
    }
  }
  const inExtensions = inv.extensions.filter((e) => e.schema === 'extensions');
  if (supabase && inExtensions.length > 0) {
    out.push({
      id: 'extensions-schema', severity: 'info', object: 'extensions',
      message: `${plural(inExtensions.length, 'extension')} ${agree(inExtensions.length, 'lives', 'live')} in schema extensions: ${listSome(inExtensions.map((e) => e.name), 8)}`,
      hint: 'your columns and defaults name them as extensions.* (e.g. extensions.geography, extensions.uuid_generate_v4()); the target keeps an extensions schema, so these references keep working — doctor checks the target offers each extension',
    });
  }
  return out;
}

function referenceFindings(inv: InspectInventory): Finding[] {
  const out: Finding[] = [];
  const platformFns = (fns: string[]): string[] => fns.filter((f) => /^(auth|storage)\./.test(f));
  const calls = (fns: string[]): string => fns.map((f) => `${f}()`).join(', ');

  // Policies are reported per table: one finding for all of a table's policies.
  const byTable = new Map<string, { policies: string[]; fns: Set<string>; through: Set<string>; indirect: number }>();
  for (const p of inv.policies) {
    const ref = inv.references.find((r) => r.kind === 'policy' && r.schema === p.schema && r.name === p.name && r.table === `${p.schema}.${p.table}`);
    const fns = platformFns(ref?.functions ?? []);
    if (fns.length === 0) continue;
    const key = `${p.schema}.${p.table}`;
    const entry = byTable.get(key) ?? { policies: [], fns: new Set<string>(), through: new Set<string>(), indirect: 0 };
    entry.policies.push(p.name);
    fns.forEach((f) => entry.fns.add(f));
    ref?.through?.forEach((f) => entry.through.add(f));
    if (ref?.through?.length) entry.indirect++;
    byTable.set(key, entry);
  }
  for (const [table, { policies, fns, through, indirect }] of byTable) {
    const via = indirect > 0
      ? ` (${indirect === policies.length ? '' : `in ${indirect} of them `}via ${[...through].sort().join(', ')})`
      : '';
    out.push({
      id: 'policy-calls-missing-function', severity: 'warning', object: table,
      message: `${plural(policies.length, 'policy', 'policies')} on ${table} ${agree(policies.length, 'calls', 'call')} ${calls([...fns].sort())}${via}, which a plain PostgreSQL target does not have (${listSome(policies.map((p) => `"${p}"`), 4)})`,
      hint: '`offramp rls translate` installs a compatibility layer (auth.uid(), auth.jwt() reading request.jwt.claims, the API roles NOLOGIN) or turns the policies into application predicates; `offramp rls verify` proves every principal still sees the same rows',
    });
  }

  for (const t of inv.tables) {
    for (const fk of t.fksToAuthUsers) {
      out.push({
        id: 'fk-to-auth-users', severity: 'warning', object: `${t.schema}.${t.name}`,
        message: `${t.schema}.${t.name}(${fk.columns.join(', ')}) references auth.users (${fk.constraint}, ON DELETE ${fk.onDelete})`,
        hint: 'auth.users is not copied with your tables: `offramp auth migrate` creates the local users table and points this foreign key at it; copy adds it only after the users exist',
      });
    }
  }

  for (const r of inv.references) {
    const names = r.references.filter((n) => /^(auth|storage)\./.test(n));
    if (names.length === 0) continue;
    const fns = platformFns(r.functions);
    const what = [...(fns.length ? [calls(fns)] : []), ...names.filter((n) => !fns.includes(n))].join(', ');
    if (r.kind === 'default') {
      out.push({
        id: 'default-references-auth', severity: 'warning', object: `${r.schema}.${r.name}`,
        message: `the default of ${r.schema}.${r.name} uses ${what}`,
        hint: 'on the target the value must come from somewhere else: the `offramp rls translate` compatibility layer provides auth.uid() from request.jwt.claims, or set the column in the application and drop the default',
      });
    } else if (r.kind === 'function') {
      out.push({
        id: 'function-references-platform', severity: 'warning', object: `${r.schema}.${r.name}`,
        message: `function ${r.schema}.${r.name} uses ${what}${r.via.includes('depend') ? '' : ' (found in its body)'}`,
        hint: 'function bodies are checked only when they run, so a copy succeeds and the call fails later: provide these through `offramp rls translate` (auth.* helpers) and `offramp auth migrate` (users table), or rewrite the function',
      });
    } else if (r.kind === 'constraint' && names.some((n) => n !== 'auth.users')) {
      // FKs into auth.users have their own finding (from the table); this is the rest
      const others = names.filter((n) => n !== 'auth.users');
      out.push({
        id: 'fk-to-platform-table', severity: 'warning', object: `${r.table ?? r.schema}.${r.name}`,
        message: `constraint ${r.name} on ${r.table ?? r.schema} references ${others.join(', ')}`,
        hint: `${others.join(', ')} ${agree(others.length, 'is', 'are')} not copied as project tables, so the constraint cannot be created on the target as it is: drop it (keep the column), or move the platform rows it points at first (storage metadata for storage.objects)`,
      });
    } else if (r.kind === 'view' || r.kind === 'materialized view') {
      out.push({
        id: 'view-references-platform', severity: 'warning', object: `${r.schema}.${r.name}`,
        message: `${r.kind} ${r.schema}.${r.name} uses ${what}`,
        hint: 'the view cannot be created on the target until these exist: run `offramp auth migrate` / `offramp rls translate` first, or rewrite it against the local users table',
      });
    }
  }
  return out;
}

function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export function computeTotals(inv: InspectInventory, findings: Finding[]): InspectTotals {
  const leaves = inv.tables.filter((t) => t.kind === 'table');
  const bySeverity: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) bySeverity[f.severity]++;
  return {
    schemas: { user: inv.schemas.filter((s) => !s.managed).length, managed: inv.schemas.filter((s) => s.managed).length },
    userTables: inv.tables.filter((t) => !t.partitionOf).length,
    rows: leaves.reduce((s, t) => s + (t.rows ?? 0), 0),
    rowsExact: leaves.every((t) => t.rowsExact && t.rows !== null),
    bytes: inv.tables.reduce((s, t) => s + t.totalBytes, 0),
    policies: inv.policies.length,
    functions: inv.schemas.filter((s) => !s.managed).reduce((s, x) => s + x.counts.functions, 0),
    findings: bySeverity,
  };
}
