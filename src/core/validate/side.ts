/**
 * One side of a validation (source or target): a few sessions that all read the same snapshot,
 * with every setting that shapes the text output of a value pinned, so that equal values give
 * equal canonical text (and equal hashes) on two different servers.
 */
import type pg from 'pg';
import { connect } from '../../db/connect.js';
import { query, toQueryError } from '../../db/sql.js';
import { parseConnectionUrl } from '../../db/url.js';
import type { SideInfo } from './types.js';

/**
 * Session settings pinned on both sides. Each one changes the text form of some type:
 * TimeZone (timestamptz), DateStyle (date, timestamp), IntervalStyle (interval),
 * extra_float_digits (float4/8: >0 gives the shortest exact form, so the last digit counts),
 * bytea_output (bytea), lc_monetary (money), search_path (reg* types and the names that
 * pg_get_*def print). The others keep the reads honest and predictable: row_security=off makes a
 * read that RLS would filter fail instead of returning fewer rows; no JIT or parallel workers, so
 * the load is the sessions offramp opened; enable_sort=off, see below.
 */
export const PINNED_SETTINGS: Readonly<Record<string, string>> = {
  TimeZone: 'UTC',
  DateStyle: 'ISO, YMD',
  IntervalStyle: 'postgres',
  extra_float_digits: '3',
  bytea_output: 'hex',
  lc_monetary: 'C',
  xmloption: 'content',
  search_path: 'pg_catalog',
  row_security: 'off',
  jit: 'off',
  max_parallel_workers_per_gather: '0',
  // The planner cannot know a table has only ~100 chunks and would sort every row to group them:
  // with sorting discouraged the chunk GROUP BY is a hash aggregate of a few kilobytes.
  enable_sort: 'off',
  statement_timeout: '0',
  idle_in_transaction_session_timeout: '0',
};

export type SideName = 'source' | 'target';

interface Waiter {
  resolve: (client: pg.Client) => void;
}

export class Side {
  private readonly free: pg.Client[] = [];
  private readonly waiters: Waiter[] = [];
  info!: SideInfo;

  private constructor(
    readonly name: SideName,
    private readonly clients: pg.Client[],
  ) {
    this.free.push(...clients);
  }

  get sessions(): number {
    return this.clients.length;
  }

  /** The first session: catalog reads run here. */
  get main(): pg.Client {
    return this.clients[0]!;
  }

  /**
   * Open `sessions` connections, pin the settings, start a REPEATABLE READ READ ONLY transaction on
   * the first and share its exported snapshot with the others. When the server refuses to export a
   * snapshot, the side goes on with one session (still one snapshot).
   */
  static async open(name: SideName, url: string, sessions: number, timeoutSeconds: number | undefined): Promise<Side> {
    const info = parseConnectionUrl(url, `${name} URL`);
    const clients: pg.Client[] = [];
    const opened: pg.Client[] = [];
    try {
      const first = await connect(url, { role: name, timeoutSeconds, applicationName: `offramp-validate-${name}` });
      opened.push(first);
      const [facts] = await query<{ version: string; version_num: number; database: string; current_user: string; enc: string; tz: string; ds: string }>(
        first,
        `SELECT version() AS version, current_setting('server_version_num')::int AS version_num, current_database() AS database,
                current_user AS current_user, current_setting('server_encoding') AS enc, current_setting('TimeZone') AS tz,
                current_setting('DateStyle') AS ds`,
        [],
        `${name}: server facts`,
      );
      await pin(first, name);
      await query(first, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', [], `${name}: start the snapshot`);
      const [t] = await query<{ now: Date }>(first, 'SELECT now() AS now', [], `${name}: snapshot time`);
      clients.push(first);
      let snapshot: string | undefined;
      if (sessions > 1) {
        try {
          await first.query('SAVEPOINT offramp_export');
          const [s] = (await first.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows;
          await first.query('RELEASE SAVEPOINT offramp_export');
          snapshot = s!.id;
        } catch {
          await first.query('ROLLBACK TO SAVEPOINT offramp_export');
        }
      }
      if (snapshot) {
        const others = await Promise.all(
          Array.from({ length: sessions - 1 }, () => connect(url, { role: name, timeoutSeconds, applicationName: `offramp-validate-${name}` })),
        );
        opened.push(...others);
        await Promise.all(
          others.map(async (c) => {
            await pin(c, name);
            await query(c, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', [], `${name}: start a worker transaction`);
            await query(c, `SET TRANSACTION SNAPSHOT '${snapshot!.replace(/'/g, "''")}'`, [], `${name}: import the snapshot`);
          }),
        );
        clients.push(...others);
      }
      const side = new Side(name, clients);
      side.info = {
        url: info.masked,
        version: facts!.version,
        versionNum: facts!.version_num,
        database: facts!.database,
        currentUser: facts!.current_user,
        serverEncoding: facts!.enc,
        serverTimeZone: facts!.tz,
        serverDateStyle: facts!.ds,
        ...(snapshot ? { snapshot } : {}),
        snapshotTime: t!.now.toISOString(),
        sessions: clients.length,
      };
      return side;
    } catch (error) {
      await Promise.all(opened.map((c) => c.end().catch(() => {})));
      throw error;
    }
  }

  /** Run `fn` on a free session of this side (waits for one). */
  async use<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = this.free.pop() ?? (await new Promise<pg.Client>((resolve) => this.waiters.push({ resolve })));
    try {
      return await fn(client);
    } finally {
      const next = this.waiters.shift();
      if (next) next.resolve(client);
      else this.free.push(client);
    }
  }

  /** Run a query on a free session; a server error becomes a QueryError naming the side. */
  async query<R extends pg.QueryResultRow>(text: string, values: unknown[], what: string): Promise<R[]> {
    return this.use(async (client) => {
      try {
        return (await client.query<R>({ text, values })).rows;
      } catch (error) {
        throw toQueryError(error, `${this.name}: ${what}`, this.name);
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.clients.map(async (c) => {
        await c.query('ROLLBACK').catch(() => {});
        await c.end().catch(() => {});
      }),
    );
  }
}

async function pin(client: pg.Client, name: SideName): Promise<void> {
  const entries = Object.entries(PINNED_SETTINGS);
  await query(
    client,
    `SELECT ${entries.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, false)`).join(', ')}`,
    entries.flat(),
    `${name}: pin the session settings`,
  );
}
