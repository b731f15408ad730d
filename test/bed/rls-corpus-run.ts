/**
 * One corpus file end to end (issue 11): the loaded and populated source is copied to an empty
 * target, `rls translate --mode compat --apply` installs what it can, `rls verify` compares every
 * RLS table × principal × command, and each CREATE POLICY of the file gets its outcome: loaded,
 * class, installed, verified equal, or the reason it is not.
 *
 * After copy, the target gets the users and storage tables (definitions and rows read from the source),
 * standing in for what the auth and storage moves provide (the `keep` auth layout; storage moved):
 * copy leaves the platform's schemas behind, and the compat translation needs auth.users on the target.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyDatabase, copyOptions } from '../../src/core/move/copy.js';
import { translateRls } from '../../src/core/rls/translate.js';
import type { RlsTranslation } from '../../src/core/rls/types.js';
import { verifyRls, type RlsVerifyReport } from '../../src/core/rls/verify.js';
import { withClient } from '../../src/db/connect.js';
import { silentProgress } from '../../src/output/progress.js';
import type { CorpusLoad } from './rls-corpus.js';
import { corpusPrincipals } from './rls-corpus-data.js';

/** The platform tables the target receives before copy: what policies read besides the app's own. */
const STAND_IN_TABLES = ['auth.users', 'auth.identities', 'auth.mfa_factors', 'storage.buckets', 'storage.objects'];

