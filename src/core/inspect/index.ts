/**
 * `offramp inspect`: an inventory of the source database from its catalogs, read in one
 * REPEATABLE READ READ ONLY transaction so every number belongs to the same moment, plus the
 * findings (what needs attention, and how) derived from it. Works as a non-superuser: what the
 * role may not read is reported, not fatal.
 */
import { withClient } from '../../db/connect.js';
import { parseConnectionUrl } from '../../db/url.js';
import { silentProgress, type Progress } from '../../output/progress.js';
import { MANAGED_SCHEMAS } from '../supabase/platform.js';
import { decidePlatform, readExtensions, readPolicies, readRoles, readSchemas, readServer, readTables } from './catalog.js';
import { buildFindings, computeTotals } from './findings.js';
import { readEventTriggers, readPlatformData, readPlatformTableTriggers, readPublications } from './platform-data.js';
import { readReferences } from './references.js';
import { Snapshot } from './session.js';
import type { InspectInventory, InspectOptions, InspectReport } from './types.js';

export type * from './types.js';
export { buildFindings, computeTotals } from './findings.js';

/** Schemas whose objects project code references and whose tables the platform owns. */
const PLATFORM_SCHEMAS = ['auth', 'storage'];

export async function inspect(options: InspectOptions, progress: Progress = silentProgress): Promise<InspectReport> {
  const started = Date.now();
  const masked = parseConnectionUrl(options.source, 'source URL').masked;
  const inventory = await withClient(
    options.source,
    { role: 'source', timeoutSeconds: options.connectTimeoutSeconds, applicationName: 'offramp-inspect' },
    async (client) => {
      const snap = await Snapshot.begin(client);
      try {
        const inv = await readInventory(snap, options, progress, masked);
        await snap.end();
        return inv;
      } catch (error) {
        await snap.abort();
        throw error;
      }
    },
  );
  inventory.durationMs = Date.now() - started;
  const findings = buildFindings(inventory);
  return { ...inventory, findings, totals: computeTotals(inventory, findings) };
}

/** Run one named step; its summary is shown when it succeeds. */
async function step<T>(progress: Progress, title: string, fn: () => Promise<[T, string]>): Promise<T> {
  const handle = progress.step(title);
  try {
    const [value, summary] = await fn();
    handle.succeed(summary);
    return value;
  } catch (error) {
    handle.fail();
    throw error;
  }
}

async function readInventory(snap: Snapshot, options: InspectOptions, progress: Progress, source: string): Promise<InspectInventory> {
  const limit = options.exactCountLimit ?? 1_000_000;

  const { server, snapshotTime, platform, schemas } = await step(progress, 'read server and schemas', async () => {
    const s = await readServer(snap);
    const platform = decidePlatform(options.platform ?? 'auto', s.signals);
    const schemas = await readSchemas(snap, platform.kind);
    return [{ ...s, platform, schemas }, `${platform.kind}, PostgreSQL ${s.server.version.split(' ')[1] ?? s.server.versionNum}, ${schemas.length} schemas`];
  });
  const supabase = platform.kind === 'supabase';
  const managed = schemas.filter((s) => s.managed).map((s) => s.name);
  // Managed schemas that are not installed still count as managed (e.g. a stray graphql reference).
  const managedList = supabase ? [...new Set([...managed, ...MANAGED_SCHEMAS])] : managed;
  const platformSchemas = supabase ? PLATFORM_SCHEMAS : [];

  const { tables, managedTables } = await step(progress, 'count rows', async () => {
    const r = await readTables(snap, new Set(managedList), limit);
    return [r, `${r.tables.length + r.managedTables.length} tables`];
  });

  const objects = await step(progress, 'read extensions, policies, roles and references', async () => {
    const extensions = await readExtensions(snap);
    const policies = await readPolicies(snap, managedList, platformSchemas);
    const roles = await readRoles(snap, managedList, platformSchemas, platform.kind);
    const triggers = await readPlatformTableTriggers(snap, managedList, platformSchemas);
    const refs = await readReferences(snap, managedList, platformSchemas, extensions, policies, triggers);
    return [{ extensions, policies, roles, triggers, ...refs }, `${refs.references.length} objects use auth/storage`];
  });

  const platformData = await step(progress, supabase ? 'read auth, storage and realtime' : 'read publications', async () => {
    const data = { ...(await readPlatformData(snap, supabase)), publications: await readPublications(snap), eventTriggers: await readEventTriggers(snap) };
    return [data, supabase ? `${data.auth.users ?? '?'} users, ${data.storage.objects ?? '?'} files` : `${data.publications.length} publications`];
  });

  return {
    generatedAt: snapshotTime.toISOString(),
    source,
    durationMs: 0,
    server,
    platform,
    schemas,
    tables,
    managedTables,
    extensions: objects.extensions,
    policies: objects.policies,
    references: objects.references,
    authUserTriggers: objects.triggers.filter((t) => t.table === 'auth.users'),
    platformTableTriggers: objects.triggers.filter((t) => t.table !== 'auth.users'),
    roles: objects.roles,
    ...platformData,
    securityDefinerFunctions: objects.securityDefinerFunctions,
    unreadable: snap.unreadable,
  };
}
