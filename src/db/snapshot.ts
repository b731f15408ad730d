/**
 * One consistent view of the source for every reader. A coordinator connection opens a
 * REPEATABLE READ READ ONLY transaction and exports its snapshot; workers (and pg_dump --snapshot)
 * import it. The snapshot lives exactly as long as the coordinator's transaction, so the holder
 * must stay open until the last reader has started.
 */
import type pg from 'pg';
import { connect } from './connect.js';
import { endClient } from './sessions.js';
import type { ConnectionInfo } from './url.js';

export interface SnapshotHolder {
  id: string;
  /** The coordinator connection, inside the exporting transaction (read-only). */
  client: pg.Client;
  release(): Promise<void>;
}

export async function exportSnapshot(source: string | ConnectionInfo, timeoutSeconds = 10): Promise<SnapshotHolder> {
  const client = await connect(source, { role: 'source', timeoutSeconds, applicationName: 'offramp-snapshot' });
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    return {
      id: rows[0]!.id,
      client,
      // Ending the session ends the read-only transaction (nothing to commit), and a source that
      // died silently is not waited for.
      release: () => endClient(client),
    };
  } catch (error) {
    await endClient(client);
    throw error;
  }
}

/** Start a read-only transaction on `client` that sees exactly the exported snapshot. */
export async function importSnapshot(client: pg.ClientBase, snapshotId: string): Promise<void> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await client.query(`SET TRANSACTION SNAPSHOT '${snapshotId.replace(/'/g, "''")}'`);
}

/** Whether a snapshot can still be imported (its exporter is alive). */
export async function snapshotAlive(client: pg.ClientBase, snapshotId: string): Promise<boolean> {
  try {
    await importSnapshot(client, snapshotId);
    await client.query('ROLLBACK');
    return true;
  } catch {
    await client.query('ROLLBACK').catch(() => {});
    return false;
  }
}
