/**
 * The schema stage of copy, dump and restore, in two halves:
 *  - collectSchema (live source, inside the snapshot): pg_dump the pre-data and post-data sections
 *    and read what applying them needs later (role attributes, defaults and CHECKs that depend on
 *    something that stays behind, owners) into a SchemaBundle — a dump artifact stores exactly this;
 *  - applySchema (target): drop what must not be replayed on a plain server and, in one
 *    transaction, create roles and extensions and apply pre-data, deferring what later stages
 *    (auth, RLS) must provide.
 */
import type pg from 'pg';
import { loadSql, privilegeHint, query, toQueryError } from '../../db/sql.js';
import type { ConnectionInfo } from '../../db/url.js';
import { ExternalToolError, QueryError } from '../../errors.js';
import { findClientTools } from '../../db/pg-tools.js';
import { PLATFORM_EVENT_TRIGGERS, PLATFORM_ONLY_EXTENSIONS } from '../supabase/platform.js';
import { loadSqlParser, quoteIdent } from '../../db/sql-parse.js';
import { applyPreData, DEFERRABLE_SQLSTATES, type DeferredObject } from './apply-schema.js';
import { joinStatements, parseDump, runPgDump, withSql, type DumpEntry } from './dump-sql.js';
import { createdTable, createSchemaIfNotExists, removeColumnDefaults, removeTableConstraints, renameSchemaReferences } from './sql-rewrite.js';
import type { MovePlan } from './plan.js';
import { planRoles, readRoleAttributes, rolesInStatement, type RoleAttributes } from './roles.js';
import { createExtensions, type ExtensionOutcome } from './target-prep.js';
import { replaceObjects, type ReplacementInput } from './replace.js';
import { defaultPrivilegeRoles, mapForRoles, rolesActableFor } from './default-privileges.js';

/** Everything the target side needs to rebuild the schema, without the source. */
export interface SchemaBundle {
  preData: string;
  postData: string;
  pgDumpVersion: string;
  roles: RoleAttributes[];
  /** Defaults and CHECKs whose expression depends on something that stays behind (held-back-expressions.sql). */
  heldBack: HeldBackExpression[];
  owners: Array<{ owner: string; stmt: string }>;
}

export interface HeldBackExpression {
  kind: 'default' | 'check';
  schema: string;
  table_name: string;
  column_name: string | null;
  constraint_name: string | null;
  /** The default's expression, or the constraint's definition (`CHECK (...)`), identifiers quoted as pg_dump does. */
  expression: string;
  /** What stays behind, as pg_identify_object names it (`function auth.uid()`). */
  depends_on: string[];
  /** Platform-only extensions among what stays behind. */
  extensions: string[];
}

/** A dump made before held-back CHECKs (schema-meta.json with `authDefaults`) reads as the new shape. */
export function heldBackOf(meta: { heldBack?: HeldBackExpression[]; authDefaults?: Array<{ schema: string; table_name: string; column_name: string; expression: string }> }): HeldBackExpression[] {
  return meta.heldBack ?? (meta.authDefaults ?? []).map((d) => ({
    kind: 'default', schema: d.schema, table_name: d.table_name, column_name: d.column_name, constraint_name: null,
    expression: d.expression, depends_on: [d.expression], extensions: [],
  }));
}

/** Why a held-back expression waits, and what ends the wait. */
function heldBackReason(h: HeldBackExpression): string {
  const what = h.kind === 'default' ? 'the default' : 'the check';
  if (h.extensions.length > 0) {
    return `${what} calls ${h.depends_on.join(', ')} of the platform-only extension ${h.extensions.join(', ')}, which the target does not have: install an equivalent there, then run this`;
  }
  return `${what} depends on ${h.depends_on.join(', ')}, left behind with its schema: the target gets it from the auth/RLS stage`;
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
  /** Target objects dropped and created again (--yes, --clean), as pg_identify_object names them. */
  replaced: string[];
  /** Objects the earlier copy made that --clean dropped and this load does not create again. */
  cleaned: string[];
  /** What the load left out that the user should know about (not failures): default privileges of a role the target role cannot act for. */
  warnings: string[];
}

export type SchemaSummary = Omit<SchemaOutcome, 'preamble' | 'postData' | 'replaced' | 'cleaned' | 'warnings'>;

