/**
 * inspect's pure parts on a hand-built inventory (no database): which findings appear with which
 * severity and object, the totals, and the text and Markdown renderings.
 */
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { buildFindings, computeTotals } from '../../src/core/inspect/findings.js';
import { cell } from '../../src/core/inspect/markdown.js';
import { renderInspectMarkdown, renderInspectText } from '../../src/core/inspect/render.js';
import type { Finding, InspectInventory, InspectReport, TableInfo } from '../../src/core/inspect/types.js';

// A small inventory shaped like what inspect reads from a Supabase project: a few tables (one
// without a primary key, one large), pgjwt with a dependent, policies calling auth functions, a
// trigger on auth.users, storage files, a vault secret, a realtime table.

function table(overrides: Partial<TableInfo> & { name: string }): TableInfo {
  return {
    schema: 'public', owner: 'postgres', kind: 'table', rows: 10, rowsExact: true, totalBytes: 16384, hasPrimaryKey: true,
    hasUniqueKey: true, rlsEnabled: false, rlsForced: false, policies: 0, generatedColumns: [], identityColumns: [],
    fksToAuthUsers: [], inRealtimePublication: false, readable: true, ...overrides,
  };
}

function smallInventory(): InspectInventory {
  return {
    generatedAt: '2026-01-02T03:04:05.000Z',
    source: 'postgresql://postgres:****@db.example.supabase.co:5432/postgres',
    durationMs: 123,
    server: {
      version: 'PostgreSQL 15.8 on x86_64-pc-linux-gnu, compiled by gcc', versionNum: 150008, currentUser: 'postgres',
      superuser: false, bypassRls: true, database: 'postgres', databaseBytes: 25 * 1024 * 1024, walLevel: 'logical', timezone: 'UTC',
    },
    platform: {
      kind: 'supabase', detected: 'supabase', requested: 'auto',
      signals: { hasAuthUsers: true, hasStorageObjects: true, platformRoles: ['anon', 'authenticated', 'service_role'], hasRealtimePublication: true, hasExtensionsSchema: true },
    },
    schemas: [
      { name: 'public', owner: 'pg_database_owner', managed: false, counts: { tables: 4, views: 1, materializedViews: 0, sequences: 1, functions: 3, types: 0 } },
      { name: 'auth', owner: 'supabase_admin', managed: true, handledBy: 'users and identities are translated by `offramp auth migrate`', counts: { tables: 16, views: 0, materializedViews: 0, sequences: 1, functions: 4, types: 5 } },
      { name: 'extensions', owner: 'postgres', managed: true, counts: { tables: 0, views: 0, materializedViews: 0, sequences: 0, functions: 0, types: 0 } },
    ],
    tables: [
      table({ name: 'profiles', rows: 72, rlsEnabled: true, policies: 2, fksToAuthUsers: [{ constraint: 'profiles_id_fkey', columns: ['id'], onDelete: 'CASCADE' }] }),
      table({ name: 'posts', rows: 298, rlsEnabled: true, policies: 2, generatedColumns: ['search'], identityColumns: ['id'], inRealtimePublication: true }),
      table({ name: 'audit_log', rows: 5, hasPrimaryKey: false, hasUniqueKey: false, rlsEnabled: true, policies: 0 }),
      table({ name: 'beacons', rows: 2_500_000, rowsExact: false, totalBytes: 2 * 1024 ** 3 }),
    ],
    managedTables: [{ schema: 'auth', name: 'users', rows: 72, rowsExact: true, totalBytes: 65536, readable: true }],
    extensions: [
      { name: 'postgis', version: '3.3.2', schema: 'extensions', platformOnly: false, dependents: [{ kind: 'column', object: 'public.beacons.location' }] },
      { name: 'pgjwt', version: '0.2.0', schema: 'extensions', platformOnly: true, platformOnlyReason: 'JWT signing in SQL; not packaged for Debian PostgreSQL', dependents: [{ kind: 'function', object: 'public.make_token(text)' }] },
      { name: 'pg_trgm', version: '1.6', schema: 'public', platformOnly: false, dependents: [] },
    ],
    policies: [
      { schema: 'public', table: 'posts', name: 'own posts', command: 'ALL', permissive: true, roles: ['authenticated'], using: '(auth.uid() = user_id)', withCheck: null, references: ['auth.uid'] },
      { schema: 'public', table: 'posts', name: 'admins', command: 'SELECT', permissive: true, roles: ['authenticated'], using: "((auth.jwt() ->> 'role') = 'admin')", withCheck: null, references: ['auth.jwt'] },
      { schema: 'public', table: 'profiles', name: 'public read', command: 'SELECT', permissive: true, roles: ['public'], using: 'true', withCheck: null, references: [] },
    ],
    references: [
      { kind: 'policy', schema: 'public', name: 'own posts', table: 'public.posts', references: ['auth.uid'], functions: ['auth.uid'], via: ['depend', 'text'] },
      { kind: 'policy', schema: 'public', name: 'admins', table: 'public.posts', references: ['auth.jwt'], functions: ['auth.jwt'], via: ['depend', 'text'] },
      { kind: 'default', schema: 'public', name: 'posts.user_id', table: 'public.posts', references: ['auth.uid'], functions: ['auth.uid'], via: ['depend'] },
      { kind: 'function', schema: 'public', name: 'is_admin()', references: ['auth.jwt'], functions: ['auth.jwt'], via: ['text'] },
      { kind: 'view', schema: 'public', name: 'my_profile', references: ['auth.uid'], functions: ['auth.uid'], via: ['depend'] },
      { kind: 'trigger', schema: 'auth', name: 'on_auth_user_created', table: 'auth.users', references: ['auth.users'], functions: [], via: ['depend'] },
    ],
    authUserTriggers: [{
      table: 'auth.users', name: 'on_auth_user_created', function: 'public.handle_new_user()', functionOwner: 'postgres', securityDefiner: true,
      searchPath: '""', timing: 'AFTER', events: ['INSERT'], level: 'ROW', enabled: true,
    }],
    platformTableTriggers: [],
    roles: [
      { name: 'authenticated', platform: true, login: false, superuser: false, bypassRls: false, createRole: false, createDb: false, replication: false, inherit: true, memberOf: [], owns: 0, grants: 6, policies: 2 },
      { name: 'app_reader', platform: false, login: true, superuser: false, bypassRls: false, createRole: false, createDb: false, replication: false, inherit: true, memberOf: [], owns: 0, grants: 2, policies: 0 },
    ],
    auth: {
      present: true, readable: true, users: 72, passwords: { bcrypt: 70, empty: 2, other: 0 }, banned: 1, deleted: 0, anonymous: 1, sso: 0,
      identities: 74, identitiesByProvider: { email: 70, google: 4 }, usersByProvider: { email: 70, google: 4 },
      hashKinds: [{ kind: 'bcrypt', variant: '2a', cost: 10, users: 70 }, { kind: 'none', variant: null, cost: null, users: 2 }], mfaFactors: 0, mfaByKind: {}, sessions: 12,
    },
    storage: { present: true, readable: true, buckets: [{ id: 'avatars', name: 'avatars', public: true, objects: 3, bytes: 1536 }], objects: 3, bytes: 1536 },
    vault: { present: true, readable: true, secrets: 1 },
    publications: [{ name: 'supabase_realtime', allTables: false, platform: true, tables: ['public.posts'], operations: ['insert', 'update', 'delete', 'truncate'] }],
    eventTriggers: [
      { name: 'pgrst_ddl_watch', event: 'ddl_command_end', function: 'extensions.pgrst_ddl_watch()', owner: 'supabase_admin', enabled: true, platform: true },
      { name: 'audit_ddl', event: 'ddl_command_end', function: 'public.audit_ddl()', owner: 'postgres', enabled: true, platform: false },
    ],
    securityDefinerFunctions: [
      { function: 'public.handle_new_user()', owner: 'postgres', searchPath: '""' },
      { function: 'public.is_admin()', owner: 'postgres', searchPath: null },
    ],
    unreadable: [],
  };
}

