/**
 * The schema stage of a copy or restore: pg_dump the pre-data and post-data sections inside the
 * snapshot, drop what must not be replayed on a plain server, and, in one target transaction,
 * create roles and extensions and apply pre-data (deferring what later stages must provide).
 */
import type pg from 'pg';
import { loadSql, query } from '../../db/sql.js';
import type { ConnectionInfo } from '../../db/url.js';
import { ExternalToolError, QueryError } from '../../errors.js';
import { findClientTools } from '../doctor/tools.js';
import { PLATFORM_EVENT_TRIGGERS } from '../supabase/platform.js';
import { applyPreData, splitStatements, type DeferredObject } from './apply-schema.js';
import { parseDump, runPgDump, type DumpEntry } from './dump-sql.js';
import type { MovePlan } from './plan.js';
import { planRoles, rolesInStatement } from './roles.js';
import type { SnapshotHolder } from '../../db/snapshot.js';
import { createExtensions, dropSchemas, type ExtensionOutcome } from './target-prep.js';

export interface SchemaStageInput {
  options: { excludeTables: string[]; extensionsSchema: string; ownerMap: Record<string, string>; connectTimeoutSeconds: number };
  plan: MovePlan;
  source: ConnectionInfo;
  holder: SnapshotHolder;
  control: pg.Client;
  snapshot: string;
  /** Drop the copied schemas on the target first (confirmed with --yes / --clean). */
  replace: boolean;
  /** Resume after pre-data committed: only compute the post-data list. */
  skipPreData: boolean;
}

export interface DroppedStatement {
  entry: string;
  statement: string;
  reason: string;
}

export interface SchemaOutcome {
  preamble: string;
  postData: DumpEntry[];
  pgDump: string;
  preDataEntries: number;
  extensions: ExtensionOutcome[];
  rolesCreated: Array<{ name: string; reason: string }>;
  dropped: DroppedStatement[];
  deferred: DeferredObject[];
  ownersMapped: number;
}

export type SchemaSummary = Omit<SchemaOutcome, 'preamble' | 'postData'>;

export function summarizeSchema(o: SchemaOutcome): SchemaSummary {
  const { preamble: _p, postData: _d, ...rest } = o;
  return rest;
}

/** Entries a plain self-hosted server must not replay. */
function unwanted(e: DumpEntry): string | undefined {
  if (e.type === 'EXTENSION' || (e.type === 'COMMENT' && e.name.startsWith('EXTENSION '))) return 'extensions are created by offramp in their own step';
  if (e.type === 'EVENT TRIGGER' || (e.type === 'COMMENT' && e.name.startsWith('EVENT TRIGGER '))) {
    const name = e.name.replace(/^EVENT TRIGGER /, '');
    return PLATFORM_EVENT_TRIGGERS.includes(name) ? 'platform event trigger' : 'event triggers need a superuser and fire on every DDL; recreate it by hand if you need it';
  }
  return undefined;
}

async function chooseSchemaDumper(serverVersionNum: number): Promise<string> {
  const tools = await findClientTools();
  const pgDump = tools.best.pg_dump;
  const major = Math.floor(serverVersionNum / 10000);
  if (!pgDump) throw new ExternalToolError('pg_dump was not found on this machine', { hint: `install postgresql-client-${major} (offramp doctor lists where it looked)` });
  if (pgDump.major < major) {
    throw new ExternalToolError(`pg_dump ${pgDump.version} is older than the source server (${major})`, {
      hint: `install postgresql-client-${major} or newer; pg_dump refuses to dump a newer server`,
    });
  }
  return pgDump.path;
}

