/**
 * `offramp validate`: prove that the target holds what the source holds. Each side is read inside
 * one snapshot by a few sessions with pinned settings; row counts and content hashes are computed
 * by the servers per key chunk; differing chunks are narrowed down to the differing rows; the
 * schemas are diffed with expected differences told apart. No argv, no console: a report comes back.
 */
import { inStep, silentProgress, type Progress } from '../../output/progress.js';
import { decidePlatform, pairTables, readCatalog, leftBehindReason, type TablePair } from './catalog.js';
import { chooseAlgorithm, countTable, differingChunks, digestHex, hashTable, planChunks, type Agg } from './hash.js';
import { localiseKeyed, localiseMultiset, type LocaliseContext, type Localised } from './localise.js';
import { diffSchemas, readSchema, schemaChecks } from './schema.js';
import { judgeBroughtHome, resolveAuthMapping, withoutMappedTables } from './auth-mapping.js';
import { MIGRATIONS_SCHEMA } from '../auth/tables.js';
import { PINNED_SETTINGS, Side } from './side.js';
import { MANAGED_SCHEMAS, PLATFORM_ONLY_EXTENSIONS } from '../supabase/platform.js';
import type { HashAlgorithm, SchemaReport, TableReport, ValidateOptions, ValidateReport, ValidateSummary } from './types.js';

export type * from './types.js';
export { renderValidateText } from './render-text.js';
export { renderValidateMarkdown } from './render-markdown.js';
export { renderValidateJunit } from './render-junit.js';

export const VALIDATE_DEFAULTS = {
  mode: 'full',
  jobs: 2,
  maxDifferences: 50,
  chunkRows: 10_000,
  rowCompareThreshold: 2_000,
} as const;

interface Settings {
  mode: NonNullable<ValidateOptions['mode']>;
  alg: HashAlgorithm;
  chunkRows: number;
  threshold: number;
  max: number;
  showValues: boolean;
}

