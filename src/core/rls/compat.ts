/**
 * compat mode: RLS stays in the database. Installs, in ONE transaction on the target: the
 * compatibility functions (uid/jwt/role/email, Supabase's semantics), the storage helper
 * equivalents when storage policies are kept, the API roles with the grants the source had, the
 * functions the policies call, the policies (rewritten where the compat schema or the auth layout
 * differs), ENABLE/FORCE ROW LEVEL SECURITY as on the source, and the deferred objects that only
 * waited for the compatibility functions. Then the deferred file loses what was done. Idempotent.
 */
import type pg from 'pg';
import { revokeNonOwnerGrants } from '../../db/acl.js';
import { loadSql, query } from '../../db/sql.js';
import { findNodes, parseStatements, scanTokens, type SqlNode } from '../../db/sql-parse.js';
import { PreflightFailedError } from '../../errors.js';
import type { Progress } from '../../output/progress.js';
import { API_ROLES, COMPAT_AUTH_FUNCTIONS, COMPAT_STORAGE_FUNCTIONS, ownsTable, PLATFORM_SCHEMAS, type RlsAuthLayout } from './classify.js';
import { holdBackWidened } from './hold-back.js';
import { deferredFilePath } from '../move/finish.js';
import { readDeferredFile, writeDeferredFile, type DeferredBlock } from './deferred.js';
import { functionKey, type RlsCatalog, type SourceFunction, type SourcePolicy } from './read.js';
import { ident, rewriteExpression, rewriteSql, type RewriteRules } from './rewrite.js';
import type { TargetFacts } from './translate.js';
import type { InstalledSummary, RlsTranslateOptions, TranslatedPolicy } from './types.js';

export interface CompatRewrite {
  compatSchema: string;
  authLayout: RlsAuthLayout;
  /** Platform types the target has; a literal compared with a cast to another one is compared as text. */
  targetTypes?: Set<string>;
}

/** auth.uid() → <schema>.uid(); auth.users → the local users table (table layout). */
export function compatRules(r: CompatRewrite): RewriteRules {
  return {
    callSchema: (site) => (r.compatSchema !== 'auth' && site.name.length === 2 && site.name[0] === 'auth' && (COMPAT_AUTH_FUNCTIONS as readonly string[]).includes(site.name[1]!)
      ? ident(r.compatSchema) : undefined),
    relation: (rel) => {
      if (r.authLayout.kind !== 'table' || rel.schema !== 'auth' || (rel.name !== 'users' && rel.name !== 'identities')) return undefined;
      const local = r.authLayout[rel.name];
      // Keep the old name as the alias: expressions say users.id.
      return `${ident(local.schema)}.${ident(local.name)}${rel.hasAlias ? '' : ` AS ${ident(rel.name)}`}`;
    },
    // Where the target keeps a platform enum as text (auth migrate's auth.mfa_factors.status): see classify's judgeCasts.
    castType: (site) => (site.literalEquality && site.names.length === 2 && PLATFORM_SCHEMAS.has(site.names[0]!) && !r.targetTypes?.has(site.names.join('.')) ? 'text' : undefined),
  };
}

const needsRewrite = (r: CompatRewrite): boolean => r.compatSchema !== 'auth' || r.authLayout.kind === 'table';

const COMMANDS: Record<SourcePolicy['command'], string> = { SELECT: 'SELECT', INSERT: 'INSERT', UPDATE: 'UPDATE', DELETE: 'DELETE', ALL: 'ALL' };

/** The CREATE POLICY statement for the target, or why there is none. */
export function compatPolicySql(p: SourcePolicy, r: CompatRewrite): { ok: true; sql: string } | { ok: false; reason: string } {
  if (p.parseError) return { ok: false, reason: p.parseError };
  try {
    const rules = compatRules(r);
    // Expressions are always run through the rewrite: casts to platform types the target lacks change too.
    const expr = (e: SourcePolicy['using']): string | undefined => (e ? rewriteExpression(e.text, rules) : undefined);
    const using = expr(p.using);
    const check = expr(p.withCheck);
    const roles = p.roles.map((x) => (x === 'public' ? 'PUBLIC' : ident(x))).join(', ');
    return {
      ok: true,
      sql: `CREATE POLICY ${ident(p.name)} ON ${ident(p.schema)}.${ident(p.table)} AS ${p.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${COMMANDS[p.command]} TO ${roles}`
        + `${using !== undefined ? ` USING (${using})` : ''}${check !== undefined ? ` WITH CHECK (${check})` : ''}`,
    };
  } catch (error) {
    return { ok: false, reason: `cannot rewrite: ${(error as Error).message}` };
  }
}

