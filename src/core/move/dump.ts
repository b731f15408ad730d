/**
 * `offramp dump`: the copy pipeline's inputs written to a directory artifact from one snapshot.
 * It is built in a temporary directory beside the destination and renamed into place only when
 * complete, so a failed dump leaves nothing half-written; manifest.json is written last.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, chmodSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { databaseIdentity } from '../../db/identity.js';
import { exportSnapshot, type SnapshotHolder } from '../../db/snapshot.js';
import { loadSql, query } from '../../db/sql.js';
import { parseConnectionUrl } from '../../db/url.js';
import { ConfirmationRequiredError, UsageError } from '../../errors.js';
import { inStep, type Progress } from '../../output/progress.js';
import { VERSION } from '../../version.js';
import { ARTIFACT_FORMAT, ARTIFACT_VERSION, MANIFEST, sha256File, type Manifest } from './artifact.js';
import { dumpUnits, type CopyFormat } from './copy-data.js';
import { timedPhase, type Phases } from './finish.js';
import { buildPlan, readSequences } from './plan.js';
import { collectSchema } from './schema-stage.js';
import { makePrivateDir, PRIVATE_DIR_MODE, writePrivateFile } from './private-files.js';

export interface DumpOptions {
  source: string;
  out: string;
  jobs: number;
  platform: 'auto' | 'supabase' | 'postgres';
  schemas: string[];
  excludeSchemas: string[];
  excludeTables: string[];
  splitBytes: number;
  dataFormat: CopyFormat;
  connectTimeoutSeconds: number;
  /** Replace an existing dump at `out` (--yes). */
  overwrite: boolean;
}

export interface DumpResult {
  ok: boolean;
  out: string;
  source: string;
  platform: Manifest['plan']['platform'];
  snapshot: string;
  dataFormat: CopyFormat;
  schemas: string[];
  excludedSchemas: string[];
  tables: Array<Manifest['tables'][number] & { bytes: number }>;
  totals: { tables: number; rows: number; bytes: number; fileBytes: number; seconds: number };
  phases: Phases;
}

const safeName = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

function checkDestination(out: string, overwrite: boolean): void {
  if (!existsSync(out)) return;
  const entries = readdirSync(out);
  if (entries.length === 0) return;
  if (!entries.includes(MANIFEST)) {
    throw new UsageError(`${out} exists and is not an offramp dump`, { hint: 'choose a new directory for --out; offramp never deletes a directory it did not write' });
  }
  if (!overwrite) throw new ConfirmationRequiredError(`${out} already holds a dump`, { hint: 'add --yes to replace it, or choose another --out' });
}

export async function dumpDatabase(options: DumpOptions, progress: Progress): Promise<DumpResult> {
  const source = parseConnectionUrl(options.source, 'source URL');
  const out = resolve(options.out);
  checkDestination(out, options.overwrite);
  mkdirSync(dirname(out), { recursive: true });
  // mkdtemp creates the directory 0700; set again in case of an odd umask. Every file in it is 0600.
  const staging = mkdtempSync(join(dirname(out), `.${basename(out)}.partial-`));
  chmodSync(staging, PRIVATE_DIR_MODE);
  const started = performance.now();
  const phases: Phases = [];
  let holder: SnapshotHolder | undefined;
  try {
    holder = await exportSnapshot(source, options.connectTimeoutSeconds);
    const [facts] = await query<{ version: string; num: string; now: string }>(holder.client, `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num, now()::text AS now`);
    // restore refuses to load the dump back into this very database, whatever URL reaches it.
    const identity = await databaseIdentity(holder.client);
    const plan = await timedPhase(phases, 'plan', () => inStep(progress, 'read the source catalog', () => buildPlan(holder!.client, options)));
    for (const w of plan.warnings) progress.log('warn', w);
    const bundle = await timedPhase(phases, 'schema', () => inStep(progress, 'dump the schema (pg_dump, in the snapshot)', () =>
      collectSchema(source, holder!.client, holder!.id, plan)));
    writePrivateFile(join(staging, 'pre-data.sql'), bundle.preData);
    writePrivateFile(join(staging, 'post-data.sql'), bundle.postData);
    const { preData: _p, postData: _q, ...meta } = bundle;
    writePrivateFile(join(staging, 'schema-meta.json'), `${JSON.stringify(meta, null, 2)}\n`);

    makePrivateDir(join(staging, 'data'));
    const units = plan.units.map((u, i) => ({ ...u, file: `data/${String(i + 1).padStart(4, '0')}-${safeName(u.id)}.copy.gz` }));
    const dumped = await timedPhase(phases, 'data', () => inStep(progress, `dump data (${options.jobs} jobs, ${options.dataFormat})`, (step) =>
      dumpUnits(units, staging, { source, snapshot: holder!.id, format: options.dataFormat, jobs: options.jobs, timeoutSeconds: options.connectTimeoutSeconds, step })));
    const sequences = await readSequences(holder.client, plan);
    const snapshotId = holder.id;
    await holder.release();
    holder = undefined;

    const files: Manifest['files'] = {};
    for (const f of ['pre-data.sql', 'post-data.sql', 'schema-meta.json']) {
      const path = join(staging, f);
      files[f] = { sha256: await sha256File(path), bytes: statSync(path).size };
    }
    for (const d of dumped) files[d.file] = { sha256: d.sha256, bytes: d.fileBytes };
    const rowsByTable = new Map<string, number>();
    for (const d of dumped) rowsByTable.set(d.table, (rowsByTable.get(d.table) ?? 0) + d.rows);
    const tables = plan.tables.filter((t) => t.kind === 'r').map((t) => ({ table: t.display, rows: rowsByTable.get(t.display) ?? 0 }));
    const manifest: Manifest = {
      format: ARTIFACT_FORMAT,
      formatVersion: ARTIFACT_VERSION,
      offrampVersion: VERSION,
      createdAt: new Date().toISOString(),
      source: { url: source.masked, serverVersion: facts!.version, serverVersionNum: Number(facts!.num), identity },
      snapshot: { id: snapshotId, time: facts!.now },
      dataFormat: options.dataFormat,
      compression: 'gzip',
      plan: { platform: plan.platform, schemas: plan.schemas, excludedSchemas: plan.excludedSchemas, partitioned: [...plan.partitioned], tables: plan.tables, extensions: plan.extensions },
      units: dumped.map((d) => ({ id: d.id, table: d.table, file: d.file, rows: d.rows, bytes: d.bytes })).sort((a, b) => a.file.localeCompare(b.file)),
      tables,
      sequences,
      files,
    };
    writePrivateFile(join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    if (existsSync(out)) rmSync(out, { recursive: true, force: true });
    renameSync(staging, out);
    const seconds = (performance.now() - started) / 1000;
    return {
      ok: true, out, source: source.masked, platform: plan.platform, snapshot: facts!.now, dataFormat: options.dataFormat,
      schemas: plan.schemas, excludedSchemas: plan.excludedSchemas,
      tables: tables.map((t) => ({ ...t, bytes: dumped.filter((d) => d.table === t.table).reduce((s, d) => s + d.bytes, 0) })),
      totals: {
        tables: tables.length, rows: tables.reduce((s, t) => s + t.rows, 0), bytes: dumped.reduce((s, d) => s + d.bytes, 0),
        fileBytes: dumped.reduce((s, d) => s + d.fileBytes, 0), seconds: Math.round(seconds * 100) / 100,
      },
      phases,
    };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  } finally {
    if (holder) await holder.release();
  }
}
