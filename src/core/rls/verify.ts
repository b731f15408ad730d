/**
 * `offramp rls verify`: the differential proof of a translated RLS setup. For every table with row
 * level security on the source and every principal (anon, service_role, users with their real
 * claims), the rows the principal can SELECT and the writes it may make must be the same on the
 * source (Supabase's semantics) and on the target: compat mode runs the target's installed
 * policies the same way; app mode queries the target as its owner with the emitted predicate as
 * the WHERE clause. Nothing is committed on either side (probe.ts).
 */
import type pg from 'pg';
import { connect } from '../../db/connect.js';
import { UsageError } from '../../errors.js';
import { endClient } from '../../db/sessions.js';
import { loadSql, query } from '../../db/sql.js';
import { identifierValue, loadSqlParser, quoteIdent, scanTokens } from '../../db/sql-parse.js';
import type { Progress } from '../../output/progress.js';
import { ownerColumnsIn, type OwnerColumn } from './owner-columns.js';
import { readPolicies } from './read.js';
import { loadPrincipals, type Principal, type PrincipalSelection } from './principals.js';
import { describeOutcome, inProbeTransaction, probe, sameOutcome, SOURCE_WRITE_NOTE, type Command, type Outcome } from './probe.js';
import { appClass, appRuleFor, appStatement, parameterJoin, type AppPredicates } from './app-predicates.js';
import { fromTable, keyExpression, writeProbes, type Column, type Sample, type TableShape, type WriteProbe } from './write-probes.js';

export interface RlsVerifyOptions {
  source: string;
  target: string;
  mode: 'compat' | 'app';
  /** App mode: the predicates `rls translate --mode app` emitted. */
  predicates?: AppPredicates;
  principals: PrincipalSelection;
  /** Principals given as data (a file) instead of read from auth.users; anon/service_role flags still apply. */
  principalList?: Principal[];
  tables?: string[];
  seed?: number;
  sampleRows: number;
  workDir: string;
  connectTimeoutSeconds?: number;
}

export type CheckStatus = 'equal' | 'different' | 'skipped' | 'inconclusive';

export interface DifferingKey { key: string; source: string; target: string }

export interface RlsCheck {
  table: string;
  principal: string;
  command: Command;
  status: CheckStatus;
  /** How many probes (rows or candidate rows) the check compared. */
  probes: number;
  source?: string;
  target?: string;
  /** The first differing keys (key values only, never other row contents). */
  differingKeys?: DifferingKey[];
  reason?: string;
}

export interface RlsTableEntry {
  table: string;
  status: 'verified' | 'skipped';
  identity: 'key' | 'row digest';
  key?: string[];
  writeProbes: boolean;
  reason?: string;
}

export interface RlsVerifyReport {
  mode: 'compat' | 'app';
  seed: number;
  sampleRows: number;
  note: string;
  principals: Array<{ name: string; kind: Principal['kind']; role: string; id?: string }>;
  tables: RlsTableEntry[];
  checks: RlsCheck[];
  summary: { ok: boolean; tables: number; tablesSkipped: number; principals: number; checks: number; equal: number; different: number; skipped: number; inconclusive: number };
}

/** How many differing keys a check reports. */
const MAX_KEYS = 5;
/** Functions or schemas whose use in a trigger could reach outside the transaction (HTTP, other databases). */
const CALLOUTS = new Set(['net', 'http', 'supabase_functions', 'http_request', 'http_post', 'http_get', 'dblink', 'dblink_exec', 'pg_net']);

interface TableRow extends TableShape {
  triggers: Array<{ trigger: string; schema: string; function: string; language: string; body: string }>;
}

/** Why a table's writes must not be probed even in a rolled-back transaction, or undefined. */
export async function calloutReason(t: Pick<TableRow, 'triggers'>): Promise<string | undefined> {
  await loadSqlParser();
  for (const tr of t.triggers) {
    if (CALLOUTS.has(tr.schema) || CALLOUTS.has(tr.function)) return `trigger ${tr.trigger} calls ${tr.schema}.${tr.function}, which could reach outside the transaction`;
    if (tr.language === 'sql' || tr.language === 'plpgsql') {
      let tokens: string[] = [];
      try {
        tokens = scanTokens(tr.body).map((tk) => identifierValue(tk));
      } catch {
        return `trigger ${tr.trigger}'s function ${tr.schema}.${tr.function} could not be read`;
      }
      const hit = tokens.find((tk) => CALLOUTS.has(tk));
      if (hit) return `trigger ${tr.trigger}'s function ${tr.schema}.${tr.function} uses ${hit}, which could reach outside the transaction`;
    } else if (tr.language !== 'internal') {
      return `trigger ${tr.trigger} runs ${tr.language} code, which could reach outside the transaction`;
    }
  }
  return undefined;
}

