/**
 * Per-test databases on the shared test-bed servers: every test gets a fresh, uniquely named
 * database (empty, or a clone of the fixture template) and drops it afterwards.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { withClient } from '../../src/db/connect.js';

export function urlWithDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function createOn(adminUrl: string, prefix: string, template?: string): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, { role: 'admin' }, (c) => c.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`));
  return {
    name,
    url: urlWithDatabase(adminUrl, name),
    drop: () => withClient(adminUrl, { role: 'admin' }, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** A copy of the Supabase-shaped fixture (scale 1) on the source server. */
export function fixtureDatabase(): Promise<TestDatabase> {
  return createOn(inject('sourceAdminUrl'), 'src', inject('fixtureTemplate'));
}

/** An empty database on the source server (e.g. to load the platform layer only). */
export function emptySourceDatabase(): Promise<TestDatabase> {
  return createOn(inject('sourceAdminUrl'), 'srcempty');
}

/** An empty database on the target server (PostGIS available). */
export function emptyTargetDatabase(): Promise<TestDatabase> {
  return createOn(inject('targetAdminUrl'), 'tgt');
}
