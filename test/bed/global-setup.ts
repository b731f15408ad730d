/**
 * Starts the test bed's PostgreSQL servers once for the whole run:
 *  - source: the `supabase` flavour (machine binaries + stand-ins for platform-only extensions),
 *    made as the platform makes it (bootstrap superuser supabase_admin), holding a template
 *    database with the Supabase-shaped fixture loaded at scale 1. Tests get two URLs for it: the
 *    superuser's (sourceAdminUrl, for setting up) and the non-superuser postgres's (sourceUrl,
 *    what a real user connects as; its password is made here and registered as a secret);
 *  - target: the machine's installation as it is (PostGIS available).
 * TEST_SOURCE_URL / TEST_TARGET_URL (superuser URLs) use existing servers instead; with them,
 * TEST_SOURCE_USER_URL is the source's postgres URL (default: the superuser URL).
 */
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { withClient } from '../../src/db/connect.js';
import { startCluster, type LocalCluster } from '../../src/db/local-cluster.js';
import { registerSecret } from '../../src/secrets.js';
import { FIXTURE_TEMPLATE_DB, prepareFixtureTemplate } from './fixture-template.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sourceAdminUrl: string;
    /** The source's `postgres` database as role postgres (not a superuser, as on the platform). */
    sourceUrl: string;
    targetAdminUrl: string;
    fixtureTemplate: string;
    sourceFlavour: string;
  }
}

let started: LocalCluster[] = [];
interface Servers {
  source: string;
  sourceUser: string;
  target: string;
  flavour: string;
}
let setupDone: Promise<Servers> | undefined;

/** Give the fixture's non-superuser postgres a password and return its URL. */
async function postgresUrl(adminUrl: string): Promise<string> {
  const password = randomBytes(12).toString('hex');
  registerSecret(password);
  await withClient(adminUrl, { role: 'admin' }, (c) => c.query(`ALTER ROLE postgres PASSWORD '${password}'`));
  const u = new URL(adminUrl);
  u.username = 'postgres';
  u.password = password;
  return u.toString();
}

async function startServers(): Promise<Servers> {
  const fromEnvSource = process.env.TEST_SOURCE_URL;
  const fromEnvTarget = process.env.TEST_TARGET_URL;
  let source = fromEnvSource;
  let target = fromEnvTarget;
  let flavour = 'external';
  if (!source) {
    const c = await startCluster({ flavour: 'supabase' });
    started.push(c);
    source = c.url;
    flavour = 'supabase';
  }
  if (!target) {
    const c = await startCluster({ flavour: 'system' });
    started.push(c);
    target = c.url;
  }
  await prepareFixtureTemplate(source);
  const sourceUser = fromEnvSource ? (process.env.TEST_SOURCE_USER_URL ?? source) : await postgresUrl(source);
  return { source, sourceUser, target, flavour };
}

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  // With several projects this module may be asked more than once: start the servers only once.
  process.stderr.write(`[test bed] setup for project ${project.name}\n`);
  setupDone ??= startServers();
  const { source, sourceUser, target, flavour } = await setupDone;
  project.provide('sourceAdminUrl', source);
  project.provide('sourceUrl', sourceUser);
  project.provide('targetAdminUrl', target);
  project.provide('fixtureTemplate', FIXTURE_TEMPLATE_DB);
  project.provide('sourceFlavour', flavour);
  return async () => {
    const toStop = started;
    started = [];
    await Promise.all(toStop.map((c) => c.stop()));
  };
}