interface TablePlan {
  table: TableRow;
  samples: Sample[];
  writes: Map<string, WriteProbe[]>;
}

type SideResults = Map<string, { select: Outcome; writes: Outcome[] }>;

/**
 * What a principal sees, summarised in constant memory: the count and an order-independent sum of
 * 60-bit key hashes (no sort, no aggregated string, whatever the table's size). Only when the two
 * sides disagree are the keys themselves listed (visibleKeys).
 */
function selectStatement(t: TableShape, where?: string, join = ''): string {
  return `SELECT count(*)::bigint AS n, coalesce(sum(('x' || substr(md5(k), 1, 15))::bit(60)::bigint::numeric), 0)::text AS h
            FROM (SELECT ${keyExpression(t)} AS k FROM ${fromTable(t)}${join}${where ? ` WHERE (${where})` : ''}) AS s`;
}

const readCount = (r: pg.QueryResult): Outcome => ({ kind: 'rows', count: Number(r.rows[0]?.n ?? 0), hash: String(r.rows[0]?.h ?? '') });
const readWrite = (r: pg.QueryResult): Outcome => ({ kind: 'rows', count: r.rowCount ?? 0, hash: '' });

/** Sampled rows (as the session's own role, before any impersonation) and the largest integer keys. */
async function samplesOf(client: pg.Client, t: TableRow, seed: number, n: number): Promise<{ samples: Sample[]; maxKeys: Record<string, string> }> {
  const rows = await query<{ key: string; row: Record<string, unknown> }>(client,
    `SELECT ${keyExpression(t, 'offramp_row')} AS key, to_jsonb(offramp_row) AS row FROM ${fromTable(t)} AS offramp_row
      ORDER BY md5(${keyExpression(t, 'offramp_row')} || $1), 1 LIMIT $2`, [String(seed), n], `sample rows of ${t.qualified}`);
  const maxKeys: Record<string, string> = {};
  for (const k of t.key ?? []) {
    const col = t.columns.find((c) => c.name === k);
    if (col && ['int2', 'int4', 'int8', 'numeric'].includes(col.base)) {
      const [m] = await query<{ m: string | null }>(client, `SELECT max(${quoteIdent(k)})::text AS m FROM ${fromTable(t)}`);
      maxKeys[k] = (m?.m ?? '0').split('.')[0]!;
    }
  }
  return { samples: rows, maxKeys };
}

/** Every probe of one table on one side, as each principal, in one rolled-back transaction. */
async function runSide(client: pg.Client, side: 'source' | 'target', plan: TablePlan, principals: Principal[], options: RlsVerifyOptions): Promise<SideResults> {
  const out: SideResults = new Map();
  const t = plan.table;
  const app = side === 'target' && options.mode === 'app';
  await inProbeTransaction(client, plan.writes.size > 0, async () => {
    for (const p of principals) {
      let select: Outcome;
      if (app) {
        const rule = appRuleFor(options.predicates, t.qualified, 'SELECT', p);
        select = rule.kind === 'predicate'
          ? await probe(client, undefined, selectStatement(t, rule.sql, parameterJoin(options.predicates)), rule.values, readCount)
          : rule.kind === 'all' ? await probe(client, undefined, selectStatement(t), [], readCount) : { kind: 'rows', count: 0, hash: '' };
      } else {
        select = await probe(client, p, selectStatement(t), [], readCount);
      }
      const writes: Outcome[] = [];
      for (const w of plan.writes.get(p.name) ?? []) {
        if (app) writes.push(await appStatement(client, options.predicates, t, w, p));
        else writes.push(await probe(client, p, w.statement, w.values, readWrite));
      }
      out.set(p.name, { select, writes });
    }
  });
  return out;
}

/** The keys a principal sees, sorted, for naming the first differences of a SELECT check. */
async function visibleKeys(client: pg.Client, t: TableShape, principal: Principal | undefined, where: { sql: string; values: unknown[]; join: string } | undefined): Promise<string[]> {
  let keys: string[] = [];
  await inProbeTransaction(client, false, async () => {
    const o = await probe(client, principal,
      `SELECT (${keyExpression(t)}) COLLATE "C" AS k FROM ${fromTable(t)}${where ? `${where.join} WHERE (${where.sql})` : ''} ORDER BY 1`, where?.values ?? [],
      (r) => { keys = r.rows.map((row) => String(row.k)); return { kind: 'rows', count: r.rowCount ?? 0, hash: '' }; });
    if (o.kind !== 'rows') throw new Error(`cannot list the keys ${principal?.name ?? 'the owner'} sees in ${t.qualified}: ${describeOutcome(o, 'SELECT')}`);
  });
  return keys;
}

