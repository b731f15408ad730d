/**
 * The RLS corpus harness (issue 11): loads one file of ../shared/corpus/rls onto the fixture's
 * platform layer, statement by statement, and accounts for every CREATE POLICY in it — loaded, or
 * not with the server's reason — so all 318 policies of the corpus are counted, none silently.
 *
 * The platform layer is loaded as the bootstrap superuser (supabase_admin), like the fixture; the
 * corpus file runs as `postgres`, like a user's migrations (and the fixture's app layer). A statement
 * postgres may not run is retried as the superuser and recorded as such.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type pg from 'pg';
import { withClient } from '../../src/db/connect.js';
import { loadSqlParser, parseStatements, rangeVarName } from '../../src/db/sql-parse.js';
import { loadFixture } from '../../src/fixture/load.js';

/** The corpus as the tests reach it: the shared folder beside the worktree. */
export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus/rls/', import.meta.url));

export function corpusFiles(): string[] {
  return readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.sql')).sort();
}

/** Policies per file as INDEX.md's table states them (the corpus's own count, to check ours against). */
export function indexCounts(): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(join(CORPUS_DIR, 'INDEX.md'), 'utf8').split('\n')) {
    // Rows look like: | 4 | [owner/repo](url) — `file.sql` | paths | 10 | codes |  (Markdown, not SQL)
    const cells = line.split('|').map((c) => c.trim());
    const file = /`([^`]+\.sql)`/.exec(cells[2] ?? '')?.[1];
    if (file && /^\d+$/.test(cells[4] ?? '')) out.set(file, Number(cells[4]));
  }
  return out;
}

export interface StatementOutcome {
  index: number;
  kind: string;
  /** 'postgres' (as a migration runs), 'supabase_admin' (needed the superuser), or undefined: failed. */
  ranAs?: 'postgres' | 'supabase_admin';
  error?: string;
}

export interface PolicyLoad {
  /** schema.table, unquoted, as the catalog names it (or as written, when the statement failed). */
  table: string;
  name: string;
  loaded: boolean;
  /** Why it is not in the catalog (the server's error), when not loaded. */
  reason?: string;
  /** Created inside a DO block (EXECUTE), found in the catalog rather than in the file's statements. */
  dynamic: boolean;
  ranAs?: 'postgres' | 'supabase_admin';
}

export interface CorpusLoad {
  file: string;
  statements: StatementOutcome[];
  /** Every CREATE POLICY statement of the file, in order (a name re-created counts each time). */
  policies: PolicyLoad[];
  /** Tables the corpus file created (schema-qualified, quoted by format %I.%I). */
  createdTables: string[];
}

interface PolicyKey {
  table: string;
  name: string;
}

async function catalogPolicies(c: pg.Client): Promise<PolicyKey[]> {
  const { rows } = await c.query<PolicyKey>(
    `SELECT schemaname || '.' || tablename AS table, policyname AS name FROM pg_policies ORDER BY 1, 2`,
  );
  return rows;
}

async function tableOids(c: pg.Client): Promise<Set<string>> {
  const { rows } = await c.query<{ oid: string }>(`SELECT oid::text FROM pg_class WHERE relkind IN ('r','p')`);
  return new Set(rows.map((r) => r.oid));
}

/** Run one statement as postgres; if postgres may not, as the superuser. */
async function runStatement(c: pg.Client, text: string): Promise<{ ranAs?: 'postgres' | 'supabase_admin'; error?: string }> {
  let firstError: string | undefined;
  for (const role of ['postgres', 'supabase_admin'] as const) {
    try {
      await c.query(role === 'postgres' ? 'SET ROLE postgres' : 'RESET ROLE');
      await c.query(text);
      await c.query('RESET ROLE');
      return { ranAs: role };
    } catch (error) {
      await c.query('RESET ROLE').catch(() => undefined);
      firstError ??= (error as Error).message;
      // Only a missing privilege is worth a second try as the superuser; anything else fails alike.
      if ((error as { code?: string }).code !== '42501') break;
    }
  }
  return { error: firstError };
}

function policyTarget(node: Record<string, unknown>): string {
  const rv = node.table as { schemaname?: string; relname?: string } | undefined;
  return `${rv?.schemaname ?? 'public'}.${rv?.relname ?? '?'}`;
}

/**
 * Load the platform layer, then `file`, into the empty database `adminUrl` (a superuser URL on a
 * cluster made with initdb -U supabase_admin, as the test bed's source is).
 */
export async function loadCorpusFile(adminUrl: string, file: string): Promise<CorpusLoad> {
  await loadSqlParser();
  await loadFixture(adminUrl, { platformOnly: true });
  const text = readFileSync(join(CORPUS_DIR, file), 'utf8');
  const statements = parseStatements(text);
  return withClient(adminUrl, { role: 'admin', applicationName: 'offramp-rls-corpus' }, async (c) => {
    const before = await tableOids(c);
    const outcomes: StatementOutcome[] = [];
    const policies: PolicyLoad[] = [];
    for (const [index, stmt] of statements.entries()) {
      const seen = stmt.kind === 'DoStmt' ? await catalogPolicies(c) : [];
      const result = await runStatement(c, stmt.text);
      outcomes.push({ index, kind: stmt.kind, ...result });
      if (stmt.kind === 'CreatePolicyStmt') {
        const name = String(stmt.node.policy_name);
        const table = result.error ? policyTarget(stmt.node) : await policyTable(c, stmt.node);
        policies.push({ table, name, loaded: !result.error, reason: result.error, dynamic: false, ranAs: result.ranAs });
      } else if (stmt.kind === 'DoStmt' && !result.error) {
        // A policy made by EXECUTE inside the block: the catalog, not the file's text, shows it.
        const had = new Set(seen.map((p) => `${p.table} ${p.name}`));
        for (const p of await catalogPolicies(c)) {
          if (!had.has(`${p.table} ${p.name}`)) policies.push({ ...p, loaded: true, dynamic: true, ranAs: result.ranAs });
        }
      }
    }
    const { rows } = await c.query<{ t: string; oid: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS t, c.oid::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema','pg_toast') ORDER BY 1`,
    );
    return { file, statements: outcomes, policies, createdTables: rows.filter((r) => !before.has(r.oid)).map((r) => r.t) };
  });
}

/** The table a just-created policy is on, as the catalog names it (search_path resolved). */
async function policyTable(c: pg.Client, node: Record<string, unknown>): Promise<string> {
  const rv = node.table as { schemaname?: string; relname: string };
  const { rows } = await c.query<{ t: string }>(
    `SELECT n.nspname || '.' || c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass($1)`,
    [rangeVarName(rv)],
  );
  return rows[0]?.t ?? policyTarget(node);
}
