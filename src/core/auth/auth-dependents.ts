/**
 * The source side of bringing auth-dependent objects home: what in the project's own schemas
 * depends on auth.users / auth.identities, read from the source catalog every time (so it works
 * from another machine than the copy ran on), with each object's DDL as the server or pg_dump
 * writes it — never assembled by hand beyond `ALTER TABLE ... ADD CONSTRAINT <server's def>`.
 */
import type pg from 'pg';
import { findClientTools } from '../../db/pg-tools.js';
import { runTool } from '../../db/run-tool.js';
import { loadSql } from '../../db/sql.js';
import { loadSqlParser, parseStatements, quoteIdent } from '../../db/sql-parse.js';
import { libpqEnv, type ConnectionInfo } from '../../db/url.js';
import { ExternalToolError } from '../../errors.js';
import { redact } from '../../secrets.js';
import { MANAGED_SCHEMAS } from '../supabase/platform.js';
import { parseDump } from '../move/dump-sql.js';
import { statementKeys } from './deferred-file.js';
import { authRefsOfFunction, authRefsOfTree, type AuthRefs } from './auth-refs.js';

export type DependentKind = 'foreign-key' | 'trigger' | 'view' | 'materialized-view' | 'function';

export interface AuthDependent {
  kind: DependentKind;
  /** Display name: `public.profiles.profiles_id_fkey`, `auth.users.on_auth_user_created`, `public.my_account`, `public.f(uuid)`. */
  name: string;
  schema: string;
  /** The table a constraint or trigger belongs to (`auth.users` for triggers on it), the view itself, or null for functions. */
  relation: string | null;
  /** The same table or view, unquoted (without its schema). */
  table: string | null;
  objectName: string;
  /** For functions: `schema.name(argument types)` as regprocedure prints it. */
  identity: string | null;
  /** The object's DDL on the source: one or more statements, grants and comments included. */
  statements: string[];
  refs: AuthRefs;
  /** For a trigger: its function's definition (what it reads of NEW/OLD decides whether a renamed column breaks it). */
  triggerFunction?: string;
  /** A constraint's or trigger's comment (its COMMENT statement names the table it ends up on). */
  comment?: string;
  /** Why the parser could not read everything the object says (then it is not rewritten). */
  unreadable?: string;
  partitioned: boolean;
  populated: boolean;
}

interface Row {
  kind: DependentKind;
  schema: string;
  relation: string | null;
  name: string;
  partitioned: boolean;
  populated: boolean | null;
  ddl: string | null;
  comment: string | null;
  identity: string | null;
  trigger_function: string | null;
}

const qualified = (schema: string, name: string): string => `${quoteIdent(schema)}.${quoteIdent(name)}`;

/** Read the dependents in one read-only session; views' DDL comes from pg_dump. */
export async function readAuthDependents(source: pg.Client, sourceInfo: ConnectionInfo): Promise<AuthDependent[]> {
  await loadSqlParser();
  await source.query('SET search_path = pg_catalog');
  const { rows } = await source.query<Row>(loadSql('auth/bring-home/dependents.sql'), [MANAGED_SCHEMAS]);
  const relations = rows.filter((r) => r.kind === 'view' || r.kind === 'materialized-view');
  const dumped = relations.length > 0 ? await dumpRelations(sourceInfo, relations.map((r) => ({ schema: r.schema, name: r.name }))) : new Map<string, string[]>();
  const out: AuthDependent[] = [];
  for (const r of rows) {
    const base = { kind: r.kind, schema: r.schema, objectName: r.name, identity: r.identity, partitioned: r.partitioned, populated: r.populated ?? false };
    if (r.kind === 'function') {
      let refs: ReturnType<typeof authRefsOfFunction>;
      try {
        refs = authRefsOfFunction(r.ddl!);
      } catch (error) {
        // Unreadable by the parser: whether it names the auth tables cannot be known; listed, never rewritten.
        refs = { tables: [], helpers: [], unreadable: `the parser cannot read it (${(error as Error).message.split('\n')[0]})` };
        out.push({ ...base, name: r.identity!, table: null, relation: null, statements: [r.ddl!], refs, unreadable: refs.unreadable });
        continue;
      }
      if (refs.tables.length === 0) continue; // does not name auth.users / auth.identities
      const statements = [r.ddl!];
      out.push({ ...base, name: r.identity!, table: null, relation: null, statements, refs: { tables: refs.tables, helpers: refs.helpers }, unreadable: refs.unreadable });
    } else if (r.kind === 'view' || r.kind === 'materialized-view') {
      const statements = dumped.get(`${r.schema}.${r.name}`) ?? [];
      if (r.kind === 'materialized-view' && r.populated) statements.push(`REFRESH MATERIALIZED VIEW ${qualified(r.schema, r.name)}`);
      const refs = authRefsOfTree(statements.flatMap((s) => parseStatements(s).map((st) => st.node)));
      out.push({ ...base, name: `${r.schema}.${r.name}`, table: r.name, relation: qualified(r.schema, r.name), statements, refs });
    } else {
      const relation = qualified(r.schema, r.relation!);
      const refs = authRefsOfTree(parseStatements(r.ddl!).map((s) => s.node));
      out.push({ ...base, name: `${r.schema}.${r.relation}.${r.name}`, table: r.relation, relation, statements: [r.ddl!], comment: r.comment ?? undefined, triggerFunction: r.trigger_function ?? undefined, refs });
    }
  }
  return out;
}

/**
 * pg_dump --schema-only of the given views: each one's CREATE, COMMENTs and ACL, as pg_dump writes
 * them (REVOKE/GRANT exactly as on the source), grouped per view by pg_dump's entry headers.
 */
async function dumpRelations(source: ConnectionInfo, relations: Array<{ schema: string; name: string }>): Promise<Map<string, string[]>> {
  const tools = await findClientTools();
  const pgDump = tools.best.pg_dump;
  if (!pgDump) throw new ExternalToolError('pg_dump was not found on this machine', { hint: 'install postgresql-client (offramp doctor lists where it looked)' });
  const args = ['--schema-only', '--no-owner', '--no-security-labels', '--no-tablespaces', '--quote-all-identifiers'];
  for (const r of relations) args.push(`--table=${qualified(r.schema, r.name)}`);
  const run = await runTool(pgDump.path, args, {
    env: { ...process.env, ...libpqEnv(source), PGAPPNAME: 'offramp-pg_dump', PGCONNECT_TIMEOUT: '15' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.exitCode !== 0) {
    const stderr = redact(String(run.stderr).trim());
    throw new ExternalToolError(`pg_dump of the views reading auth tables failed: ${stderr.split('\n').slice(-2).join(' ')}`, { hint: 'run offramp doctor; rerun with --verbose', detail: stderr });
  }
  const dump = await parseDump(String(run.stdout));
  const byRelation = new Map<string, string[]>();
  for (const st of dump.entries.flatMap((e) => e.statements)) {
    // Grouped by what each statement names on its parse tree (the view, its comments, its grants).
    const key = statementKeys(st).find((k) => k.startsWith('relation '));
    if (key) byRelation.set(key.slice('relation '.length), [...(byRelation.get(key.slice('relation '.length)) ?? []), st.text]);
  }
  return byRelation;
}
