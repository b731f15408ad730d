/**
 * What lives in the platform schemas and matters to the migration: auth users and identities,
 * storage buckets and objects, vault secrets, triggers the project put on platform tables,
 * publications and event triggers. Every read is guarded: a role that may not read auth.users
 * still gets a report, with `readable: false`.
 */
import { PLATFORM_EVENT_TRIGGERS, REALTIME_PUBLICATION } from '../supabase/platform.js';
import { num, type Snapshot } from './session.js';
import type { AuthHashKind, AuthSummary, AuthTrigger, EventTriggerInfo, InspectReport, PublicationInfo, StorageSummary } from './types.js';

const TRACKED = ['auth.users', 'auth.identities', 'auth.mfa_factors', 'auth.sessions', 'storage.buckets', 'storage.objects', 'vault.secrets'] as const;
type Tracked = (typeof TRACKED)[number];
type Access = Record<Tracked, { present: boolean; readable: boolean; oid: number }>;

async function access(snap: Snapshot): Promise<Access> {
  const rows = await snap.run<{ name: Tracked; oid: string | null; present: boolean; readable: boolean }>('relation-access', [[...TRACKED]]);
  const out = {} as Access;
  for (const r of rows) out[r.name] = { present: r.present, readable: r.readable, oid: num(r.oid) };
  return out;
}

async function countOf(snap: Snapshot, a: Access, table: Tracked): Promise<number | null> {
  const t = a[table];
  if (!t.present) return null;
  if (!t.readable) {
    snap.cannotRead(table, 'no SELECT privilege');
    return null;
  }
  const rows = await snap.attempt<{ n: string }>('exact-counts', [[t.oid]], table);
  return rows?.[0] ? num(rows[0].n) : null;
}

const emptyAuth = (present: boolean): AuthSummary => ({
  present, readable: false, users: null, passwords: null, banned: null, deleted: null, anonymous: null, sso: null,
  identities: null, identitiesByProvider: {}, usersByProvider: {}, hashKinds: null, mfaFactors: null, mfaByKind: {}, sessions: null,
});

async function readAuth(snap: Snapshot, a: Access): Promise<AuthSummary> {
  if (!a['auth.users'].present) return emptyAuth(false);
  if (!a['auth.users'].readable) {
    snap.cannotRead('auth.users', 'no SELECT privilege');
    return emptyAuth(true);
  }
  type UsersRow = { users: string; bcrypt: string; empty: string; banned: string; deleted: string; anonymous: string; sso: string };
  const [u] = (await snap.attempt<UsersRow>('auth-users', [], 'auth.users')) ?? [];
  if (!u) return emptyAuth(true);
  const users = num(u.users);
  const summary: AuthSummary = {
    present: true, readable: true, users,
    passwords: { bcrypt: num(u.bcrypt), empty: num(u.empty), other: users - num(u.bcrypt) - num(u.empty) },
    banned: num(u.banned), deleted: num(u.deleted), anonymous: num(u.anonymous), sso: num(u.sso),
    identities: null, identitiesByProvider: {}, usersByProvider: {}, hashKinds: null, mfaFactors: null, mfaByKind: {}, sessions: null,
  };
  const kinds = await snap.attempt<{ kind: AuthHashKind['kind']; variant: string | null; cost: number | null; users: string }>('auth-hash-kinds', [], 'auth.users');
  if (kinds) summary.hashKinds = kinds.map((k) => ({ kind: k.kind, variant: k.variant, cost: k.cost, users: num(k.users) }));
  if (a['auth.identities'].present && a['auth.identities'].readable) {
    const rows = await snap.attempt<{ provider: string; n: string; users: string }>('auth-identities', [], 'auth.identities');
    if (rows) {
      for (const r of rows) {
        summary.identitiesByProvider[r.provider] = num(r.n);
        summary.usersByProvider[r.provider] = num(r.users);
      }
      summary.identities = rows.reduce((s, r) => s + num(r.n), 0);
    }
  } else if (a['auth.identities'].present) {
    snap.cannotRead('auth.identities', 'no SELECT privilege');
  }
  summary.mfaFactors = await countOf(snap, a, 'auth.mfa_factors');
  if (summary.mfaFactors !== null) {
    const rows = await snap.attempt<{ kind: string; status: string; factors: string }>('auth-mfa-factors', [], 'auth.mfa_factors');
    for (const r of rows ?? []) summary.mfaByKind[`${r.kind}/${r.status}`] = num(r.factors);
  }
  summary.sessions = await countOf(snap, a, 'auth.sessions');
  return summary;
}

