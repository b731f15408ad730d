/**
 * The state of the target and how it relates to the source: is it empty, is it a different
 * database at all, do encodings match, is there room for the data.
 */
import { existsSync, readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Check, CheckOutcome } from '../../../checks/types.js';
import { loadSql, query } from '../../../db/sql.js';
import { isLoopbackHost } from '../../../db/url.js';
import { unavailable, type DoctorContext, type ReadySide } from '../context.js';
import { formatBytes } from '../../../output/format.js';

/** `target.empty`: user tables already in the target database. */
export const targetEmptyCheck: Check<DoctorContext> = {
  id: 'target.empty',
  title: 'Target database empty',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.target);
    if (skip) return skip;
    const target = ctx.target as ReadySide;
    const tables = await query<{ schema: string; name: string; estimated_rows: string }>(target.client, loadSql('doctor/user-tables.sql'), [], 'list target tables');
    if (tables.length === 0) return { status: 'pass', detail: `database ${target.facts.database} has no user tables`, evidence: { tables: 0 } };
    const names = tables.map((t) => `${t.schema}.${t.name}`);
    return {
      status: 'warn',
      detail: `database ${target.facts.database} already has ${tables.length} user table${tables.length === 1 ? '' : 's'} (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''})`,
      hint: 'restore/copy into a non-empty database asks for confirmation (--yes); use a new, empty database to rehearse',
      evidence: { tables: tables.length, examples: names.slice(0, 20) },
    };
  },
};

function sameEndpointByUrl(ctx: DoctorContext): boolean {
  const s = ctx.source.info;
  const t = ctx.target.info;
  if (!s || !t) return false;
  const host = (h: string): string => (isLoopbackHost(h) && !h.startsWith('/') ? 'loopback' : h.toLowerCase());
  return host(s.host) === host(t.host) && s.port === t.port && s.database === t.database;
}

/** `pair.same-database`: never copy a database onto itself. */
export const sameDatabaseCheck: Check<DoctorContext> = {
  id: 'pair.same-database',
  title: 'Source and target differ',
  async run(ctx): Promise<CheckOutcome> {
    const s = ctx.source.facts;
    const t = ctx.target.facts;
    const fail = (why: string): CheckOutcome => ({
      status: 'fail',
      detail: `source and target are the same database (${why})`,
      hint: 'offramp never copies a database onto itself: point --target at the new server',
      evidence: { source: ctx.source.info?.masked, target: ctx.target.info?.masked },
    });
    if (s && t) {
      // The cluster's system identifier (or, if unreadable, its start time) plus the database OID
      // names a database whatever host name, pooler or port reached it.
      const cluster = (f: typeof s): string => f.system_identifier ?? `${f.started_at}/${f.port}`;
      if (cluster(s) === cluster(t) && s.database_oid === t.database_oid) return fail(`cluster ${cluster(s)}, database ${s.database}`);
      const sameCluster = cluster(s) === cluster(t);
      return {
        status: 'pass',
        detail: sameCluster ? `different databases (${s.database}, ${t.database}) on the same server` : 'different servers',
        evidence: { sourceCluster: cluster(s), targetCluster: cluster(t), sourceDatabase: s.database, targetDatabase: t.database },
      };
    }
    if (sameEndpointByUrl(ctx)) return fail('same host, port and database in both URLs');
    return unavailable(ctx.source) ?? unavailable(ctx.target) ?? { status: 'skip', detail: 'needs both sides' };
  },
};

