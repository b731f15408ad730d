/**
 * Per-test databases on the shared test-bed servers: every test gets a fresh, uniquely named
 * database (empty, or a clone of the fixture template) and drops it afterwards.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { withClient } from '../../src/db/connect.js';

export function urlWithDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface TestDatabase {
  name: string;
  /** What the tool under test connects as: on the source, the non-superuser postgres. */
  url: string;
  /** The server's superuser, for setting up and for reading back what a test changed. */
  adminUrl: string;
  drop(): Promise<void>;
}

interface CreateOptions {
  template?: string;
  /** Connect tests as this URL's role (default: the superuser) and make it the database's owner. */
  userUrl?: string;
}

async function createOn(adminUrl: string, prefix: string, options: CreateOptions = {}): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const owner = options.userUrl ? decodeURIComponent(new URL(options.userUrl).username) : undefined;
  await withClient(adminUrl, { role: 'admin' }, (c) =>
    c.query(`CREATE DATABASE ${name}${options.template ? ` TEMPLATE ${options.template}` : ''}${owner ? ` OWNER "${owner}"` : ''}`));
  return {
    name,
    url: urlWithDatabase(options.userUrl ?? adminUrl, name),
    adminUrl: urlWithDatabase(adminUrl, name),
    drop: () => withClient(adminUrl, { role: 'admin' }, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/**
 * A copy of the Supabase-shaped fixture (scale 1) on the source server, owned by postgres as on
 * the platform: `url` connects as postgres (not a superuser), `adminUrl` as the superuser.
 */
export function fixtureDatabase(): Promise<TestDatabase> {
  return createOn(inject('sourceAdminUrl'), 'src', { template: inject('fixtureTemplate'), userUrl: inject('sourceUrl') });
}

/** An empty database on the source server (e.g. to load the platform layer only): both URLs are the superuser's. */
export function emptySourceDatabase(): Promise<TestDatabase> {
  return createOn(inject('sourceAdminUrl'), 'srcempty');
}

/** An empty database on the target server (PostGIS available). */
export function emptyTargetDatabase(): Promise<TestDatabase> {
  return createOn(inject('targetAdminUrl'), 'tgt');
}

/**
 * A `track` for one test file: every database it is given is dropped after the file's tests
 * (the block each move test used to write out for itself).
 */
export function trackDatabases(): (p: Promise<TestDatabase>) => Promise<TestDatabase> {
  const made: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(made.map((d) => d.drop()));
  });
  return async (p) => {
    const db = await p;
    made.push(db);
    return db;
  };
}