async function readStorage(snap: Snapshot, a: Access): Promise<StorageSummary> {
  const present = a['storage.buckets'].present && a['storage.objects'].present;
  const none: StorageSummary = { present, readable: false, buckets: [], objects: null, bytes: null };
  if (!present) return none;
  if (!a['storage.buckets'].readable || !a['storage.objects'].readable) {
    for (const t of ['storage.buckets', 'storage.objects'] as const) if (!a[t].readable) snap.cannotRead(t, 'no SELECT privilege');
    return none;
  }
  type BucketRow = { id: string; name: string; public: boolean; objects: string; bytes: string };
  const buckets = await snap.attempt<BucketRow>('storage-buckets', [], 'storage.buckets');
  const [totals] = (await snap.attempt<{ objects: string; bytes: string }>('storage-totals', [], 'storage.objects')) ?? [];
  if (!buckets || !totals) return none;
  return {
    present, readable: true,
    buckets: buckets.map((b) => ({ id: b.id, name: b.name, public: b.public, objects: num(b.objects), bytes: num(b.bytes) })),
    objects: num(totals.objects), bytes: num(totals.bytes),
  };
}

interface TriggerRow {
  table: string; name: string; function_schema: string; function: string; function_owner: string; security_definer: boolean;
  search_path: string | null; timing: AuthTrigger['timing']; events: string[]; level: AuthTrigger['level']; enabled: boolean;
}

/** Triggers the project put on auth/storage tables: their function lives outside the managed schemas. */
export async function readPlatformTableTriggers(snap: Snapshot, managed: string[], platformSchemas: string[]): Promise<AuthTrigger[]> {
  if (platformSchemas.length === 0) return [];
  const rows = await snap.run<TriggerRow>('platform-triggers', [platformSchemas]);
  return rows
    .filter((r) => !managed.includes(r.function_schema))
    .map((r) => ({
      table: r.table, name: r.name, function: r.function, functionOwner: r.function_owner, securityDefiner: r.security_definer,
      searchPath: r.search_path, timing: r.timing, events: r.events, level: r.level, enabled: r.enabled,
    }));
}

export async function readPublications(snap: Snapshot): Promise<PublicationInfo[]> {
  const rows = await snap.run<{ name: string; all_tables: boolean; operations: string[]; tables: string[] }>('publications');
  return rows.map((r) => ({ name: r.name, allTables: r.all_tables, platform: r.name === REALTIME_PUBLICATION, tables: r.tables, operations: r.operations }));
}

export async function readEventTriggers(snap: Snapshot): Promise<EventTriggerInfo[]> {
  const rows = await snap.run<{ name: string; event: string; function: string; owner: string; enabled: boolean }>('event-triggers');
  return rows.map((r) => ({ ...r, platform: PLATFORM_EVENT_TRIGGERS.includes(r.name) }));
}

export type PlatformData = Pick<InspectReport, 'auth' | 'storage' | 'vault'>;

/** Auth, storage and vault contents (only on a Supabase source). */
export async function readPlatformData(snap: Snapshot, supabase: boolean): Promise<PlatformData> {
  if (!supabase) {
    return { auth: emptyAuth(false), storage: { present: false, readable: false, buckets: [], objects: null, bytes: null }, vault: { present: false, readable: false, secrets: null } };
  }
  const a = await access(snap);
  const auth = await readAuth(snap, a);
  const storage = await readStorage(snap, a);
  const secrets = await countOf(snap, a, 'vault.secrets');
  return { auth, storage, vault: { present: a['vault.secrets'].present, readable: a['vault.secrets'].readable, secrets } };
}
