/**
 * Findings about what the platform holds or adds around the project: triggers on auth/storage
 * tables, auth users, storage files, vault secrets, Realtime, event triggers, roles, privileges.
 */
import { agree, formatBytes, formatCount, listSome, plural } from './format.js';
import type { Finding, InspectInventory } from './types.js';

const STORAGE_HINT = 'the database holds only their metadata: copy the files themselves out through the S3 endpoint (rclone or aws s3 sync) before cutover and keep the bucket paths; storage.objects rows alone do not move a single file';

export function findPlatformFindings(inv: InspectInventory): Finding[] {
  return [
    ...triggerFindings(inv),
    ...functionFindings(inv),
    ...dataFindings(inv),
    ...realtimeAndEventFindings(inv),
    ...roleFindings(inv),
    ...accessFindings(inv),
  ];
}

function triggerFindings(inv: InspectInventory): Finding[] {
  const out: Finding[] = [];
  for (const t of inv.authUserTriggers) {
    out.push({
      id: 'trigger-on-auth-users', severity: 'warning', object: `${t.name} on ${t.table}`,
      message: `trigger ${t.name} on auth.users runs ${t.function} ${t.timing} ${t.events.join(' OR ')}${t.securityDefiner ? ` (SECURITY DEFINER, owner ${t.functionOwner})` : ''}`,
      hint: 'auth.users is not copied with your tables, so this trigger moves only with the auth stage: `offramp auth migrate` recreates it on the local users table; until then new sign-ups on the target do not run it',
    });
  }
  for (const t of inv.platformTableTriggers) {
    out.push({
      id: 'trigger-on-platform-table', severity: 'warning', object: `${t.name} on ${t.table}`,
      message: `trigger ${t.name} on ${t.table} runs ${t.function} ${t.timing} ${t.events.join(' OR ')}`,
      hint: `${t.table} belongs to the platform and is not copied as a project table: recreate the trigger where the data ends up (auth migrate for auth tables; storage metadata for storage tables) or move its logic into the application`,
    });
  }
  return out;
}

function functionFindings(inv: InspectInventory): Finding[] {
  return inv.securityDefinerFunctions
    .filter((f) => f.searchPath === null)
    .map((f) => ({
      id: 'security-definer-without-search-path', severity: 'warning' as const, object: f.function,
      message: `${f.function} is SECURITY DEFINER (runs as ${f.owner}) without a fixed search_path`,
      hint: `it resolves unqualified names through the caller's search_path, so a caller can shadow them and run code as ${f.owner}; add SET search_path = '' and schema-qualify the names before it moves (the target's owner mapping changes whom it runs as)`,
    }));
}

function dataFindings(inv: InspectInventory): Finding[] {
  const out: Finding[] = [];
  const { auth, storage, vault } = inv;
  if (auth.present && auth.readable && auth.users !== null) {
    const providers = Object.entries(auth.identitiesByProvider).map(([p, n]) => `${p} ${n}`).join(', ');
    out.push({
      id: 'auth-users', severity: 'info', object: 'auth.users',
      message: `${plural(auth.users, 'auth user')}${auth.identities !== null ? `, ${plural(auth.identities, 'identity', 'identities')}${providers ? ` (${providers})` : ''}` : ''}`,
      hint: 'they move with `offramp auth migrate` (into a local users table, keeping ids and bcrypt hashes); `offramp auth verify` checks password-hash and JWT continuity',
    });
    const pw = auth.passwords;
    if (pw && pw.other > 0) {
      out.push({
        id: 'auth-non-bcrypt-passwords', severity: 'warning', object: 'auth.users',
        message: `${plural(pw.other, 'user')} ${agree(pw.other, 'has', 'have')} a password hash that is not bcrypt (e.g. argon2 or firebase scrypt imports)`,
        hint: 'the new backend must verify these formats too, or these users must reset their password',
      });
    }
    if (pw && pw.empty > 0) {
      out.push({
        id: 'auth-users-without-password', severity: 'info', object: 'auth.users',
        message: `${plural(pw.empty, 'user')} ${agree(pw.empty, 'has', 'have')} no password (OAuth, magic-link, phone or anonymous sign-in)`,
        hint: 'they can sign in on the new backend only through a provider or flow it implements; their identities are moved by `offramp auth migrate`',
      });
    }
  }
  if ((auth.mfaFactors ?? 0) > 0) {
    out.push({
      id: 'mfa-factors-present', severity: 'warning', object: 'auth.mfa_factors',
      message: `${plural(auth.mfaFactors ?? 0, 'MFA factor')} ${agree(auth.mfaFactors ?? 0, 'is', 'are')} enrolled`,
      hint: 'the new backend must verify TOTP/WebAuthn factors itself, or these users lose their second factor at cutover',
    });
  }
  // Unreadable storage: the planner's estimate still says whether there are files.
  const estimated = inv.managedTables.find((t) => t.schema === 'storage' && t.name === 'objects');
  if (storage.present && !storage.readable && (estimated?.rows ?? 0) > 0) {
    out.push({
      id: 'storage-objects-present', severity: 'warning', object: 'storage.objects',
      message: `about ${formatCount(estimated?.rows)} files live in Supabase Storage (estimated: storage.objects is not readable by ${inv.server.currentUser})`,
      hint: STORAGE_HINT,
    });
  }
  if (storage.present && (storage.objects ?? 0) > 0) {
    out.push({
      id: 'storage-objects-present', severity: 'warning', object: 'storage.objects',
      message: `${plural(storage.objects ?? 0, 'file')} (${formatBytes(storage.bytes)}) in ${plural(storage.buckets.length, 'bucket')} ${agree(storage.objects ?? 0, 'lives', 'live')} in Supabase Storage`,
      hint: STORAGE_HINT,
    });
  }
  if (vault.present && (vault.secrets ?? 0) > 0) {
    out.push({
      id: 'vault-secrets-present', severity: 'warning', object: 'vault.secrets',
      message: `vault.secrets holds ${plural(vault.secrets ?? 0, 'secret')}`,
      hint: 'the ciphertext cannot be decrypted without the project root key, so it is not portable: read the values from vault.decrypted_secrets on the source and put them in the target\'s secret store',
    });
  }
  return out;
}