/** `pair.encoding`: server encodings and collations of the two databases. */
export const encodingCheck: Check<DoctorContext> = {
  id: 'pair.encoding',
  title: 'Encoding and collation',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.source) ?? unavailable(ctx.target);
    if (skip) return skip;
    const s = (ctx.source as ReadySide).facts;
    const t = (ctx.target as ReadySide).facts;
    const evidence = { source: { encoding: s.encoding, collate: s.collate, ctype: s.ctype }, target: { encoding: t.encoding, collate: t.collate, ctype: t.ctype } };
    if (s.encoding !== t.encoding) {
      const lossy = s.encoding === 'UTF8' || t.encoding === 'SQL_ASCII';
      return {
        status: lossy ? 'fail' : 'warn',
        detail: `source encoding ${s.encoding}, target ${t.encoding}`,
        hint: `create the target database with the source's encoding: CREATE DATABASE … ENCODING '${s.encoding}' TEMPLATE template0`,
        evidence,
      };
    }
    if (s.collate !== t.collate || s.ctype !== t.ctype) {
      return {
        status: 'warn',
        detail: `collation differs: source ${s.collate}/${s.ctype}, target ${t.collate}/${t.ctype}`,
        hint: `text sorts differently (ORDER BY, unique indexes on text are rebuilt); to keep behaviour: CREATE DATABASE … LC_COLLATE '${s.collate}' LC_CTYPE '${s.ctype}' TEMPLATE template0`,
        evidence,
      };
    }
    return { status: 'pass', detail: `${s.encoding}, collation ${s.collate}`, evidence };
  },
};

/** The port a local data directory's postmaster listens on, if its postmaster.pid can be read. */
function postmasterPort(dataDir: string): number | undefined {
  try {
    const line = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[3];
    return line ? Number(line.trim()) : undefined;
  } catch {
    return undefined;
  }
}

/** Room needed on the target beyond the source's size: WAL written during the load, index builds, sorts. */
export const DISK_HEADROOM = 1.5;

/** `target.disk`: free space where the target keeps its data vs the source database's size. */
export const targetDiskCheck: Check<DoctorContext> = {
  id: 'target.disk',
  title: 'Free disk on the target',
  async run(ctx): Promise<CheckOutcome> {
    if (ctx.settings.skipDisk) return { status: 'skip', detail: 'skipped (--skip-disk)' };
    const skip = unavailable(ctx.source) ?? unavailable(ctx.target);
    if (skip) return skip;
    const source = ctx.source as ReadySide;
    const target = ctx.target as ReadySide;
    const size = Number(source.facts.database_size);
    const dataDir = target.facts.data_directory;
    const host = target.info.host;
    if (!isLoopbackHost(host)) {
      return {
        status: 'skip',
        detail: `target server ${host} is not on this machine; source database is ${formatBytes(size)}`,
        hint: `make sure the target has more than ${formatBytes(size * DISK_HEADROOM)} free; pass --skip-disk to silence this`,
        evidence: { sourceBytes: size },
      };
    }
    if (!dataDir) {
      return {
        status: 'skip',
        detail: `${target.facts.current_user} may not read data_directory (needs superuser or pg_read_all_settings); source is ${formatBytes(size)}`,
        evidence: { sourceBytes: size },
      };
    }
    if (!existsSync(dataDir)) {
      return { status: 'skip', detail: `data directory ${dataDir} is not visible from here (a container?); source is ${formatBytes(size)}`, evidence: { sourceBytes: size, dataDir } };
    }
    const pidPort = postmasterPort(dataDir);
    if (pidPort !== undefined && pidPort !== target.facts.port) {
      return { status: 'skip', detail: `${dataDir} belongs to another local server (port ${pidPort}); source is ${formatBytes(size)}`, evidence: { sourceBytes: size, dataDir } };
    }
    const fs = await statfs(dataDir);
    const free = fs.bavail * fs.bsize;
    const evidence = { sourceBytes: size, freeBytes: free, dataDir, needBytes: Math.ceil(size * DISK_HEADROOM), verifiedByPid: pidPort !== undefined };
    if (free < size) {
      return {
        status: 'fail',
        detail: `${formatBytes(free)} free at ${dataDir}, the source database is ${formatBytes(size)}`,
        hint: 'free space or grow the volume before copying',
        evidence,
      };
    }
    if (free < size * DISK_HEADROOM) {
      return {
        status: 'warn',
        detail: `${formatBytes(free)} free at ${dataDir} for a ${formatBytes(size)} source: tight once WAL and index builds are counted`,
        hint: `aim for at least ${formatBytes(size * DISK_HEADROOM)} free`,
        evidence,
      };
    }
    return { status: 'pass', detail: `${formatBytes(free)} free at ${dataDir}, source is ${formatBytes(size)}`, evidence };
  },
};