/** Create STAND_IN_TABLES on the target with the source's columns (generated ones as plain) and rows. */
export async function prepareTargetStandIns(sourceUrl: string, targetUrl: string): Promise<void> {
  const tables = await withClient(sourceUrl, { role: 'admin' }, async (c) => {
    const out: Array<{ table: string; columns: string; plain: string; key: string | null; rows: unknown[] }> = [];
    for (const table of STAND_IN_TABLES) {
      const { rows: [def] } = await c.query<{ columns: string; plain: string; key: string | null }>(
        // Platform-defined types (storage.buckettype, auth.factor_type enums) become text: the stand-in only holds rows.
        // Generated columns stay generated (policies read storage.objects.path_tokens).
        `SELECT string_agg(format('%I %s', a.attname, CASE WHEN t.typnamespace = 'pg_catalog'::regnamespace THEN format_type(a.atttypid, a.atttypmod) ELSE 'text' END)
                           || CASE WHEN a.attgenerated = 's' THEN format(' GENERATED ALWAYS AS (%s) STORED', pg_get_expr(d.adbin, d.adrelid)) ELSE '' END,
                           ', ' ORDER BY a.attnum) AS columns,
                string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FILTER (WHERE a.attgenerated = '') AS plain,
                (SELECT string_agg(quote_ident(k.attname), ', ') FROM pg_index i JOIN pg_attribute k ON k.attrelid = i.indrelid AND k.attnum = ANY (i.indkey)
                  WHERE i.indrelid = $1::regclass AND i.indisprimary) AS key
           FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
        [table],
      );
      const { rows } = await c.query<{ r: unknown }>(`SELECT to_jsonb(t) AS r FROM ${table} t`);
      out.push({ table, columns: def!.columns, plain: def!.plain, key: def!.key, rows: rows.map((r) => r.r) });
    }
    // The storage server's guard against plain DELETE moves with storage: without it the target
    // would allow what the source refuses before any policy is consulted.
    const { rows: guards } = await c.query<{ def: string }>(
      `SELECT pg_get_functiondef(p.oid) AS def FROM pg_proc p WHERE p.oid = 'storage.protect_delete'::regproc
       UNION ALL SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE t.tgfoid = 'storage.protect_delete'::regproc`,
    );
    return { out, guards: guards.map((g) => g.def) };
  });
  await withClient(targetUrl, { role: 'admin' }, async (c) => {
    await c.query('CREATE SCHEMA IF NOT EXISTS auth; CREATE SCHEMA IF NOT EXISTS storage');
    for (const t of tables.out) {
      await c.query(`CREATE TABLE ${t.table} (${t.columns}${t.key ? `, PRIMARY KEY (${t.key})` : ''})`);
      await c.query(`INSERT INTO ${t.table} (${t.plain}) SELECT ${t.plain} FROM jsonb_populate_recordset(NULL::${t.table}, $1::jsonb)`, [JSON.stringify(t.rows)]);
    }
    for (const def of tables.guards) await c.query(def);
  });
}

export interface PolicyOutcome {
  file: string;
  table: string;
  name: string;
  loaded: boolean;
  class?: string;
  reasons: string[];
  /** Installed on the target by the compat translation (translated automatically). */
  installed: boolean;
  /** Every principal × command cell of its table compared equal. */
  verifiedEqual: boolean;
  /** Why it is not translated or not verified equal. */
  why?: string;
}

export interface FileRun {
  file: string;
  policies: PolicyOutcome[];
  translation?: RlsTranslation;
  verify?: RlsVerifyReport;
  /** A stage that threw: the file's policies are all "not translated" with this reason. */
  failure?: string;
}

const unquote = (qualified: string): string => qualified.replace(/"/g, '');

export async function runCorpusFile(load: CorpusLoad, sourceUrl: string, targetUrl: string): Promise<FileRun> {
  const workDir = mkdtempSync(join(tmpdir(), 'offramp-rls-corpus-'));
  let translation: RlsTranslation | undefined;
  let verify: RlsVerifyReport | undefined;
  let failure: string | undefined;
  let stage = 'copy';
  try {
    // copy wants an empty target and leaves the platform's schemas behind; the stand-ins come after it.
    await copyDatabase(copyOptions(sourceUrl, targetUrl, { workDir }), silentProgress);
    stage = 'target stand-ins';
    await prepareTargetStandIns(sourceUrl, targetUrl);
    stage = 'rls translate';
    translation = await translateRls({
      source: sourceUrl, target: targetUrl, mode: 'compat', authLayout: { kind: 'keep' },
      apply: true, force: false, disableRls: false, yes: false, workDir,
    }, silentProgress);
    stage = 'rls verify';
    const users = corpusPrincipals().filter((p) => p.userId);
    verify = await verifyRls({
      source: sourceUrl, target: targetUrl, mode: 'compat',
      principals: { anon: true, serviceRole: true, users: 0 },
      principalList: users.map((p) => ({ name: `user:${p.label}`, kind: 'user' as const, role: p.role, id: p.userId!, claims: p.claims! })),
      seed: 1, sampleRows: 2, workDir,
    }, silentProgress);
    if (process.env.OFFRAMP_CORPUS_DEBUG) {
      for (const c of verify.checks.filter((x) => x.status !== 'equal')) process.stderr.write(`${load.file}: ${JSON.stringify(c)}\n`);
    }
  } catch (error) {
    failure = `${stage}: ${(error as Error).message}`;
    if (process.env.OFFRAMP_CORPUS_DEBUG) process.stderr.write(`${load.file}: ${(error as Error).stack}\n`);
  }
  const policies = load.policies.map((p): PolicyOutcome => {
    const t = translation?.policies.find((x) => `${x.schema}.${x.table}` === p.table && x.name === p.name);
    const cells = verify?.checks.filter((c) => unquote(c.table) === p.table) ?? [];
    const entry = verify?.tables.find((x) => unquote(x.table) === p.table);
    const unequal = cells.filter((c) => c.status !== 'equal');
    const verifiedEqual = Boolean(t?.installed) && entry?.status === 'verified' && cells.length > 0 && unequal.length === 0;
    let why: string | undefined;
    if (!p.loaded) why = `not loaded: ${p.reason}`;
    else if (failure && !t?.installed) why = `run failed: ${failure}`;
    else if (!t) why = 'not in the translation result';
    else if (!t.installed) why = [t.leftOut, ...t.reasons].filter(Boolean).join('; ');
    else if (!verifiedEqual) {
      why = entry?.status === 'skipped' ? `verify skipped the table: ${entry.reason}`
        : cells.length === 0 ? (failure ? `verify failed: ${failure}` : 'verify has no cells for its table')
          : `not equal: ${unequal.slice(0, 3).map((c) => `${c.principal} ${c.command} ${c.status}${c.reason ? ` (${c.reason})` : ''}`).join('; ')}`;
    }
    return {
      file: load.file, table: p.table, name: p.name, loaded: p.loaded, class: t?.class, reasons: t?.reasons ?? [],
      installed: Boolean(t?.installed), verifiedEqual, ...(why ? { why } : {}),
    };
  });
  return { file: load.file, policies, ...(translation ? { translation } : {}), ...(verify ? { verify } : {}), ...(failure ? { failure } : {}) };
}