function firstDifferences(a: string[], b: string[]): DifferingKey[] {
  const inB = new Set(b);
  const inA = new Set(a);
  const out: DifferingKey[] = [];
  for (const k of [...a.filter((k) => !inB.has(k)), ...b.filter((k) => !inA.has(k))].sort()) {
    out.push({ key: k, source: inA.has(k) ? 'visible' : 'not visible', target: inB.has(k) ? 'visible' : 'not visible' });
    if (out.length >= MAX_KEYS) break;
  }
  return out;
}

/** `allowed (1 row) ×2, refused (42501: …) ×1`: what a check's probes saw on one side. */
function tally(descriptions: string[]): string {
  const counts = new Map<string, number>();
  for (const d of descriptions) counts.set(d, (counts.get(d) ?? 0) + 1);
  return [...counts].map(([d, n]) => `${d} ×${n}`).join('; ');
}

/** App mode: a refusal on the source by privilege (no GRANT) is the backend's "no rows". */
function normaliseAppSource(o: Outcome): Outcome {
  return o.kind === 'refused' && o.sqlstate === '42501' ? { kind: 'rows', count: 0, hash: '' } : o;
}

export async function verifyRls(options: RlsVerifyOptions, progress: Progress): Promise<RlsVerifyReport> {
  const seed = options.seed ?? 1;
  const timeout = options.connectTimeoutSeconds;
  const source = await connect(options.source, { role: 'source', applicationName: 'offramp-rls-verify', ...(timeout ? { timeoutSeconds: timeout } : {}) });
  let target: pg.Client | undefined;
  try {
    target = await connect(options.target, { role: 'target', applicationName: 'offramp-rls-verify', ...(timeout ? { timeoutSeconds: timeout } : {}) });
    progress.log('info', SOURCE_WRITE_NOTE);
    const principals = options.principalList
      ? [...(await loadPrincipals(source, { ...options.principals, users: 0, userIds: [] }, seed)), ...options.principalList]
      : await loadPrincipals(source, options.principals, seed);
    // The policies, parsed by rls translate's reader: the columns they compare with the user's id.
    const policies = await readPolicies(source);
    const tableRows = await query<TableRow>(source, loadSql('rls/verify-tables.sql'), [options.tables?.length ? options.tables : null], 'read the tables with row level security');
    const unmatched = (options.tables ?? []).filter((name) => !tableRows.some((t) => [t.qualified, t.name, `${t.schema}.${t.name}`].includes(name)));
    if (unmatched.length > 0) {
      // A selection that matches nothing must not "pass" having compared nothing.
      throw new UsageError(`no table with row level security on the source matches --tables ${unmatched.join(', ')}`, {
        hint: 'name tables as schema.table (psql-style quoting for mixed case: public."Order"); only tables with RLS enabled are verified',
      });
    }
    const tables: RlsTableEntry[] = [];
    const checks: RlsCheck[] = [];
    for (const t of tableRows) {
      const step = progress.step(`rls verify ${t.qualified}`);
      const [present] = await query<{ ok: boolean }>(target, `SELECT to_regclass($1) IS NOT NULL AS ok`, [t.qualified]);
      const identity = t.key ? 'key' as const : 'row digest' as const;
      if (!present?.ok) {
        tables.push({ table: t.qualified, status: 'skipped', identity, writeProbes: false, reason: 'not on the target (left behind by copy)' });
        step.warn(`${t.qualified}: not on the target, skipped`);
        continue;
      }
      const targetColumns = new Set((await query<{ name: string }>(target,
        `SELECT attname::text AS name FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`, [t.qualified])).map((c) => c.name));
      const missing = t.columns.filter((c) => !targetColumns.has(c.name)).map((c) => c.name);
      // A table shaped differently on the target (the auth work's own users table, say): writes
      // would compare schemas, not policies. validate reports the shape; SELECT still compares keys.
      const writeSkip = missing.length > 0
        ? `the target's ${t.qualified} lacks the columns ${missing.join(', ')}`
        : await calloutReason(t);
      const owners: OwnerColumn[] = ownerColumnsIn(policies.filter((p) => p.schema === t.schema && p.table === t.name)
        .flatMap((p) => [p.using?.tree, p.withCheck?.tree]).filter((x) => x !== undefined));
      const plan: TablePlan = { table: t, samples: [], writes: new Map() };
      if (!writeSkip && options.sampleRows > 0) {
        const { samples, maxKeys } = await inProbeTransaction(source, false, () => samplesOf(source, t, seed, options.sampleRows));
        plan.samples = samples;
        principals.forEach((p, i) => plan.writes.set(p.name, writeProbes(t, samples, p, owners, maxKeys, seed, i)));
      }
      tables.push({
        table: t.qualified, status: 'verified', identity, ...(t.key ? { key: t.key } : {}), writeProbes: !writeSkip && options.sampleRows > 0,
        ...(writeSkip ? { reason: `write probes skipped: ${writeSkip}` } : {}),
      });
      step.update(`${t.qualified}: probing as ${principals.length} principals`);
      const onSource = await runSide(source, 'source', plan, principals, options);
      const onTarget = await runSide(target, 'target', plan, principals, options);
      for (const p of principals) {
        const s = onSource.get(p.name)!;
        const g = onTarget.get(p.name)!;
        const sSelect = options.mode === 'app' ? normaliseAppSource(s.select) : s.select;
        const check: RlsCheck = { table: t.qualified, principal: p.name, command: 'SELECT', probes: 1, status: 'equal' };
        if (sSelect.kind === 'inconclusive' || g.select.kind === 'inconclusive') check.status = 'inconclusive';
        else if (!sameOutcome(sSelect, g.select)) {
          check.status = 'different';
          check.source = describeOutcome(sSelect, 'SELECT');
          check.target = describeOutcome(g.select, 'SELECT');
          if (sSelect.kind === 'rows' && g.select.kind === 'rows') {
            const rule = options.mode === 'app' ? appRuleFor(options.predicates, t.qualified, 'SELECT', p) : undefined;
            const sKeys = await visibleKeys(source, t, p, undefined);
            const gKeys = options.mode === 'app'
              ? (rule?.kind === 'none' ? [] : await visibleKeys(target, t, undefined, rule?.kind === 'predicate' ? { sql: rule.sql, values: rule.values, join: parameterJoin(options.predicates) } : undefined))
              : await visibleKeys(target, t, p, undefined);
            check.differingKeys = firstDifferences(sKeys, gKeys);
          }
        } else check.source = check.target = describeOutcome(sSelect, 'SELECT');
        checks.push(check);
        const writes = plan.writes.get(p.name) ?? [];
        for (const command of ['INSERT', 'UPDATE', 'DELETE'] as const) {
          const idx = writes.map((w, i) => (w.command === command ? i : -1)).filter((i) => i >= 0);
          if (idx.length === 0) {
            checks.push({ table: t.qualified, principal: p.name, command, probes: 0, status: 'skipped', reason: writeSkip ?? (options.sampleRows > 0 ? 'the table has no rows to sample' : 'write probes off (--sample-rows 0)') });
            continue;
          }
          const differing: DifferingKey[] = [];
          let inconclusive = 0;
          for (const i of idx) {
            const a = options.mode === 'app' ? appClass(s.writes[i]!) : s.writes[i]!;
            const b = options.mode === 'app' ? appClass(g.writes[i]!) : g.writes[i]!;
            if (a.kind === 'inconclusive' || b.kind === 'inconclusive') { inconclusive++; continue; }
            if (!sameOutcome(a, b) && differing.length < MAX_KEYS) differing.push({ key: writes[i]!.key, source: describeOutcome(a, command), target: describeOutcome(b, command) });
          }
          const c: RlsCheck = {
            table: t.qualified, principal: p.name, command, probes: idx.length,
            status: differing.length > 0 ? 'different' : inconclusive > 0 ? 'inconclusive' : 'equal',
            source: tally(idx.map((i) => describeOutcome(s.writes[i]!, command))),
            target: tally(idx.map((i) => describeOutcome(g.writes[i]!, command))),
          };
          if (differing.length > 0) c.differingKeys = differing;
          if (inconclusive > 0) c.reason = `${inconclusive} of ${idx.length} probes could not run (a lock or a timeout)`;
          checks.push(c);
        }
      }
      const bad = checks.filter((c) => c.table === t.qualified && c.status === 'different').length;
      if (bad > 0) step.fail(`${t.qualified}: ${bad} checks differ`);
      else step.succeed(`${t.qualified}: equal for ${principals.length} principals`);
    }
    const count = (s: CheckStatus): number => checks.filter((c) => c.status === s).length;
    return {
      mode: options.mode,
      seed,
      sampleRows: options.sampleRows,
      note: SOURCE_WRITE_NOTE,
      principals: principals.map((p) => ({ name: p.name, kind: p.kind, role: p.role, ...(p.id ? { id: p.id } : {}) })),
      tables,
      checks,
      summary: {
        ok: count('different') === 0,
        tables: tables.filter((t) => t.status === 'verified').length,
        tablesSkipped: tables.filter((t) => t.status === 'skipped').length,
        principals: principals.length,
        checks: checks.length,
        equal: count('equal'),
        different: count('different'),
        skipped: count('skipped'),
        inconclusive: count('inconclusive'),
      },
    };
  } finally {
    if (target) await endClient(target);
    await endClient(source);
  }
}

