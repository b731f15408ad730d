/**
 * The one read-only snapshot every inspect query runs in, and the savepoint guard that lets a
 * query the connecting role may not run fail without spoiling the transaction.
 */
import type pg from 'pg';
import { loadSql, query } from '../../db/sql.js';
import type { QueryError } from '../../errors.js';

export class Snapshot {
  private savepoints = 0;
  /** Objects the connecting role could not read, with why (the first reason given wins). */
  private readonly refused = new Map<string, string>();

  constructor(readonly client: pg.ClientBase) {}

  static async begin(client: pg.ClientBase): Promise<Snapshot> {
    await query(client, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', [], 'start the inventory snapshot');
    // A count(*) that RLS would filter must fail, not return a smaller number.
    await query(client, 'SET LOCAL row_security = off', [], 'disable row security for counts');
    return new Snapshot(client);
  }

  /** Record that `object` could not be read, and why. */
  cannotRead(object: string, reason: string): void {
    if (!this.refused.has(object)) this.refused.set(object, reason);
  }

  /** `object: reason` for each object that could not be read. */
  get unreadable(): string[] {
    return [...this.refused].map(([object, reason]) => `${object}: ${reason}`);
  }

  async end(): Promise<void> {
    await this.client.query('COMMIT');
  }

  async abort(): Promise<void> {
    await this.client.query('ROLLBACK').catch(() => {});
  }

  /** Run sql/catalog/<name>.sql. */
  run<R extends pg.QueryResultRow>(name: string, values: unknown[] = []): Promise<R[]> {
    return query<R>(this.client, loadSql(`catalog/${name}.sql`), values, `inspect: ${name}`);
  }

  /**
   * Run a catalog query that may be refused (permissions, RLS, a table of another shape) inside a
   * savepoint. On failure the transaction goes on, `what` (unless null) is recorded as unreadable,
   * and undefined is returned.
   */
  async attempt<R extends pg.QueryResultRow>(name: string, values: unknown[], what: string | null): Promise<R[] | undefined> {
    const sp = `inspect_${++this.savepoints}`;
    await this.client.query(`SAVEPOINT ${sp}`);
    try {
      const rows = await this.run<R>(name, values);
      await this.client.query(`RELEASE SAVEPOINT ${sp}`);
      return rows;
    } catch (error) {
      await this.client.query(`ROLLBACK TO SAVEPOINT ${sp}`);
      const reason = (error as QueryError).message.replace(/^inspect: [\w-]+ failed: /, '');
      if (what !== null) this.cannotRead(what, reason);
      return undefined;
    }
  }
}

/** node-postgres returns int8 as strings; numbers here stay far below 2^53. */
export function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : Number(value);
}