function smallReport(): InspectReport {
  const inv = smallInventory();
  const findings = buildFindings(inv);
  return { ...inv, findings, totals: computeTotals(inv, findings) };
}

function ids(findings: Finding[]): string[] {
  return findings.map((f) => f.id);
}

function only(findings: Finding[], id: string): Finding[] {
  return findings.filter((f) => f.id === id);
}

describe('buildFindings', () => {
  const inv = smallInventory();
  const findings = buildFindings(inv);

  it('flags the table without a primary key with the multiset hint, and not its siblings', () => {
    const noPk = only(findings, 'table-without-primary-key');
    expect(noPk.map((f) => f.object)).toEqual(['public.audit_log']);
    expect(noPk[0]!.severity).toBe('warning');
    expect(noPk[0]!.hint).toMatch(/multiset/);
    expect(noPk[0]!.hint).toMatch(/copy cannot split/);
  });

  it('makes a platform-only extension with dependents an error that names them', () => {
    const [pgjwt] = only(findings, 'platform-only-extension');
    expect(pgjwt).toMatchObject({ severity: 'error', object: 'pgjwt' });
    expect(pgjwt!.message).toContain('public.make_token(text)');
  });

  it('makes a platform-only extension nothing uses a warning', () => {
    const inv2 = smallInventory();
    inv2.extensions.find((e) => e.name === 'pgjwt')!.dependents = [];
    expect(only(buildFindings(inv2), 'platform-only-extension')[0]).toMatchObject({ severity: 'warning' });
  });

  it('reports the trigger on auth.users as moving with the auth stage', () => {
    const [t] = only(findings, 'trigger-on-auth-users');
    expect(t!.message).toContain('on_auth_user_created');
    expect(t!.message).toContain('public.handle_new_user()');
    expect(t!.hint).toContain('offramp auth migrate');
  });

  it('groups policies that call auth functions per table and points at rls translate', () => {
    const policy = only(findings, 'policy-calls-missing-function');
    expect(policy.map((f) => f.object)).toEqual(['public.posts']);
    expect(policy[0]!.message).toMatch(/2 policies on public\.posts call auth\.jwt\(\), auth\.uid\(\)/);
    expect(policy[0]!.hint).toContain('offramp rls translate');
  });

  it('reports FKs into auth.users, defaults calling auth.uid(), functions and views using auth', () => {
    expect(only(findings, 'fk-to-auth-users')[0]!.message).toContain('profiles_id_fkey');
    expect(only(findings, 'default-references-auth')[0]!.message).toContain('auth.uid()');
    expect(only(findings, 'function-references-platform')[0]!.object).toBe('public.is_admin()');
    expect(only(findings, 'view-references-platform')[0]!.object).toBe('public.my_profile');
  });

  it('covers the platform contents: storage files, vault, realtime, event triggers, search_path', () => {
    expect(ids(findings)).toEqual(expect.arrayContaining([
      'storage-objects-present', 'vault-secrets-present', 'realtime-publication', 'event-triggers', 'custom-event-trigger',
      'security-definer-without-search-path', 'rls-enabled-without-policies', 'extension-in-public', 'extensions-schema',
      'large-table', 'auth-users', 'auth-users-without-password', 'generated-columns', 'custom-roles',
    ]));
    expect(only(findings, 'storage-objects-present')[0]!.message).toMatch(/^3 files \(1\.5 kB\) in 1 bucket live/);
  });

  it('puts errors first, then warnings, then info, and gives every finding a hint', () => {
    const order = findings.map((f) => ({ error: 0, warning: 1, info: 2 })[f.severity]);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    for (const f of findings) {
      expect(f.hint.length, f.id).toBeGreaterThan(20);
      expect(f.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
    }
  });

  it('says nothing Supabase-specific about a plain PostgreSQL database', () => {
    const plain: InspectInventory = {
      ...smallInventory(),
      platform: { kind: 'postgres', detected: 'postgres', requested: 'auto', signals: { hasAuthUsers: false, hasStorageObjects: false, platformRoles: [], hasRealtimePublication: false, hasExtensionsSchema: false } },
      tables: [table({ name: 'events', hasPrimaryKey: false, hasUniqueKey: false })],
      extensions: [{ name: 'pg_trgm', version: '1.6', schema: 'public', platformOnly: false, dependents: [] }],
      policies: [], references: [], authUserTriggers: [], platformTableTriggers: [], roles: [], publications: [], eventTriggers: [],
      securityDefinerFunctions: [],
      auth: { present: false, readable: false, users: null, passwords: null, banned: null, deleted: null, anonymous: null, sso: null, identities: null, identitiesByProvider: {}, usersByProvider: {}, hashKinds: null, mfaFactors: null, mfaByKind: {}, sessions: null },
      storage: { present: false, readable: false, buckets: [], objects: null, bytes: null },
      vault: { present: false, readable: false, secrets: null },
    };
    expect(ids(buildFindings(plain))).toEqual(['table-without-primary-key']);
  });

  it('falls back to the storage estimate when storage.objects is unreadable', () => {
    const inv2 = smallInventory();
    inv2.storage = { present: true, readable: false, buckets: [], objects: null, bytes: null };
    inv2.managedTables = [{ schema: 'storage', name: 'objects', rows: 40, rowsExact: false, totalBytes: 8192, readable: false }];
    inv2.unreadable = ['storage.objects: no SELECT privilege (row count estimated)'];
    const f = buildFindings(inv2);
    expect(only(f, 'storage-objects-present')[0]!.message).toMatch(/about 40 files .*estimated/);
    expect(only(f, 'not-readable')[0]!.message).toContain('storage.objects');
  });
});

describe('computeTotals', () => {
  it('counts leaf rows once, top-level tables only, and findings by severity', () => {
    const inv = smallInventory();
    inv.tables.push(
      table({ name: 'events', kind: 'partitioned', rows: 10, totalBytes: 0 }),
      table({ name: 'events_1', partitionOf: 'public.events', rows: 10, totalBytes: 100 }),
    );
    const findings = buildFindings(inv);
    const totals = computeTotals(inv, findings);
    const leafRows = inv.tables.filter((t: TableInfo) => t.kind === 'table').reduce((s, t) => s + (t.rows ?? 0), 0);
    expect(totals.rows).toBe(leafRows);
    expect(totals.userTables).toBe(inv.tables.length - 1);
    expect(totals.findings.error + totals.findings.warning + totals.findings.info).toBe(findings.length);
    expect(totals.rowsExact).toBe(false); // the large table is estimated
  });
});

describe('renderInspectText', () => {
  const report = smallReport();

  it('without colour prints plain text: header, tables with PK/RLS, extensions, auth, storage, findings with hints', () => {
    const text = renderInspectText(report, new Chalk({ level: 0 }));
    expect(text).not.toMatch(/\u001b\[/);
    expect(text).toContain('offramp inspect: postgres (supabase)');
    expect(text).toMatch(/public\.audit_log\s+5\s+16 kB\s+no\s+on\s+0/);
    expect(text).toMatch(/public\.beacons\s+~2,500,000/);
    expect(text).toContain('pgjwt 0.2.0 (extensions) platform-only');
    expect(text).toContain('72 users (bcrypt 70, no password 2)');
    expect(text).toContain('identities (email 70, google 4)');
    expect(text).toContain('trigger on_auth_user_created → public.handle_new_user() AFTER INSERT');
    expect(text).toContain('avatars (public): 3 files, 1.5 kB');
    expect(text).toMatch(/Findings: 1 error, \d+ warnings, \d+ info/);
    expect(text).toMatch(/✖ error\s+platform-only-extension/);
    expect(text).toContain('hint: ');
  });

  it('uses colour only through the chalk instance it is given', () => {
    expect(renderInspectText(report, new Chalk({ level: 1 }))).toMatch(/\u001b\[/);
  });

  it('lists no auth or storage sections for a plain PostgreSQL source', () => {
    const plain = smallReport();
    plain.platform = { ...plain.platform, kind: 'postgres', detected: 'postgres' };
    const text = renderInspectText(plain, new Chalk({ level: 0 }));
    expect(text).not.toContain('\nAuth\n');
    expect(text).not.toContain('\nStorage\n');
  });
});

describe('renderInspectMarkdown', () => {
  const report = smallReport();
  const md = renderInspectMarkdown(report);

  it('is a migration plan with the sections a reviewer expects', () => {
    for (const heading of ['# Migration plan: postgres (supabase)', '## Summary', '## What moves', '## What is left behind, and why',
      '## What needs attention', '## Tables', '## Extensions', '## Roles', '## Auth', '## Storage', '## Next steps']) {
      expect(md).toContain(heading);
    }
    expect(md.indexOf('## Summary')).toBeLessThan(md.indexOf('## Next steps'));
  });

  it('names the offramp commands to run next', () => {
    const next = md.slice(md.indexOf('## Next steps'));
    for (const cmd of ['offramp doctor', 'offramp copy', 'offramp auth migrate', 'offramp rls translate', 'offramp validate']) {
      expect(next).toContain(cmd);
    }
  });

  it('lists every finding with its hint, errors first', () => {
    for (const f of report.findings) {
      expect(md).toContain(`**${f.id}**`);
      expect(md).toContain(f.hint);
    }
    expect(md.indexOf('### Errors')).toBeLessThan(md.indexOf('### Warnings'));
  });

  it('has a per-table row with PK and RLS, and says why things are left behind', () => {
    expect(md).toMatch(/\| `public\.audit_log` \| 5 \| 16 kB \| \*\*no\*\* \| on \| 0 \|/);
    expect(md).toMatch(/\| `public\.profiles` \| 72 \|.*FK → auth\.users \(id\)/);
    expect(md).toContain('**Extension pgjwt**: JWT signing in SQL');
    expect(md).toContain('**Publication `supabase_realtime`**');
    expect(md).toContain('**Storage files** (3 files, 1.5 kB)');
  });

  it('keeps table cells intact when a value contains a pipe or a newline', () => {
    expect(cell('a|b\nc')).toBe('a\\|b c');
    const odd = smallReport();
    odd.tables[0] = { ...odd.tables[0]!, name: 'we|ird' };
    const line = renderInspectMarkdown(odd).split('\n').find((l) => l.startsWith('| `public.we'))!;
    expect(line).toContain('we\\|ird');
  });

  it('never contains a password: the source is shown masked', () => {
    expect(md).toContain('postgres:****@');
  });
});
