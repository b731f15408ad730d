/**
 * Writes on the source during a copy never reach the target (issue 7, tests section): the copy
 * reads one exported snapshot, so the target must equal the source AS OF that snapshot.
 *
 * Made deterministic without timing: once the journal shows the copy started (its snapshot is
 * exported), a session takes an ACCESS EXCLUSIVE lock on one source table, and the test waits until
 * pg_locks shows an offramp session blocked behind it — the copy is provably running and has not
 * finished. Then other sessions insert, update and delete rows in a recognisable way (ids above a
 * marker, a marker column, known ids), the locking session writes too and releases the copy, and
 * writers go on until the copy exits. The target must hold exactly the rows the source held
 * before the copy, and `offramp validate` must report exactly the writers' rows (exit 3).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { journalPathFor } from '../../src/core/move/copy.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { emptySourceDatabase, emptyTargetDatabase, type TestDatabase } from '../bed/databases.js';
import { runCli } from '../e2e/run-cli.js';
import { sql, tableStates } from './move-helpers.js';

const made: TestDatabase[] = [];
const clients: pg.Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await Promise.all(made.map((d) => d.drop()));
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MARKER = 10_000_000;

async function session(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  clients.push(c);
  return c;
}

/** Poll `probe` every 50 ms until it returns a value, for at most 60 s. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(50);
  }
  throw new Error(`gave up waiting (60 s) for ${what}`);
}

describe('copy while the source is being written', () => {
  it('the target equals the source as of the snapshot; validate reports exactly the rows written meanwhile', async () => {
    const source = await emptySourceDatabase();
    const target = await emptyTargetDatabase();
    made.push(source, target);
    await sql(source.url, `CREATE SCHEMA conc;
      CREATE TABLE conc.items (id bigint PRIMARY KEY, val text NOT NULL, marker text);
      INSERT INTO conc.items SELECT i, md5(i::text), NULL FROM generate_series(1, 200000) i;
      CREATE TABLE conc.gate (id bigint PRIMARY KEY, note text);
      INSERT INTO conc.gate SELECT i, 'before' FROM generate_series(1, 1000) i;
      ANALYZE`);
    const before = await tableStates(source.url, ['conc']);
    expect(before['conc.items']!.rows).toBe(200_000);

    const workDir = mkdtempSync(join(tmpdir(), 'offramp-concurrent-'));
    const journal = journalPathFor(workDir, parseConnectionUrl(target.url));
    const copying = runCli(['copy', '--source', source.url, '--target', target.url, '--jobs', '2', '--work-dir', workDir, '--json']);
    let copyExited = false;
    void copying.finally(() => { copyExited = true; });

    // 1. The journal's start record: the snapshot is exported.
    await waitFor('the copy to start', async () => (existsSync(journal) && readFileSync(journal, 'utf8').includes('"type":"start"') ? true : undefined));
    const snapshotId = JSON.parse(readFileSync(journal, 'utf8').split('\n')[0]!).snapshot as string;
    expect(snapshotId).toMatch(/^[0-9A-F]+-[0-9A-F]+-\d+$/);

    // 2. Hold the copy: it must read conc.gate (pg_dump locks it, COPY reads it).
    const gate = await session(source.url);
    await gate.query('BEGIN');
    await gate.query('LOCK TABLE conc.gate IN ACCESS EXCLUSIVE MODE');
    // Watched from a session outside any transaction: within one, the statistics views stay frozen.
    const watcher = await session(source.url);
    const blocked = await waitFor('an offramp session blocked on conc.gate', async () => {
      if (copyExited) throw new Error(`the copy ended before it was held: ${JSON.stringify(await copying)}`);
      const { rows } = await watcher.query<{ app: string }>(
        `SELECT a.application_name AS app FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.relation = 'conc.gate'::regclass AND NOT l.granted AND a.datname = current_database()`);
      return rows[0]?.app;
    });
    expect(blocked).toMatch(/^offramp|pg_dump/);
    expect(copyExited).toBe(false);

    // 3. Writes while the copy is running, committed by other sessions.
    const writer = await session(source.url);
    const inserted: number[] = [];
    const updated: number[] = [];
    const deleted: number[] = [];
    let n = 0;
    const writeOnce = async (): Promise<void> => {
      n++;
      await writer.query('BEGIN');
      await writer.query(`INSERT INTO conc.items VALUES ($1, 'inserted meanwhile', 'concurrent')`, [MARKER + n]);
      await writer.query(`UPDATE conc.items SET marker = 'concurrent' WHERE id = $1`, [n * 10 + 1]);
      await writer.query(`DELETE FROM conc.items WHERE id = $1`, [n * 10 + 2]);
      await writer.query('COMMIT');
      inserted.push(MARKER + n);
      updated.push(n * 10 + 1);
      deleted.push(n * 10 + 2);
    };
    for (let i = 0; i < 5; i++) await writeOnce();
    // The locking session writes to the table the copy waits for, then lets it go on.
    await gate.query(`INSERT INTO conc.gate VALUES (${MARKER}, 'inserted meanwhile'); UPDATE conc.gate SET note = 'concurrent' WHERE id = 7; DELETE FROM conc.gate WHERE id = 8`);
    await gate.query('COMMIT');
    expect(copyExited).toBe(false);
    // 4. More writes while the copy moves data, until it exits (bounded).
    while (!copyExited && n < 60) {
      await writeOnce();
      await sleep(20);
    }
    const copied = await copying;
    expect(copied.exitCode, copied.stderr).toBe(0);
    expect(JSON.parse(copied.stdout).result.consistent).toBe(true);

    // The target holds exactly what the source held at the snapshot: none of the writes.
    expect(await tableStates(target.url, ['conc'])).toEqual(before);
    expect(await sql(target.url, `SELECT count(*)::int AS n FROM conc.items WHERE id > ${MARKER} OR marker IS NOT NULL`)).toEqual([{ n: 0 }]);
    expect(await sql(target.url, `SELECT note FROM conc.gate WHERE id IN (7, 8, ${MARKER}) ORDER BY id`)).toEqual([{ note: 'before' }, { note: 'before' }]);
    // …and the source really changed.
    expect(await tableStates(source.url, ['conc'])).not.toEqual(before);

    // validate against the source: exit 3, exactly the rows written meanwhile.
    const v = await runCli(['validate', '--source', source.url, '--target', target.url, '--max-differences', '1000', '--json']);
    expect(v.exitCode, v.stderr).toBe(3);
    const report = JSON.parse(v.stdout).result as { tables: Array<{ table: string; differences: Array<{ kind: string; key: { id: string }; columns?: string[] }> }> };
    const diffs = (table: string, kind: string) => report.tables.find((t) => t.table === table)!.differences
      .filter((d) => d.kind === kind).map((d) => Number(d.key.id)).sort((a, b) => a - b);
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    expect(diffs('conc.items', 'missing')).toEqual(sorted(inserted));
    expect(diffs('conc.items', 'extra')).toEqual(sorted(deleted));
    expect(diffs('conc.items', 'changed')).toEqual(sorted(updated));
    for (const d of report.tables.find((t) => t.table === 'conc.items')!.differences.filter((x) => x.kind === 'changed')) expect(d.columns).toEqual(['marker']);
    expect(report.tables.find((t) => t.table === 'conc.gate')!.differences.map((d) => [d.kind, d.key.id]).sort())
      .toEqual([['changed', '7'], ['extra', '8'], ['missing', String(MARKER)]]);
  }, 180_000);
});
