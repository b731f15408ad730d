/**
 * Getting the target ready inside the pre-data transaction: the copy lock, create roles, the
 * extensions schema and the extensions (platform-only ones are skipped with a finding naming what
 * depended on them). What --yes/--clean replace is decided in replace.ts.
 */
import type pg from 'pg';
import { OfframpError } from '../../errors.js';
import { loadSql, query } from '../../db/sql.js';
import { PLATFORM_ONLY_EXTENSIONS } from '../supabase/platform.js';
import type { ExtensionPlan } from './plan.js';
import { quoteIdent } from './plan.js';

/** A stable advisory-lock key per database: "offramp copy". */
export const COPY_LOCK_KEY = 0x0ff5a4c0;

export async function acquireCopyLock(client: pg.ClientBase, targetLabel: string): Promise<void> {
  const [row] = await query<{ ok: boolean }>(client, 'SELECT pg_try_advisory_lock($1) AS ok', [COPY_LOCK_KEY]);
  if (!row!.ok) {
    throw new OfframpError('TARGET_BUSY', `another offramp copy or restore is running into ${targetLabel}`, {
      hint: 'wait for it to finish (or stop it); two loads into one database would corrupt each other',
    });
  }
}

export async function existingUserTables(client: pg.ClientBase): Promise<string[]> {
  return (await query<{ name: string }>(client, loadSql('move/target-user-tables.sql'))).map((r) => r.name);
}

export interface ExtensionOutcome {
  name: string;
  schema: string | null;
  version: string | null;
  action: 'created' | 'present' | 'skipped';
  reason?: string;
  dependents: string[];
}

/**
 * Create the source's extensions on the target, each in the schema it had on the source (or the
 * relocated extensions schema). Fails before anything is loaded when a needed one is unavailable.
 */
export async function createExtensions(client: pg.ClientBase, extensions: ExtensionPlan[], schemaFor: (e: ExtensionPlan) => string): Promise<ExtensionOutcome[]> {
  const available = new Map(
    (await query<{ name: string; default_version: string; installed_version: string | null; schema: string | null; creatable: boolean }>(
      client,
      loadSql('move/target-extensions.sql'),
    )).map((r) => [r.name, r]),
  );
  const outcomes: ExtensionOutcome[] = [];
  const missing: string[] = [];
  for (const ext of extensions) {
    const target = available.get(ext.name);
    const schema = schemaFor(ext);
    if (ext.platformOnly) {
      outcomes.push({ name: ext.name, schema: null, version: null, action: 'skipped', reason: PLATFORM_ONLY_EXTENSIONS[ext.name] ?? 'platform-only', dependents: ext.dependents });
      continue;
    }
    if (!target) {
      if (ext.dependents.length > 0) missing.push(ext.name);
      else outcomes.push({ name: ext.name, schema: null, version: null, action: 'skipped', reason: 'not available on the target and nothing copied uses it', dependents: [] });
      continue;
    }
    // One rule for what the platform installs itself (pg_stat_statements, an unused pgcrypto, ...):
    // nothing copied depends on it and this role may not create it, so it is not required.
    if (!target.installed_version && !target.creatable && ext.dependents.length === 0) {
      outcomes.push({ name: ext.name, schema: null, version: null, action: 'skipped', reason: 'nothing copied uses it, and only a superuser may create it on the target', dependents: [] });
      continue;
    }
    if (target.installed_version) {
      if (target.schema !== schema) {
        if (!ext.relocatable) {
          throw new OfframpError('TARGET_CONFLICT', `extension ${ext.name} is installed in schema "${target.schema}" on the target, but the copied objects expect it in "${schema}"`, {
            // --yes never drops an extension: relocating the references is the way (README, --extensions-schema).
            hint: ext.schema === 'extensions'
              ? `copy with --extensions-schema ${target.schema} so the copied objects refer to it there; nothing was changed`
              : `move the extension on the target to "${schema}" yourself, or load into a database without it; nothing was changed`,
          });
        }
        await client.query(`ALTER EXTENSION ${quoteIdent(ext.name)} SET SCHEMA ${quoteIdent(schema)}`);
      }
      outcomes.push({ name: ext.name, schema, version: target.installed_version, action: 'present', dependents: ext.dependents });
      continue;
    }
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(ext.name)} WITH SCHEMA ${quoteIdent(schema)} CASCADE`);
    const [v] = await query<{ v: string }>(client, 'SELECT extversion AS v FROM pg_extension WHERE extname = $1', [ext.name]);
    outcomes.push({ name: ext.name, schema, version: v?.v ?? null, action: 'created', dependents: ext.dependents });
  }
  if (missing.length > 0) {
    throw new OfframpError('PREFLIGHT_FAILED', `the target lacks extension${missing.length > 1 ? 's' : ''} ${missing.join(', ')} that copied objects use`, {
      hint: missing.includes('postgis')
        ? 'install PostGIS on the target server (Debian: apt-get install postgresql-15-postgis-3); nothing was changed'
        : 'install the extension packages on the target server; nothing was changed',
    });
  }
  return outcomes;
}