export async function validate(options: ValidateOptions, progress: Progress = silentProgress): Promise<ValidateReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const lap = (name: string, since: number): number => (timings[name] = Math.round(performance.now() - since));
  const jobs = Math.max(1, options.jobs ?? VALIDATE_DEFAULTS.jobs);
  const mode = options.mode ?? VALIDATE_DEFAULTS.mode;

  let t = performance.now();
  const [source, target] = await inStep(progress, 'open a snapshot on each side', () =>
    openBoth(options, jobs));
  lap('connect', t);
  try {
    t = performance.now();
    // Known before the platform is decided; only used when it is Supabase.
    const translated = MANAGED_SCHEMAS.filter((n) => n !== (options.extensionsSchema ?? 'extensions'));
    const [sc, tc] = await Promise.all([readCatalog(source, translated, Object.keys(PLATFORM_ONLY_EXTENSIONS)), readCatalog(target)]);
    const platform = decidePlatform(options.platform, sc);
    const { alg, reason } = chooseAlgorithm(options.hash ?? 'auto', { versionNum: source.info.versionNum, probe: sc.hashProbe }, { versionNum: target.info.versionNum, probe: tc.hashProbe });
    const auth = platform.kind === 'supabase' ? resolveAuthMapping(options.authLayout, sc, tc) : undefined;
    // A --map of the same source table wins over the auth mapping.
    const given = new Set((options.mappings ?? []).map((m) => m.source));
    // The auth pairs follow the selection (--tables, --schemas, --exclude-table) like any table;
    // an explicit --map does not.
    const selected = (id: string): boolean => {
      const [schema, name] = [id.slice(0, id.indexOf('.')), id.slice(id.indexOf('.') + 1)];
      const hit = (patterns: string[]) => patterns.some((p) => p === id || p === name);
      if (options.tables?.length && !hit(options.tables)) return false;
      if (options.schemas?.length && !options.schemas.includes(schema)) return false;
      return !(options.excludeTables?.length && hit(options.excludeTables));
    };
    const mappings = [...(options.mappings ?? []), ...(auth?.mappings ?? []).filter((m) => !given.has(m.source) && selected(m.source))];
    const selection = pairTables(sc, tc, platform.kind, { ...options, mappings });
    lap('catalog', t);

    let schema: SchemaReport | undefined;
    if (!options.skipSchema) {
      t = performance.now();
      schema = await inStep(progress, 'schema diff', async () => {
        const managed = platform.kind === 'supabase' ? MANAGED_SCHEMAS.filter((n) => n !== (options.extensionsSchema ?? 'extensions')) : [];
        // offramp's own bookkeeping on the target (auth migrate's migration history) is not the
        // source's: left out, unless the source has a schema of that name itself.
        const bookkeeping = sc.schemas.includes(MIGRATIONS_SCHEMA) ? [] : [MIGRATIONS_SCHEMA];
        const leftOut = [...(platform.kind === 'supabase' ? MANAGED_SCHEMAS : []), ...(options.excludeSchemas ?? []), ...bookkeeping];
        const missingExtensions = platform.kind === 'supabase' ? Object.keys(PLATFORM_ONLY_EXTENSIONS) : [];
        const [a, b] = await Promise.all([
          readSchema(source, leftOut, options.schemas ?? [], managed, missingExtensions),
          readSchema(target, leftOut, options.schemas ?? [], managed, missingExtensions),
        ]);
        const differences = diffSchemas(a, auth ? withoutMappedTables(b, auth) : b, { platform: platform.kind, ownerMap: options.ownerMap ?? {}, targetUser: tc.currentUser, targetRoles: tc.roles });
        if (auth) await judgeBroughtHome(source, managed, auth, differences);
        if (platform.kind === 'supabase') {
          // Only what the target really lacks: it has `extensions` when extensions were created there.
          for (const s of MANAGED_SCHEMAS.filter((n) => sc.schemas.includes(n) && !tc.schemas.includes(n))) {
            differences.push({ category: 'schemas', object: s, change: 'missing_on_target', severity: 'expected', reason: leftBehindReason(s) });
          }
        }
        return schemaChecks(differences);
      });
      lap('schema', t);
    }

    const settings: Settings = {
      mode, alg,
      chunkRows: options.chunkRows ?? VALIDATE_DEFAULTS.chunkRows,
      threshold: options.rowCompareThreshold ?? VALIDATE_DEFAULTS.rowCompareThreshold,
      max: options.maxDifferences ?? VALIDATE_DEFAULTS.maxDifferences,
      showValues: Boolean(options.showValues),
    };
    t = performance.now();
    const pairs = [...selection.pairs].sort((a, b) => b.sourceInfo.pages - a.sourceInfo.pages);
    const step = progress.step(`${mode === 'counts' ? 'count' : 'hash'} ${pairs.length} table${pairs.length === 1 ? '' : 's'}`);
    let done = 0;
    let tables: TableReport[];
    try {
      tables = await Promise.all(pairs.map(async (p) => {
        const r = await validateTable(source, target, p, settings);
        step.update(`${++done}/${pairs.length} (${p.id})`, { current: done, total: pairs.length, unit: 'tables' });
        return r;
      }));
      step.succeed(`${tables.filter((x) => x.status === 'ok').length}/${tables.length} equal`);
    } catch (error) {
      step.fail();
      throw error;
    }
    lap('data', t);
    tables.sort((a, b) => (a.table < b.table ? -1 : 1));

    const summary = summarise(tables, schema);
    timings.total = Math.round(performance.now() - t0);
    return {
      mode,
      startedAt: startedAt.toISOString(),
      durationMs: timings.total,
      platform,
      source: source.info,
      target: target.info,
      method: {
        hash: mode === 'counts' ? null : alg,
        hashReason: mode === 'counts' ? 'counts only' : reason,
        sessionSettings: { ...PINNED_SETTINGS },
        jobs,
        chunkRows: settings.chunkRows,
        rowCompareThreshold: settings.threshold,
        maxDifferences: settings.max,
        showValues: settings.showValues,
        generatedColumns: 'hashed',
      },
      ...(auth ? { auth: { layout: auth.layout, how: auth.how, pairs: auth.mappings.map((m) => ({ source: m.source, target: m.target, columns: Object.keys(m.columns ?? {}).length })) } } : {}),
      skipped: selection.skipped,
      tables,
      ...(schema ? { schema } : {}),
      summary,
      timings,
    };
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
}

