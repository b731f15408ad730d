/**
 * Everything `copy` left behind because it pointed into auth.users / auth.identities, brought home
 * once the users are on the target: foreign keys (added NOT VALID, then validated in their own
 * transaction), triggers on the users tables (re-created on the local one, so `handle_new_user`
 * keeps giving new users a profile), views and materialized views with their grants and comments,
 * and functions naming the tables. Keep layout applies them unchanged; table layout rewrites the
 * references on the parse tree first (auth-refs.ts). Objects calling auth.uid()-style helpers are
 * the RLS stage's and stay deferred. Each object runs in its own target transaction with a
 * savepoint: one that fails is reported with the reason, the others go on; one already present and
 * equal is rolled back untouched and reported `already-present`, so a re-run changes nothing.
 */
import type pg from 'pg';
import { connect } from '../../db/connect.js';
import { loadSql } from '../../db/sql.js';
import { applyEdits, loadSqlParser, parseStatements, quoteIdent, scanTokens } from '../../db/sql-parse.js';
import { parseConnectionUrl } from '../../db/url.js';
import { isConnectionLoss } from '../../errors.js';
import type { Progress } from '../../output/progress.js';
import { redact } from '../../secrets.js';
import { readAuthDependents, type AuthDependent } from './auth-dependents.js';
import { functionUsesColumns, rewriteFunctionDef, rewriteSqlText, type AuthRefMap } from './auth-refs.js';
import { deferredFilePath } from '../move/finish.js';
import { authEntriesLeft, pruneDeferredFile } from './deferred-file.js';
import type { AuthLayout } from './layout.js';
import { authRefMap } from './layout-refs.js';

export interface AuthObjectOutcome {
  kind: 'foreign-key' | 'default' | 'check' | 'view' | 'materialized-view' | 'function' | 'trigger' | 'grant' | 'comment' | 'policy' | 'other';
  name: string;
  status: 'created' | 'rewritten' | 'already-present' | 'still-deferred';
  reason?: string;
}

export interface BringHomeArgs {
  sourceUrl: string;
  targetUrl: string;
  layout: AuthLayout;
  workDir: string;
  connectTimeoutSeconds?: number;
  progress: Progress;
}

/** Functions first (views may call them), then views, foreign keys, and triggers last. */
const ORDER: Record<AuthDependent['kind'], number> = { function: 0, view: 1, 'materialized-view': 2, 'foreign-key': 3, trigger: 4 };

export async function bringHomeAuthObjects(args: BringHomeArgs): Promise<AuthObjectOutcome[]> {
  await loadSqlParser();
  const map = authRefMap(args.layout);
  const source = await connect(args.sourceUrl, { role: 'source', timeoutSeconds: args.connectTimeoutSeconds, applicationName: 'offramp-auth' });
  let dependents: AuthDependent[];
  try {
    dependents = await readAuthDependents(source, parseConnectionUrl(args.sourceUrl, 'source URL'));
  } finally {
    await source.end().catch(() => {});
  }
  dependents.sort((a, b) => ORDER[a.kind] - ORDER[b.kind]);

  const outcomes: AuthObjectOutcome[] = [];
  const home = new Set<string>();
  const target = await connect(args.targetUrl, { role: 'target', timeoutSeconds: args.connectTimeoutSeconds, applicationName: 'offramp-auth' });
  try {
    await target.query('SET search_path = pg_catalog');
    for (const [i, dep] of dependents.entries()) {
      args.progress.log('debug', `auth object ${i + 1}/${dependents.length}: ${dep.kind} ${dep.name}`);
      const outcome = await bringOne(target, dep, map);
      outcomes.push(outcome);
      if (outcome.status !== 'still-deferred') home.add(objectKey(dep));
      if (outcome.status === 'still-deferred') args.progress.log('info', `${dep.kind} ${dep.name} stays deferred: ${outcome.reason}`);
    }
  } finally {
    await target.end().catch(() => {});
  }
  const file = deferredFilePath(args.workDir, parseConnectionUrl(args.targetUrl, 'target URL').database);
  const pruned = pruneDeferredFile(file, home);
  outcomes.push(...leftInFile(file, new Set(dependents.map(objectKey))));
  const deferred = outcomes.filter((o) => o.status === 'still-deferred').length;
  args.progress.log('info', `${outcomes.length - deferred} of ${outcomes.length} auth-dependent objects on the target${pruned.removed > 0 ? `; ${pruned.removed} entries taken out of the deferred file` : ''}`);
  return outcomes;
}

/**
 * What the deferred file still holds that names auth and is not one of the objects above
 * (policies, defaults calling auth.uid(), the grants and comments of an object that stays
 * deferred): listed as still deferred, with whose stage it is.
 */
