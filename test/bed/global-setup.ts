/**
 * Starts the test bed's PostgreSQL servers once for the whole run:
 *  - source: the `supabase` flavour (machine binaries + stand-ins for platform-only extensions),
 *    holding a template database with the Supabase-shaped fixture loaded at scale 1;
 *  - target: the machine's installation as it is (PostGIS available).
 * TEST_SOURCE_URL / TEST_TARGET_URL (superuser URLs) use existing servers instead.
 */
import type { TestProject } from 'vitest/node';
import { startCluster, type LocalCluster } from '../../src/db/local-cluster.js';
import { FIXTURE_TEMPLATE_DB, prepareFixtureTemplate } from './fixture-template.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sourceAdminUrl: string;
    targetAdminUrl: string;
    fixtureTemplate: string;
    sourceFlavour: string;
  }
}

let started: LocalCluster[] = [];
let setupDone: Promise<{ source: string; target: string; flavour: string }> | undefined;

async function startServers(): Promise<{ source: string; target: string; flavour: string }> {
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
  return { source, target, flavour };
}

export async function setup(project: TestProject): Promise<() => Promise<void>> {
  // With several projects this module may be asked more than once: start the servers only once.
  process.stderr.write(`[test bed] setup for project ${project.name}\n`);
  setupDone ??= startServers();
  const { source, target, flavour } = await setupDone;
  project.provide('sourceAdminUrl', source);
  project.provide('targetAdminUrl', target);
  project.provide('fixtureTemplate', FIXTURE_TEMPLATE_DB);
  project.provide('sourceFlavour', flavour);
  return async () => {
    const toStop = started;
    started = [];
    await Promise.all(toStop.map((c) => c.stop()));
  };
}
