import type pg from 'pg';
import { loadSql, query } from './sql.js';

/** A string that is equal for two sessions exactly when they are in the same database. */
export async function databaseIdentity(client: pg.ClientBase): Promise<string> {
  const [row] = await query<{ identity: string }>(client, loadSql('db/identity.sql'), [], 'identify the database');
  return row!.identity;
}