function realtimeAndEventFindings(inv: InspectInventory): Finding[] {
  const out: Finding[] = [];
  for (const p of inv.publications.filter((x) => x.platform && (x.allTables || x.tables.length > 0))) {
    out.push({
      id: 'realtime-publication', severity: 'warning', object: p.name,
      message: `publication ${p.name} publishes ${p.allTables ? 'all tables' : `${plural(p.tables.length, 'table')}: ${listSome(p.tables)}`}`,
      hint: 'the app receives Realtime changes for these tables; the target has no Realtime server and the publication is left behind, so replace those subscriptions (LISTEN/NOTIFY, your own websocket, or a self-hosted Realtime) before cutover',
    });
  }
  const platformEvents = inv.eventTriggers.filter((e) => e.platform);
  if (platformEvents.length > 0) {
    out.push({
      id: 'event-triggers', severity: 'info',
      message: `${plural(platformEvents.length, 'platform event trigger')} (${listSome(platformEvents.map((e) => e.name))}) ${agree(platformEvents.length, 'is', 'are')} left behind`,
      hint: 'they serve Supabase services (PostgREST schema reload, extension grants) and need a superuser; nothing to do unless the target runs those services',
    });
  }
  for (const e of inv.eventTriggers.filter((x) => !x.platform)) {
    out.push({
      id: 'custom-event-trigger', severity: 'warning', object: e.name,
      message: `event trigger ${e.name} runs ${e.function} on ${e.event}`,
      hint: 'event triggers are not copied (creating one needs a superuser): recreate it on the target by hand if you still need it',
    });
  }
  return out;
}

function roleFindings(inv: InspectInventory): Finding[] {
  const out: Finding[] = [];
  const custom = inv.roles.filter((r) => !r.platform && !r.name.startsWith('pg_'));
  if (custom.length > 0) {
    out.push({
      id: 'custom-roles', severity: 'info',
      message: `your objects are owned by, granted to or name ${plural(custom.length, 'custom role')}: ${listSome(custom.map((r) => r.name), 8)}`,
      hint: 'copy creates missing roles on the target without passwords (set them afterwards) or maps them with --owner-map old=new',
    });
  }
  if (inv.platform.kind === 'supabase') {
    const platformOwners = inv.roles.filter((r) => r.platform && r.owns > 0 && r.name !== 'postgres' && !r.name.startsWith('pg_'));
    if (platformOwners.length > 0) {
      out.push({
        id: 'platform-role-owner', severity: 'info',
        message: `objects in your schemas are owned by platform roles: ${platformOwners.map((r) => `${r.name} (${r.owns})`).join(', ')}`,
        hint: 'platform roles are not recreated on the target: their objects are given to the target\'s connecting role unless --owner-map says otherwise',
      });
    }
  }
  return out;
}

function accessFindings(inv: InspectInventory): Finding[] {
  const out: Finding[] = [];
  if (inv.platform.requested !== 'auto' && inv.platform.requested !== inv.platform.detected) {
    out.push({
      id: 'platform-override', severity: 'info',
      message: `treated as ${inv.platform.kind} as requested, although the catalogs look like ${inv.platform.detected}`,
      hint: 'drop --platform (or set it to auto) to let inspect decide from the catalogs',
    });
  }
  if (inv.unreadable.length > 0) {
    // What matters most to the plan first: auth and storage contents, then the project's tables.
    const key = ['auth.users', 'auth.identities', 'storage.objects', 'storage.buckets', 'vault.secrets'];
    const projectTables = new Set(inv.tables.map((t) => `${t.schema}.${t.name}`));
    const rank = (o: string): number => (key.includes(o) ? key.indexOf(o) : projectTables.has(o) ? key.length : key.length + 1);
    const objects = inv.unreadable.map((u) => u.split(':')[0]!).sort((a, b) => rank(a) - rank(b));
    out.push({
      id: 'not-readable', severity: 'info',
      message: `${inv.server.currentUser} could not read ${plural(objects.length, 'object')}: ${listSome(objects, 8)}`,
      hint: 'their row counts are estimates from statistics and auth/storage contents are missing (see `unreadable` in --json for why); the rest comes from the catalogs and is complete. Connect as the database owner (postgres on Supabase) or grant SELECT for exact numbers',
    });
  }
  return out;
}