function leftInFile(file: string, listed: Set<string>): AuthObjectOutcome[] {
  return authEntriesLeft(file)
    .filter((e) => !(e.keys.length > 0 && ['view', 'materialized-view', 'foreign-key'].includes(e.kind) && e.keys.every((k) => listed.has(k))))
    .map((e) => {
      const helpers = e.names.filter((n) => n.endsWith('()'));
      const reason = helpers.length > 0 ? `calls ${helpers.join(', ')}: the RLS stage provides those, so it stays deferred for it` : e.reason;
      return { kind: e.kind, name: e.name, status: 'still-deferred' as const, reason };
    });
}

/** The key deferred-file.ts reads from the deferred entries, for the same object. */
function objectKey(dep: AuthDependent): string {
  const unquoted = `${dep.schema}.${dep.kind === 'foreign-key' || dep.kind === 'trigger' ? `${dep.table}.${dep.objectName}` : dep.objectName}`;
  if (dep.kind === 'foreign-key') return `constraint ${unquoted}`;
  if (dep.kind === 'trigger') return `trigger ${unquoted}`;
  if (dep.kind === 'function') return `function ${dep.identity}`;
  return `relation ${unquoted}`;
}

interface Planned {
  statements: string[];
  rewritten: boolean;
  /** Where the object lives on the target (a trigger moves to the local users table). */
  relation: string | null;
}

function deferredBecause(dep: AuthDependent, reason: string): AuthObjectOutcome {
  return { kind: dep.kind, name: dep.name, status: 'still-deferred', reason };
}

/** The object's statements as the target needs them, or why they cannot be had safely. */
function plan(dep: AuthDependent, map: AuthRefMap | undefined): Planned | string {
  let relation = dep.relation;
  let statements = dep.statements;
  let rewritten = false;
  if (map) {
    if (dep.unreadable) return `cannot rewrite safely: ${dep.unreadable}`;
    const results = statements.map((s) => (dep.kind === 'function' ? rewriteFunctionDef(s, map) : rewriteSqlText(s, map)));
    const problems = [...new Set(results.flatMap((r) => r.problems))];
    if (problems.length > 0) return `cannot rewrite safely: ${problems.join('; ')}`;
    statements = results.map((r) => r.sql);
    rewritten = results.some((r) => r.changed);
    if (dep.kind === 'trigger') {
      const local = map[dep.table === 'users' ? 'users' : 'identities'];
      const renamed = functionUsesColumns(dep.triggerFunction ?? '', Object.keys(local.columns).filter((g) => local.columns[g] !== g));
      if (renamed.length > 0) {
        return `its function reads ${renamed.join(', ')}, which ${local.schema}.${local.name} calls ${renamed.map((g) => local.columns[g]).join(', ')}: on that table every insert would fail; adapt the function, then create the trigger`;
      }
      relation = `${quoteIdent(local.schema)}.${quoteIdent(local.name)}`;
    }
  }
  if (dep.kind === 'trigger' || dep.kind === 'view') statements = [orReplace(statements[0]!), ...statements.slice(1)];
  if (dep.comment !== undefined && relation) {
    const what = dep.kind === 'foreign-key' ? 'CONSTRAINT' : 'TRIGGER';
    statements = [...statements, `COMMENT ON ${what} ${quoteIdent(dep.objectName)} ON ${relation} IS '${dep.comment.split("'").join("''")}'`];
  }
  return { statements, rewritten, relation };
}

/** `CREATE TRIGGER|VIEW` → `CREATE OR REPLACE ...`: a token edit after CREATE (the tree's `replace` flag). */
function orReplace(sql: string): string {
  const [st] = parseStatements(sql);
  if (!st || st.node.replace === true) return sql;
  const create = scanTokens(sql).find((t) => t.start >= st.start);
  return create && create.text.toUpperCase() === 'CREATE' ? applyEdits(sql, [{ start: create.end, end: create.end, replacement: ' OR REPLACE' }]) : sql;
}

async function state(c: pg.Client, kind: string, where: string | null, name: string): Promise<string | null> {
  const { rows } = await c.query<{ state: string }>(loadSql('auth/bring-home/object-state.sql'), [kind, where, name]);
  return rows[0]?.state ?? null;
}