/** A function's definition for the target: rewritten in its SQL body when the rewrite touches it. */
function functionDefinition(fn: SourceFunction, r: CompatRewrite): { ok: true; sql: string } | { ok: false; reason: string } {
  if (!needsRewrite(r)) return { ok: true, sql: fn.definition };
  const touches = fn.refs.calls.some((c) => c.startsWith('auth.')) || fn.refs.relations.some((x) => x === 'auth.users' || x === 'auth.identities');
  if (!touches) return { ok: true, sql: fn.definition };
  if (fn.language !== 'sql') return { ok: false, reason: `${functionKey(fn)} is ${fn.language}: offramp rewrites only SQL function bodies (--compat-schema / table layout)` };
  const rewritten = parseStatements(fn.body).map((s) => rewriteSql(s.text, parseStatements(s.text)[0]!.node, compatRules(r))).join(';\n');
  // The body is the one string constant of the AS clause: replace that token.
  const tokens = scanTokens(fn.definition);
  const bodyToken = tokens.find((t) => t.tokenName === 'SCONST' && t.text.includes(fn.body.trim().slice(0, 20)));
  if (!bodyToken) return { ok: false, reason: `cannot find the body of ${functionKey(fn)} in its definition` };
  let tag = '$offramp$';
  while (rewritten.includes(tag)) tag = `$offramp${tag.length}$`;
  const bytes = Buffer.from(fn.definition, 'utf8');
  return { ok: true, sql: `${bytes.subarray(0, bodyToken.start).toString('utf8')}${tag}${rewritten}${tag}${bytes.subarray(bodyToken.end).toString('utf8')}` };
}

/** Callees before callers: a SQL function's body is checked when it is created. */
function dependencyOrder(fns: SourceFunction[]): SourceFunction[] {
  const byKey = new Map(fns.map((f) => [functionKey(f), f]));
  const out: SourceFunction[] = [];
  const seen = new Set<string>();
  const visit = (f: SourceFunction): void => {
    const k = functionKey(f);
    if (seen.has(k)) return;
    seen.add(k);
    for (const c of f.callsFunctions) { const g = byKey.get(c); if (g) visit(g); }
    out.push(f);
  };
  fns.forEach(visit);
  return out;
}

const PLATFORM_FUNCTION_SCHEMAS = new Set(['auth', 'storage']);

async function savepoint<T>(client: pg.Client, fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  await client.query('SAVEPOINT offramp_rls');
  try {
    const value = await fn();
    await client.query('RELEASE SAVEPOINT offramp_rls');
    return { ok: true, value };
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT offramp_rls');
    return { ok: false, error: error as Error };
  }
}

interface ApplyOptions extends RlsTranslateOptions {
  compatSchema: string;
  facts: TargetFacts;
  storageKept: boolean;
}

