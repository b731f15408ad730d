/**
 * A target for the rls verify tests: the source's own auth helpers (uid/role/email/jwt, exactly as
 * the source defines them) created on the target, then `offramp copy`, which brings the policies
 * of public along. (The compat translation of `rls translate --apply` does the same job in a
 * migration; these tests prove verify, not the translation.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { copyDatabase, copyOptions } from '../../src/core/move/copy.js';
import { withClient } from '../../src/db/connect.js';
import { silentProgress } from '../../src/output/progress.js';

export async function sourceAuthHelpers(sourceUrl: string): Promise<string> {
  return withClient(sourceUrl, { role: 'admin' }, async (c) => {
    const { rows } = await c.query<{ def: string }>(
      `SELECT pg_get_functiondef(p.oid) AS def FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'auth' AND p.proname IN ('uid', 'role', 'email', 'jwt') ORDER BY p.proname`);
    if (rows.length !== 4) throw new Error(`the source has ${rows.length} of the 4 auth helpers`);
    return `CREATE SCHEMA IF NOT EXISTS auth; GRANT USAGE ON SCHEMA auth TO PUBLIC;\n${rows.map((r) => `${r.def};`).join('\n')}`;
  });
}

export async function copyWithPolicies(sourceUrl: string, targetUrl: string): Promise<void> {
  const helpers = await sourceAuthHelpers(sourceUrl);
  await withClient(targetUrl, { role: 'admin' }, (c) => c.query(helpers));
  await copyDatabase(copyOptions(sourceUrl, targetUrl, { workDir: mkdtempSync(join(tmpdir(), 'offramp-rls-verify-')) }), silentProgress);
}

export async function rows<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  return withClient(url, { role: 'admin' }, async (c) => (await c.query<T>(text, values)).rows);
}

/** What a rolled-back write must leave alone: every row version (xmin, ctid), count, and every sequence's position. */
export async function untouchedState(url: string, schemas: string[]): Promise<Record<string, string>> {
  return withClient(url, { role: 'admin' }, async (c) => {
    const out: Record<string, string> = {};
    const { rows: tables } = await c.query<{ t: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname = ANY ($1) ORDER BY 1`, [schemas]);
    for (const { t } of tables) {
      const { rows: r } = await c.query<{ n: string; h: string | null }>(
        `SELECT count(*) AS n, md5(string_agg(x, ',' ORDER BY x)) AS h FROM (SELECT xmin::text || ctid::text || md5(r::text) AS x FROM ONLY ${t} r) s`);
      out[t] = `${r[0]!.n}:${r[0]!.h ?? ''}`;
    }
    const { rows: seqs } = await c.query<{ s: string }>(
      `SELECT format('%I.%I', schemaname, sequencename) AS s FROM pg_sequences WHERE schemaname = ANY ($1) ORDER BY 1`, [schemas]);
    for (const { s } of seqs) {
      const { rows: r } = await c.query<{ v: string }>(`SELECT last_value::text || ':' || is_called::text AS v FROM ${s}`);
      out[`sequence ${s}`] = r[0]!.v;
    }
    return out;
  });
}