export function summarizeSchema(o: SchemaOutcome): SchemaSummary {
  const { preamble: _p, postData: _d, replaced: _r, cleaned: _c, warnings: _w, ...rest } = o;
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

const roleBearing = (e: DumpEntry): boolean => ['ACL', 'DEFAULT ACL', 'POLICY'].includes(e.type);

async function chooseSchemaDumper(serverVersionNum: number): Promise<{ path: string; version: string }> {
  const tools = await findClientTools();
  const pgDump = tools.best.pg_dump;
  const major = Math.floor(serverVersionNum / 10000);
  if (!pgDump) throw new ExternalToolError('pg_dump was not found on this machine', { hint: `install postgresql-client-${major} (offramp doctor lists where it looked)` });
  if (pgDump.major < major) {
    throw new ExternalToolError(`pg_dump ${pgDump.version} is older than the source server (${major})`, {
      hint: `install postgresql-client-${major} or newer; pg_dump refuses to dump a newer server`,
    });
  }
  return { path: pgDump.path, version: pgDump.version };
}

/** Source side: pg_dump both sections in the snapshot and read what applying them needs. */
export async function collectSchema(source: ConnectionInfo, client: pg.ClientBase, snapshot: string, plan: MovePlan): Promise<SchemaBundle> {
  const pgDump = await chooseSchemaDumper(plan.serverVersionNum);
  const dumpOptions = {
    pgDump: pgDump.path, source, snapshot, excludeSchemas: [], includeSchemas: plan.schemas,
    // The plan already resolved --exclude-table; pg_dump gets exact quoted names, so both agree.
    excludeTables: plan.excludedTables,
  };
  // The parser's WASM module loads while pg_dump runs.
  const [preData, postData] = await Promise.all([
    runPgDump({ ...dumpOptions, section: 'pre-data' }),
    runPgDump({ ...dumpOptions, section: 'post-data' }),
    loadSqlParser(),
  ]);
  const referenced = new Set<string>();
  for (const e of [...(await parseDump(preData)).entries, ...(await parseDump(postData)).entries].filter(roleBearing)) {
    for (const stmt of e.statements) for (const r of rolesInStatement(stmt)) referenced.add(r);
  }
  const roles = await readRoleAttributes(client, [...referenced]);
  // pg_dump quotes every identifier (--quote-all-identifiers); quote defaults the same way so they
  // match, and qualify every name as pg_dump does (search_path emptied; a project's search_path
  // holds `extensions`, which would print extensions.sign() as a bare sign()).
  const [{ path }] = (await client.query<{ path: string }>("SELECT current_setting('search_path') AS path")).rows as [{ path: string }];
  await client.query("SELECT set_config('search_path', 'pg_catalog', true)");
  await client.query('SET LOCAL quote_all_identifiers = on');
  const heldBack = await query<HeldBackExpression>(client, loadSql('move/held-back-expressions.sql'),
    [plan.schemas, plan.excludedSchemas, Object.keys(PLATFORM_ONLY_EXTENSIONS)], 'find defaults and checks that depend on what stays behind');
  await client.query('SET LOCAL quote_all_identifiers = off');
  await client.query("SELECT set_config('search_path', $1, true)", [path]);
  const owners = await query<{ owner: string; stmt: string }>(client, loadSql('move/owners.sql'), [plan.schemas, plan.excludedTables.map((t) => t.schema), plan.excludedTables.map((t) => t.name)], 'read owners');
  return { preData, postData, pgDumpVersion: pgDump.version, roles, heldBack, owners };
}

export interface ApplySchemaInput {
  bundle: SchemaBundle;
  plan: MovePlan;
  control: pg.Client;
  extensionsSchema: string;
  ownerMap: Record<string, string>;
  /**
   * --yes / --clean: what planReplacement decided and the user confirmed; decided again and
   * dropped first, in the same transaction.
   */
  replace?: { input: ReplacementInput; confirmed: string[] };
  /** Resume after pre-data committed: only compute the post-data list. */
  skipPreData: boolean;
}

/**
 * --extensions-schema on a Supabase source: the argument types in pg_dump's routine entry names
 * (header text, not SQL) point at the schema the extensions live in on the target. The statements
 * themselves are rewritten on the parse tree (renameSchemaReferences in applySchema).
 */
export function extensionsRewrite(plan: Pick<MovePlan, 'platform'>, extensionsSchema: string): (sql: string) => string {
  if (plan.platform !== 'supabase' || extensionsSchema === 'extensions') return (sql) => sql;
  return (sql) => sql.split('"extensions".').join(`"${extensionsSchema.replace(/"/g, '""')}".`);
}

/** Target side: filter the bundle's entries and apply pre-data in one transaction. */
export async function applySchema(input: ApplySchemaInput): Promise<SchemaOutcome> {
  const { plan, control, bundle } = input;
  const pre = await parseDump(bundle.preData);
  const post = await parseDump(bundle.postData);
  const dropped: DroppedStatement[] = [];
  const relocate = plan.platform === 'supabase' && input.extensionsSchema !== 'extensions';
  const keep = (entries: DumpEntry[]): DumpEntry[] =>
    entries.flatMap((e) => {
      const why = unwanted(e);
      if (why) {
        dropped.push({ entry: `${e.type} ${e.name}`, statement: e.sql.split('\n')[0]!, reason: why });
        return [];
      }
      // The extensions step may already have made the schema an extension lives in.
      let entry = e.type === 'SCHEMA' ? withSql(e, createSchemaIfNotExists(e.sql, e.statements)) : e;
      if (relocate) entry = withSql(entry, renameSchemaReferences(entry.sql, 'extensions', input.extensionsSchema));
      return [entry];
    });
  let preEntries = keep(pre.entries);
  let postEntries = keep(post.entries);

  // Roles: what kept grants and policies name; platform roles the target lacks are dropped from them.
  const referenced = new Set<string>();
  for (const e of [...preEntries, ...postEntries].filter(roleBearing)) for (const stmt of e.statements) for (const r of rolesInStatement(stmt)) referenced.add(r);
  for (const to of Object.values(input.ownerMap)) referenced.add(to);
  const roles = await planRoles(bundle.roles, control, referenced);
  const filterRoles = (entries: DumpEntry[]): DumpEntry[] =>
    entries.flatMap((e) => {
      if (!roleBearing(e)) return [e];
      const statements = e.statements.filter((stmt) => {
        const lacking = rolesInStatement(stmt).filter((r) => roles.missing.has(r));
        if (lacking.length === 0) return true;
        dropped.push({ entry: `${e.type} ${e.name}`, statement: stmt.text.split('\n')[0]!, reason: `names role ${lacking.join(', ')}, a platform role the target does not have` });
        return false;
      });
      if (statements.length === e.statements.length) return [e];
      return statements.length > 0 ? [withSql(e, joinStatements(statements))] : [];
    });
  preEntries = filterRoles(preEntries);
  postEntries = filterRoles(postEntries);

  // ALTER DEFAULT PRIVILEGES FOR ROLE r: r through --owner-map; left out (with a warning) when
  // the target role cannot act for it — a database owner is not a member of "postgres".
  const warnings: string[] = [];
  const forRoles = new Set<string>();
  for (const e of [...preEntries, ...postEntries].filter((x) => x.type === 'DEFAULT ACL')) {
    for (const stmt of e.statements) for (const r of defaultPrivilegeRoles(stmt)) forRoles.add(input.ownerMap[r] ?? r);
  }
  const actable = await rolesActableFor(control, [...forRoles]);
  const mapDefaultPrivileges = (entries: DumpEntry[]): DumpEntry[] =>
    entries.flatMap((e) => {
      if (e.type !== 'DEFAULT ACL') return [e];
      const kept: string[] = [];
      for (const stmt of e.statements) {
        const cannot = defaultPrivilegeRoles(stmt).map((r) => input.ownerMap[r] ?? r).filter((r) => !actable.has(r));
        if (cannot.length === 0) {
          kept.push(`${mapForRoles(stmt, input.ownerMap)};`);
          continue;
        }
        // No "GRANT postgres TO ..." advice: membership in a superuser role is superuser power.
        const reason = `the target role cannot act for role ${cannot.join(', ')} (not a member); map it with --owner-map ${cannot[0]}=<target role> to carry these default privileges for your role, or set them yourself afterwards`;
        dropped.push({ entry: `${e.type} ${e.name}`, statement: stmt.text.split('\n')[0]!, reason });
        warnings.push(`default privileges left out: ${stmt.text.split('\n')[0]!} (${reason})`);
      }
      return kept.length > 0 ? [withSql(e, kept.join('\n'))] : [];
    });
  preEntries = mapDefaultPrivileges(preEntries);
  postEntries = mapDefaultPrivileges(postEntries);

  const outcome: SchemaOutcome = {
    preamble: pre.preamble, postData: postEntries, pgDump: bundle.pgDumpVersion, preDataEntries: preEntries.length, extensions: [],
    rolesCreated: roles.create.map(({ name, reason }) => ({ name, reason })), dropped, deferred: [], ownersMapped: 0, replaced: [], cleaned: [], warnings,
  };
  if (input.skipPreData) return outcome;

  // A table whose CREATE fails is tried again without the defaults and CHECKs that depend on what
  // stays behind (auth.uid(), a platform-only extension's function): its data loads now, and they
  // are deferred with the reason.
  const rewriteTable = (entry: DumpEntry): { sql: string; deferred: DeferredObject[] } | undefined => {
    const created = createdTable(entry.statements);
    if (!created) return undefined;
    const mine = bundle.heldBack.filter((d) => d.schema === created.schema && d.table_name === created.name);
    if (mine.length === 0) return undefined;
    const table = `${quoteIdent(created.schema ?? 'public')}.${quoteIdent(created.name)}`;
    const defaults = mine.filter((d) => d.kind === 'default' && d.column_name);
    const checks = mine.filter((d) => d.kind === 'check' && d.constraint_name);
    const withoutDefaults = removeColumnDefaults(entry.sql, defaults.map((d) => d.column_name!));
    const { sql, removed } = removeTableConstraints(withoutDefaults, checks.map((d) => d.constraint_name!));
    const deferred = [
      ...defaults.map((d): DeferredObject => ({
        type: 'DEFAULT', name: `${d.table_name}.${d.column_name}`, schema: d.schema, reason: heldBackReason(d),
        sql: `ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(d.column_name!)} SET DEFAULT ${d.expression};`,
      })),
      // A CHECK pg_dump wrote as an entry of its own (NOT VALID) is not in the CREATE TABLE: that entry defers itself.
      ...checks.filter((d) => removed.includes(d.constraint_name!)).map((d): DeferredObject => ({
        type: 'CHECK CONSTRAINT', name: `${d.table_name}.${d.constraint_name}`, schema: d.schema, reason: heldBackReason(d),
        sql: `ALTER TABLE ${table} ADD CONSTRAINT ${quoteIdent(d.constraint_name!)} ${d.expression};`,
      })),
    ];
    return { sql, deferred };
  };

  await control.query('BEGIN');
  try {
    if (input.replace) Object.assign(outcome, await replaceObjects(control, input.replace.input, input.replace.confirmed));
    for (const r of roles.create) await control.query(r.sql);
    outcome.extensions = await createExtensions(control, plan.extensions, (e) => (e.schema === 'extensions' && relocate ? input.extensionsSchema : e.schema));
    await control.query(pre.preamble);
    const result = await applyPreData(control, preEntries, rewriteTable);
    if (result.fatal.length > 0) {
      const first = result.fatal[0]!;
      throw new QueryError(`pre-data failed at ${first.entry.type} ${first.entry.schema ?? ''}.${first.entry.name}: ${first.message}${result.fatal.length > 1 ? ` (and ${result.fatal.length - 1} more)` : ''}`, first.sqlstate, {
        hint: first.sqlstate === '42501'
          ? `${privilegeHint(first.message, control.user)}; the target was left unchanged (the schema step runs in one transaction)`
          : 'the target was left unchanged (the schema step runs in one transaction); see the error and rerun with --verbose',
        detail: result.fatal.map((f) => `${f.entry.type} ${f.entry.name}: ${f.message}`).join('\n'),
      });
    }
    outcome.deferred = result.deferred;
    // Owners: everything belongs to the connecting role unless mapped.
    // An owner change of an object pre-data deferred (not on the target yet) is deferred with it.
    for (const o of bundle.owners.filter((x) => input.ownerMap[x.owner])) {
      const sql = `${o.stmt}${quoteIdent(input.ownerMap[o.owner]!)}`;
      const failure = await tryInSavepoint(control, sql);
      if (!failure) outcome.ownersMapped++;
      else if (DEFERRABLE_SQLSTATES.has(failure.code ?? '')) {
        outcome.deferred.push({ type: 'OWNER', name: o.stmt.slice(0, -' OWNER TO '.length) /* owners.sql ends each statement so */, schema: null, reason: `the object was deferred (${failure.message}); its owner is set with it`, sql: `${sql};` });
      } else {
        throw new QueryError(`setting an owner failed: ${sql}: ${failure.message}`, failure.code, {
          hint: 'the target was left unchanged (the schema step runs in one transaction); the --owner-map role must exist and the target role must be a member of it',
        });
      }
    }
    await control.query('COMMIT');
  } catch (error) {
    await control.query('ROLLBACK').catch(() => {});
    throw toQueryError(error, 'roles, extensions and pre-data', 'target', control.user);
  }
  return outcome;
}

/** Run one statement in a savepoint: undefined when it ran, else the error (rolled back to before it). */
async function tryInSavepoint(client: pg.ClientBase, sql: string): Promise<{ message: string; code?: string } | undefined> {
  await client.query('SAVEPOINT offramp_owner');
  try {
    await client.query(sql);
    await client.query('RELEASE SAVEPOINT offramp_owner');
    return undefined;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT offramp_owner');
    const e = error as { message: string; code?: string };
    return { message: e.message, code: e.code };
  }
}