export async function applyCompat(
  target: pg.Client, source: pg.Client, catalog: RlsCatalog, policies: TranslatedPolicy[], options: ApplyOptions, progress: Progress, warnings: string[],
): Promise<InstalledSummary> {
  const r: CompatRewrite = { compatSchema: options.compatSchema, authLayout: options.authLayout };
  const step = progress.step('installing the RLS translation on the target (one transaction)');
  const toInstall = policies.map((p, i) => ({ p, src: catalog.policies[i]! })).filter(({ p }) => p.sql && !p.leftOut);
  const summary: InstalledSummary = {
    schema: options.compatSchema, functions: [], storageFunctions: [], rolesCreated: [], grants: 0, policies: 0, rlsTables: [], deferredApplied: [], deferredPoliciesRemoved: 0,
  };
  await target.query('BEGIN');
  try {
    const searchPath = (await target.query<{ p: string }>("SELECT current_setting('search_path') AS p")).rows[0]!.p;
    const inSchema = async (schema: string, file: string, what: string): Promise<void> => {
      await target.query("SELECT pg_catalog.set_config('search_path', $1, true)", [ident(schema)]);
      try {
        await query(target, loadSql(file), [], what);
      } finally {
        await target.query("SELECT pg_catalog.set_config('search_path', $1, true)", [searchPath]);
      }
    };

    // 1. The API roles (NOLOGIN; service_role BYPASSRLS), as Supabase has them.
    const missingRoles = API_ROLES.filter((x) => !options.facts.roles.has(x));
    for (const role of missingRoles) {
      const made = await savepoint(target, () => target.query(`CREATE ROLE ${ident(role)} NOLOGIN NOINHERIT${role === 'service_role' ? ' BYPASSRLS' : ''}`));
      if (!made.ok) {
        const adminSql = missingRoles.map((x) => `CREATE ROLE ${ident(x)} NOLOGIN NOINHERIT${x === 'service_role' ? ' BYPASSRLS' : ''};`).join(' ');
        throw new PreflightFailedError(`cannot create the API role ${role} on the target: ${made.error.message}`, { hint: `ask an administrator to run: ${adminSql} — or use a role with CREATEROLE` });
      }
      summary.rolesCreated.push(role);
    }

    // 2. The compatibility functions, in the compat schema.
    await query(target, `CREATE SCHEMA IF NOT EXISTS ${ident(options.compatSchema)}`, [], `create schema ${options.compatSchema}`);
    const made = await savepoint(target, () => inSchema(options.compatSchema, 'rls/compat/functions.sql', 'create the compatibility functions'));
    if (made.ok) summary.functions.push(...COMPAT_AUTH_FUNCTIONS.map((f) => `${options.compatSchema}.${f}()`));
    else warnings.push(`kept the target's own ${options.compatSchema}.uid()/jwt()/role()/email(): ${made.error.message}`);
    await query(target, `GRANT USAGE ON SCHEMA ${ident(options.compatSchema)} TO ${API_ROLES.map(ident).join(', ')}`, [], 'grant the compat schema');

    // Directly or through a helper the policy calls (makerkit's kit.get_storage_filename_as_uuid calls storage.filename).
    const callsStorageHelper = (refs: { calls: string[] } | undefined): boolean =>
      Boolean(refs?.calls.some((c) => (COMPAT_STORAGE_FUNCTIONS as readonly string[]).some((f) => c === `storage.${f}`)));
    const usesStorageHelpers = toInstall.some(({ src }) =>
      [src.using, src.withCheck].some((e) => callsStorageHelper(e?.refs)) || src.functions.some((fn) => callsStorageHelper(fn.refs)));
    if (options.storageKept && usesStorageHelpers) {
      const present = (await target.query<{ n: number }>(`SELECT count(*)::int AS n FROM unnest(ARRAY['storage.foldername(text)', 'storage.filename(text)', 'storage.extension(text)']) s WHERE to_regprocedure(s) IS NOT NULL`)).rows[0]!.n;
      if (present < 3) {
        await inSchema('storage', 'rls/compat/storage.sql', 'create the storage helper functions');
        summary.storageFunctions.push(...COMPAT_STORAGE_FUNCTIONS.map((f) => `storage.${f}(text)`));
      }
    }

    // 3. The grants the API roles had on the tables with RLS (and USAGE on their schemas).
    const onTarget = catalog.tables.filter((t) => options.facts.tables.has(`${t.schema}.${t.table}`) && ownsTable(t.schema, options.storageKept));
    const grants = await query<{ schema: string; table: string; grantee: string; privilege: string }>(source, loadSql('rls/api-role-grants.sql'),
      [onTarget.map((t) => `${t.schema}.${t.table}`)], 'read the API roles\' grants');
    const schemas = [...new Set(onTarget.map((t) => t.schema))];
    const usage = await query<{ schema: string; role: string }>(source,
      `SELECT s AS schema, r AS role FROM unnest($1::text[]) s, unnest($2::text[]) r WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) AND has_schema_privilege(r, s, 'USAGE')`,
      [schemas, [...API_ROLES]], 'read schema usage');
    for (const u of usage) await query(target, `GRANT USAGE ON SCHEMA ${ident(u.schema)} TO ${ident(u.role)}`, [], `grant usage on ${u.schema}`);
    for (const g of grants) {
      await query(target, `GRANT ${g.privilege} ON TABLE ${ident(g.schema)}.${ident(g.table)} TO ${ident(g.grantee)}`, [], `grant ${g.privilege} on ${g.schema}.${g.table}`);
      summary.grants++;
    }

    // 4. The functions the installed policies call (missing ones, or rewritten ones).
    const fns = dependencyOrder([...new Map(toInstall.flatMap(({ src }) => src.functions).map((f) => [functionKey(f), f])).values()])
      .filter((f) => !PLATFORM_FUNCTION_SCHEMAS.has(f.schema));
    for (const fn of fns) {
      // fn.args are identity arguments WITH names ("account_id uuid"), which to_regprocedure rejects as a syntax error.
      const exists = (await target.query<{ ok: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                         WHERE n.nspname = $1 AND p.proname = $2 AND pg_catalog.pg_get_function_identity_arguments(p.oid) = $3) AS ok`,
        [fn.schema, fn.name, fn.args])).rows[0]!.ok;
      const def = functionDefinition(fn, r);
      if (!def.ok) {
        for (const x of toInstall.filter(({ src }) => src.functions.includes(fn))) { x.p.leftOut = def.reason; x.p.reasons.push(def.reason); }
        continue;
      }
      if (exists && def.sql === fn.definition) continue;
      await query(target, `CREATE SCHEMA IF NOT EXISTS ${ident(fn.schema)}`, [], `create schema ${fn.schema}`);
      await query(target, def.sql, [], `create function ${functionKey(fn)}`);
      if (options.facts.roles.has(fn.owner)) {
        const owned = await savepoint(target, () => target.query(`ALTER FUNCTION ${ident(fn.schema)}.${ident(fn.name)}(${fn.args}) OWNER TO ${ident(fn.owner)}`));
        if (!owned.ok) warnings.push(`${functionKey(fn)} is owned by the target role, not ${fn.owner} as on the source: ${owned.error.message}`);
      }
      summary.functions.push(functionKey(fn));
    }

    // A helper that could not be rewritten left policies out just now: fail closed again.
    if (!options.force) holdBackWidened(policies);

    // 5. The policies, replaced when present (idempotent).
    for (const { p } of toInstall) {
      if (p.leftOut) continue;
      const table = `${ident(p.schema)}.${ident(p.table)}`;
      await query(target, `DROP POLICY IF EXISTS ${ident(p.name)} ON ${table}`, [], `drop policy "${p.name}" on ${p.schema}.${p.table}`);
      await query(target, p.sql!, [], `create policy "${p.name}" on ${p.schema}.${p.table}`);
      p.installed = true;
      summary.policies++;
    }

    // 6. ENABLE / FORCE ROW LEVEL SECURITY as on the source.
    for (const t of onTarget) {
      const name = `${ident(t.schema)}.${ident(t.table)}`;
      await query(target, `ALTER TABLE ${name} ${t.enabled ? 'ENABLE' : 'DISABLE'} ROW LEVEL SECURITY, ${t.forced ? 'FORCE' : 'NO FORCE'} ROW LEVEL SECURITY`, [], `set RLS on ${t.schema}.${t.table}`);
      if (t.enabled) summary.rlsTables.push(`${t.schema}.${t.table}`);
    }

    // 7. The deferred objects that only waited for this stage.
    const database = (await target.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    const file = deferredFilePath(options.workDir, database);
    const blocks = readDeferredFile(file);
    let remaining: DeferredBlock[] | undefined;
    if (blocks) {
      remaining = await replayDeferred(target, blocks, r, summary, new Set(fns.map(functionKey)));
      summary.deferredFile = file;
    }
    await target.query('COMMIT');
    // After the commit: a file that still lists what the target now has is harmless (it would be
    // skipped or replaced next time); a file that lost what the target lacks would not be.
    if (blocks && remaining) writeDeferredFile(file, remaining);
    step.succeed(`${summary.policies} policies, ${summary.functions.length} functions, ${summary.grants} grants installed`);
    return summary;
  } catch (error) {
    await target.query('ROLLBACK').catch(() => {});
    step.fail();
    throw error;
  }
}

const callsCompat = (tree: unknown): boolean => findNodes(tree, 'FuncCall').some((c) => {
  const name = ((c.funcname as Array<{ String?: { sval?: string } }>) ?? []).map((n) => n.String?.sval);
  return name.length === 2 && name[0] === 'auth' && (COMPAT_AUTH_FUNCTIONS as readonly string[]).includes(name[1]!);
});

/** Relation names (`schema.name`) a statement creates, or names in its objects (GRANT, COMMENT). */
function createdRelations(node: SqlNode, kind: string): string[] {
  if (kind === 'ViewStmt' || kind === 'CreateTableAsStmt') {
    const rv = (kind === 'ViewStmt' ? node.view : (node.into as SqlNode | undefined)?.rel) as { schemaname?: string; relname?: string } | undefined;
    return rv?.relname ? [`${rv.schemaname ?? 'public'}.${rv.relname}`] : [];
  }
  return [];
}

/** `schema.name` (as createdRelations gives it) quoted for SQL. */
function qualifiedRelation(dotted: string): string {
  const at = dotted.indexOf('.');
  return `${ident(dotted.slice(0, at))}.${ident(dotted.slice(at + 1))}`;
}

function mentionedRelations(node: SqlNode): string[] {
  const out = findNodes(node, 'RangeVar').map((rv) => `${String(rv.schemaname ?? 'public')}.${String(rv.relname)}`);
  // COMMENT ON VIEW s.v: the object is a list of names.
  const svals = findNodes(node, 'String').map((s) => String(s.sval));
  for (let i = 0; i + 1 < svals.length; i++) out.push(`${svals[i]}.${svals[i + 1]}`);
  return out;
}

/**
 * Take out of the deferred file: every policy (installed from the catalog above, or reported),
 * functions installed above, and — applied now, each in a savepoint — objects that call the
 * compatibility functions, with the comments and grants of what they create. The rest stays.
 */
async function replayDeferred(target: pg.Client, blocks: DeferredBlock[], r: CompatRewrite, summary: InstalledSummary, installedFunctions: Set<string>): Promise<DeferredBlock[]> {
  const remaining: DeferredBlock[] = [];
  const created = new Set<string>();
  for (const block of blocks) {
    const first = block.statements[0];
    if (!first) continue;
    if (block.statements.every((s) => s.kind === 'CreatePolicyStmt')) {
      summary.deferredPoliciesRemoved += block.statements.length;
      continue;
    }
    if (first.kind === 'CreateFunctionStmt') {
      const names = findNodes((first.node as { funcname?: unknown }).funcname, 'String').map((s) => String(s.sval));
      if ([...installedFunctions].some((k) => k.startsWith(`${names.join('.')}(`))) continue;
    }
    const trees = block.statements.map((s) => ({ s, tree: parseStatements(s.text)[0]! }));
    const wanted = trees.some(({ tree }) => callsCompat(tree.node))
      || trees.every(({ tree }) => (tree.kind === 'GrantStmt' || tree.kind === 'CommentStmt') && mentionedRelations(tree.node).some((m) => created.has(m)));
    if (!wanted) {
      remaining.push(block);
      continue;
    }
    const texts = trees.map(({ s, tree }) => (needsRewrite(r) ? rewriteSql(s.text, tree.node, compatRules(r)) : s.text));
    const ran = await savepoint(target, async () => {
      for (const t of texts) await target.query(t);
      // Created now, it carries the target's default privileges; its ACL entries replay onto owner-only.
      for (const { tree } of trees) {
        for (const rel of createdRelations(tree.node, tree.kind)) await revokeNonOwnerGrants(target, qualifiedRelation(rel));
      }
    });
    if (!ran.ok) {
      remaining.push(block);
      continue;
    }
    for (const { tree } of trees) createdRelations(tree.node, tree.kind).forEach((c) => created.add(c));
    summary.deferredApplied.push(block.header.split(':')[0]!);
  }
  return remaining;
}