async function bringOne(c: pg.Client, dep: AuthDependent, map: AuthRefMap | undefined): Promise<AuthObjectOutcome> {
  if (dep.refs.helpers.length > 0) {
    return deferredBecause(dep, `calls ${dep.refs.helpers.join(', ')}: the RLS stage provides those, so it stays deferred for it`);
  }
  const planned = plan(dep, map);
  if (typeof planned === 'string') return deferredBecause(dep, planned);
  const where = dep.kind === 'function' ? dep.identity : planned.relation;
  const done = (changed: boolean): AuthObjectOutcome => ({
    kind: dep.kind, name: dep.name, status: !changed ? 'already-present' : planned.rewritten ? 'rewritten' : 'created',
  });
  try {
    if (dep.kind === 'foreign-key') return await bringForeignKey(c, dep, planned, done);
    await c.query('BEGIN');
    await c.query('SAVEPOINT auth_object');
    const before = await state(c, dep.kind, where, dep.objectName);
    // The same definition already there (the server prints it the same way on both sides): no
    // CREATE OR REPLACE at all, which would need the function's owner for nothing.
    if (dep.kind === 'function' && before !== null && `${before}\n`.startsWith(`${planned.statements[0]!}\n`)) {
      await c.query('COMMIT');
      return done(false);
    }
    if (dep.kind === 'materialized-view' && before !== null) {
      await c.query('COMMIT');
      return { ...done(false), reason: 'a materialized view of that name exists; its definition was not compared' };
    }
    for (const [k, s] of planned.statements.entries()) {
      await c.query(s);
      if (k === 0 && before === null && (dep.kind === 'view' || dep.kind === 'materialized-view')) await dropDefaultPrivileges(c, planned.relation!);
    }
    const after = await state(c, dep.kind, where, dep.objectName);
    if (after === null) throw new Error(`${dep.kind} ${dep.name} is not on the target after its statements ran`);
    // Re-created exactly as it was: undo even the no-op, so a re-run leaves the catalog alone.
    if (after === before) await c.query('ROLLBACK TO SAVEPOINT auth_object');
    await c.query('COMMIT');
    return done(after !== before);
  } catch (error) {
    return failed(c, dep, error);
  }
}

/**
 * A view created now got the target's default privileges (ALTER DEFAULT PRIVILEGES, which copy
 * applied at its end); pg_dump's GRANTs that follow assume the owner-only default, as on the
 * source: take the others away first, so the view's privileges end up as the source's.
 */
async function dropDefaultPrivileges(c: pg.Client, relation: string): Promise<void> {
  const { rows } = await c.query<{ grantee: string }>(
    `SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END AS grantee
       FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = to_regclass($1) AND a.grantee <> c.relowner`, [relation]);
  if (rows.length > 0) await c.query(`REVOKE ALL ON TABLE ${relation} FROM ${rows.map((r) => r.grantee).join(', ')}`);
}

/**
 * A foreign key: present with an equal definition (same parse tree) → only validated if it is
 * not yet; absent → added NOT VALID (a partitioned table takes it validated: PostgreSQL has no NOT
 * VALID there) and validated in a transaction of its own, so a row without its user is reported
 * while the constraint stays, enforced for new rows.
 */
async function bringForeignKey(c: pg.Client, dep: AuthDependent, planned: Planned, done: (changed: boolean) => AuthObjectOutcome): Promise<AuthObjectOutcome> {
  const { rows } = await c.query<{ def: string; validated: boolean }>(
    `SELECT format('ALTER TABLE x ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)) AS def, convalidated AS validated
       FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2`, [planned.relation, dep.objectName]);
  const existing = rows[0];
  let changed = false;
  if (existing) {
    if (constraintTree(existing.def) !== constraintTree(planned.statements[0]!)) {
      return deferredBecause(dep, `a constraint ${dep.objectName} with another definition is already on ${planned.relation}; drop it to have it brought home`);
    }
  } else {
    await c.query('BEGIN');
    await c.query('SAVEPOINT auth_object');
    await c.query(dep.partitioned ? planned.statements[0]! : `${planned.statements[0]!} NOT VALID`);
    for (const s of planned.statements.slice(1)) await c.query(s);
    await c.query('COMMIT');
    changed = true;
  }
  if (!existing?.validated) {
    try {
      await c.query(`ALTER TABLE ${planned.relation} VALIDATE CONSTRAINT ${quoteIdent(dep.objectName)}`);
    } catch (error) {
      if (isConnectionLoss(error)) throw error;
      return deferredBecause(dep, `added NOT VALID (new rows are checked), but validating existing rows failed: ${redact((error as Error).message)}`);
    }
    changed = true;
  }
  return done(changed);
}

/** The ADD CONSTRAINT part of an ALTER TABLE, as a parse tree without locations (quoting and spacing do not count). */
function constraintTree(sql: string): string {
  const [st] = parseStatements(sql);
  return JSON.stringify(st?.node.cmds ?? null, (key, value) => (key === 'location' ? undefined : value));
}

async function failed(c: pg.Client, dep: AuthDependent, error: unknown): Promise<AuthObjectOutcome> {
  if (isConnectionLoss(error)) throw error;
  await c.query('ROLLBACK').catch(() => {});
  return deferredBecause(dep, `the target refused it: ${redact((error as Error).message)}`);
}