async function openBoth(options: ValidateOptions, jobs: number): Promise<[Side, Side]> {
  const results = await Promise.allSettled([
    Side.open('source', options.source, jobs, options.connectTimeoutSeconds),
    Side.open('target', options.target, jobs, options.connectTimeoutSeconds),
  ]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  return [(results[0] as PromiseFulfilledResult<Side>).value, (results[1] as PromiseFulfilledResult<Side>).value];
}

async function validateTable(source: Side, target: Side, p: TablePair, s: Settings): Promise<TableReport> {
  const started = performance.now();
  const base: TableReport = {
    table: p.id,
    ...(p.targetId !== p.id ? { targetTable: p.targetId } : {}),
    status: 'ok',
    key: p.source.key.map((c) => c.name),
    rows: { source: null, target: null },
    columns: p.source.columns.map((c) => c.name),
    ...(p.columnsOnlyInSource.length ? { columnsOnlyInSource: p.columnsOnlyInSource } : {}),
    ...(p.columnsOnlyInTarget.length ? { columnsOnlyInTarget: p.columnsOnlyInTarget } : {}),
    differences: [],
    differencesTruncated: false,
    ...(p.note ? { note: p.note } : {}),
    durationMs: 0,
  };
  const finish = (r: TableReport): TableReport => ({ ...r, durationMs: Math.round(performance.now() - started) });
  if (!p.target) {
    return finish({ ...base, status: 'missing_on_target', rows: { source: await countTable(source, p.source), target: null }, note: 'no such table on the target' });
  }
  const unpopulated = populationMismatch(p);
  if (unpopulated) return finish({ ...base, status: unpopulated.status, note: unpopulated.note });
  if (p.source.columns.length === 0 && p.sourceInfo.columns.length > 0) {
    // No column of the source table has a partner on the target: two empty hashes would be "equal"
    // without a single value compared. A zero-column table on both sides still compares its rows.
    const [a, b] = await Promise.all([countTable(source, p.source), countTable(target, p.target)]);
    return finish({ ...base, status: 'error', rows: { source: a, target: b }, note: `no column of ${p.id} has a partner in ${p.targetId}: no content compared` });
  }
  if (s.mode === 'counts') {
    const [a, b] = await Promise.all([countTable(source, p.source), countTable(target, p.target)]);
    return finish({ ...base, status: a === b ? 'ok' : 'differs', rows: { source: a, target: b } });
  }
  const info = p.sourceInfo;
  const plan = await planChunks(source, p.source, info.estRows, info.neverAnalysed, info.pages, s.chunkRows);
  const [ca, cb] = await Promise.all([
    hashTable(source, s.alg, p.source, plan, info.pages),
    hashTable(target, s.alg, p.target, plan, p.targetInfo!.pages),
  ]);
  const da = digestHex(ca);
  const db = digestHex(cb);
  const differing = differingChunks(ca, cb);
  const report: TableReport = {
    ...base,
    status: differing.length === 0 ? 'ok' : 'differs',
    rows: { source: da.rows, target: db.rows },
    hash: { source: da.hex, target: db.hex, equal: da.hex === db.hex && da.rows === db.rows },
    chunks: {
      total: plan.kind === 'key' ? plan.bounds.length + 1 : plan.buckets,
      differing: differing.length,
      differingRanges: differing.slice(0, 10).map((id) => ({
        from: plan.kind === 'key' && id >= 1 ? plan.bounds[id - 1]! : null,
        to: plan.kind === 'key' && id < plan.bounds.length ? plan.bounds[id]! : null,
        sourceRows: ca.get(id)?.n ?? 0,
        targetRows: cb.get(id)?.n ?? 0,
      })),
    },
  };
  if (differing.length === 0 || s.mode !== 'full') return finish(report);
  const ctx: LocaliseContext = { source, target, alg: s.alg, s: p.source, t: p.target, max: s.max, threshold: s.threshold, showValues: s.showValues };
  const found: Localised = plan.kind === 'key'
    ? await localiseKeyed(ctx, plan, differing, ca as Map<number, Agg>, cb)
    : await localiseMultiset(ctx, plan, differing);
  return finish({ ...report, differences: found.differences, differencesTruncated: found.truncated });
}

/**
 * A materialized view that was never refreshed cannot be read: populated on the source but not on
 * the target is a failure (its rows never arrived); unpopulated on both sides is equal.
 */
function populationMismatch(p: TablePair): { status: TableReport['status']; note: string } | undefined {
  const s = p.sourceInfo.populated;
  const t = p.targetInfo?.populated ?? true;
  if (s && t) return undefined;
  if (!s && !t) return { status: 'ok', note: 'materialized view not populated on either side (WITH NO DATA): no rows to compare' };
  return s
    ? { status: 'differs', note: `materialized view ${p.targetId} is not populated on the target: run REFRESH MATERIALIZED VIEW ${p.targetId}` }
    : { status: 'differs', note: `materialized view ${p.id} is not populated on the source but is on the target` };
}

function summarise(tables: TableReport[], schema: SchemaReport | undefined): ValidateSummary {
  const diffs = schema?.differences ?? [];
  const s = {
    tables: tables.length,
    tablesOk: tables.filter((t) => t.status === 'ok').length,
    tablesDiffering: tables.filter((t) => t.status !== 'ok' && t.status !== 'skipped').length,
    rowsSource: tables.reduce((n, t) => n + (t.rows.source ?? 0), 0),
    rowsTarget: tables.reduce((n, t) => n + (t.rows.target ?? 0), 0),
    rowDifferences: tables.reduce((n, t) => n + t.differences.length, 0),
    schemaFailures: diffs.filter((d) => d.severity === 'fail').length,
    schemaWarnings: diffs.filter((d) => d.severity === 'warn').length,
    schemaExpected: diffs.filter((d) => d.severity === 'expected').length,
  };
  return { ok: s.tablesDiffering === 0 && s.schemaFailures === 0, ...s };
}