export async function prepareSchema(input: SchemaStageInput): Promise<SchemaOutcome> {
  const { plan, control, holder } = input;
  const pgDump = await chooseSchemaDumper(plan.serverVersionNum);
  const dumpOptions = {
    pgDump, source: input.source, snapshot: input.snapshot, excludeSchemas: [], includeSchemas: plan.schemas,
    excludeTables: input.options.excludeTables.map((t) => (t.includes('.') ? t : `public.${t}`)),
  };
  const [preText, postText] = await Promise.all([
    runPgDump({ ...dumpOptions, section: 'pre-data' }),
    runPgDump({ ...dumpOptions, section: 'post-data' }),
  ]);
  const pre = parseDump(preText);
  const post = parseDump(postText);
  const dropped: DroppedStatement[] = [];
  const relocate = plan.platform === 'supabase' && input.options.extensionsSchema !== 'extensions';
  const rewrite = (sql: string): string => (relocate ? sql.split('"extensions".').join(`"${input.options.extensionsSchema.replace(/"/g, '""')}".`) : sql);
  const keep = (entries: DumpEntry[]): DumpEntry[] =>
    entries.flatMap((e) => {
      const why = unwanted(e);
      if (why) {
        dropped.push({ entry: `${e.type} ${e.name}`, statement: e.sql.split('\n')[0]!, reason: why });
        return [];
      }
      // The extensions step may already have made the schema an extension lives in.
      const sql = e.type === 'SCHEMA' ? e.sql.replace(/^CREATE SCHEMA /m, 'CREATE SCHEMA IF NOT EXISTS ') : e.sql;
      return [{ ...e, sql: rewrite(sql) }];
    });
  let preEntries = keep(pre.entries);
  let postEntries = keep(post.entries);

  // Roles: what kept grants and policies name; platform roles the target lacks are dropped from them.
  const referenced = new Set<string>();
  const roleBearing = (e: DumpEntry): boolean => ['ACL', 'DEFAULT ACL', 'POLICY'].includes(e.type);
  for (const e of [...preEntries, ...postEntries].filter(roleBearing)) for (const r of rolesInStatement(e.sql)) referenced.add(r);
  for (const to of Object.values(input.options.ownerMap)) referenced.add(to);
  const roles = await planRoles(holder.client, control, referenced);
  const filterRoles = (entries: DumpEntry[]): DumpEntry[] =>
    entries.flatMap((e) => {
      if (!roleBearing(e)) return [e];
      const statements = splitStatements(e.sql).filter((stmt) => {
        const lacking = rolesInStatement(stmt).filter((r) => roles.missing.has(r));
        if (lacking.length === 0) return true;
        dropped.push({ entry: `${e.type} ${e.name}`, statement: stmt.split('\n')[0]!, reason: `names platform role ${lacking.join(', ')}, which the target does not have` });
        return false;
      });
      return statements.length > 0 ? [{ ...e, sql: statements.map((s) => `${s};`).join('\n') }] : [];
    });
  preEntries = filterRoles(preEntries);
  postEntries = filterRoles(postEntries);

  const outcome: SchemaOutcome = {
    preamble: pre.preamble, postData: postEntries, pgDump, preDataEntries: preEntries.length, extensions: [],
    rolesCreated: roles.create.map(({ name, reason }) => ({ name, reason })), dropped, deferred: [], ownersMapped: 0,
  };
  if (input.skipPreData) return outcome;

  // Defaults that call auth.*/storage.* functions are set later, so the tables themselves load now.
  await holder.client.query('SET LOCAL quote_all_identifiers = on');
  const authDefaults = await query<{ schema: string; table_name: string; column_name: string; expression: string }>(
    holder.client, loadSql('move/auth-defaults.sql'), [plan.schemas, plan.excludedSchemas], 'find defaults that call platform functions',
  );
  await holder.client.query('SET LOCAL quote_all_identifiers = off');
  const rewriteTable = (entry: DumpEntry): { sql: string; deferred: DeferredObject[] } | undefined => {
    const mine = authDefaults.filter((d) => d.schema === entry.schema && d.table_name === entry.name);
    if (mine.length === 0) return undefined;
    let sql = entry.sql;
    const deferred: DeferredObject[] = [];
    for (const d of mine) {
      sql = sql.split(` DEFAULT ${d.expression}`).join('');
      deferred.push({
        type: 'DEFAULT', name: `${d.table_name}.${d.column_name}`, schema: d.schema,
        reason: `the default calls ${d.expression}, which the target gets from the auth/RLS stage`,
        sql: `ALTER TABLE "${d.schema}"."${d.table_name}" ALTER COLUMN "${d.column_name}" SET DEFAULT ${d.expression};`,
      });
    }
    return { sql, deferred };
  };

  await control.query('BEGIN');
  try {
    if (input.replace) await dropSchemas(control, plan.schemas);
    for (const r of roles.create) await control.query(r.sql);
    outcome.extensions = await createExtensions(control, plan.extensions, (e) => (e.schema === 'extensions' && relocate ? input.options.extensionsSchema : e.schema));
    await control.query(pre.preamble);
    const result = await applyPreData(control, preEntries, rewriteTable);
    if (result.fatal.length > 0) {
      const first = result.fatal[0]!;
      throw new QueryError(`pre-data failed at ${first.entry.type} ${first.entry.schema ?? ''}.${first.entry.name}: ${first.message}${result.fatal.length > 1 ? ` (and ${result.fatal.length - 1} more)` : ''}`, first.sqlstate, {
        hint: 'the target was left unchanged (the schema step runs in one transaction); see the error and rerun with --verbose',
        detail: result.fatal.map((f) => `${f.entry.type} ${f.entry.name}: ${f.message}`).join('\n'),
      });
    }
    outcome.deferred = result.deferred;
    // Owners: everything belongs to the connecting role unless mapped.
    const mapped = Object.keys(input.options.ownerMap);
    if (mapped.length > 0) {
      const owners = await query<{ owner: string; stmt: string }>(holder.client, loadSql('move/owners.sql'), [plan.schemas, mapped], 'read owners');
      for (const o of owners) await control.query(`${o.stmt}"${input.options.ownerMap[o.owner]!.replace(/"/g, '""')}"`);
      outcome.ownersMapped = owners.length;
    }
    await control.query('COMMIT');
  } catch (error) {
    await control.query('ROLLBACK').catch(() => {});
    throw error;
  }
  // The control session ran pg_dump's preamble (search_path ''); later statements qualify names.
  return outcome;
}
