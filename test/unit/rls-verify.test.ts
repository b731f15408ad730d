/**
 * The parts of rls verify that need no server: which columns the policies compare with the user's
 * id (real parser, on pg_get_expr's spelling), the claims a user gets, malformed claims refused,
 * and which triggers stop write probes.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { ownerColumns } from '../../src/core/rls/owner-columns.js';
import { principalsFromData, userPrincipal } from '../../src/core/rls/principals.js';
import { calloutReason } from '../../src/core/rls/verify.js';
import { writeProbes, type TableShape } from '../../src/core/rls/write-probes.js';

const ID = '8a1c6a9e-4b0f-4c59-9a55-0a4f3c1b2d3e';

describe('owner columns from policy parse trees', () => {
  it('finds the columns compared with auth.uid() in the forms pg_get_expr prints', async () => {
    expect(await ownerColumns(['(( SELECT auth.uid() AS uid) = author_id)'])).toEqual([{ column: 'author_id', shape: 'value' }]);
    expect(await ownerColumns(['(auth.uid() = ANY (ARRAY[sender_id, recipient_id]))'])).toEqual([
      { column: 'sender_id', shape: 'value' }, { column: 'recipient_id', shape: 'value' }]);
    expect(await ownerColumns(["((bucket_id = 'avatars'::text) AND ((storage.foldername(name))[1] = (( SELECT auth.uid() AS uid))::text))"]))
      .toEqual([{ column: 'name', shape: 'first-folder' }]);
    expect(await ownerColumns(["((auth.jwt() ->> 'sub'::text) = (owner_id)::text)"])).toEqual([{ column: 'owner_id', shape: 'value' }]);
    expect(await ownerColumns(["(visibility = 'public'::text)", null, '(auth.role() = \'authenticated\'::text)'])).toEqual([]);
  });
});

describe('principals', () => {
  const row = {
    id: ID, aud: 'authenticated', role: 'authenticated', email: 'ada@example.com', phone: null,
    raw_app_meta_data: { provider: 'email', providers: ['email'], role: 'moderator' }, raw_user_meta_data: { name: 'Ada' }, is_anonymous: false,
  };

  it('gives a user the claims of a Supabase access token', () => {
    const p = userPrincipal(row, { id: 'f0e1d2c3-b4a5-4697-8899-aabbccddeeff', aal: 'aal2' }, 1);
    expect(p).toMatchObject({ name: `user:${ID}`, kind: 'user', role: 'authenticated', id: ID });
    expect(p.claims).toMatchObject({
      sub: ID, role: 'authenticated', aud: 'authenticated', email: 'ada@example.com', phone: '',
      app_metadata: { role: 'moderator' }, user_metadata: { name: 'Ada' }, aal: 'aal2', session_id: 'f0e1d2c3-b4a5-4697-8899-aabbccddeeff', is_anonymous: false,
    });
    expect(p.claims.amr).toEqual([{ method: 'password', timestamp: expect.any(Number) }]);
    // without a session row: a session id all the same, the same for the same seed
    expect(userPrincipal(row, null, 1).claims.session_id).toBe(userPrincipal(row, null, 1).claims.session_id);
  });

  it('refuses malformed claims with a usage error naming the user', () => {
    expect(() => userPrincipal({ ...row, raw_app_meta_data: ['x'] }, null, 1)).toThrow(UsageError);
    expect(() => userPrincipal({ ...row, raw_user_meta_data: 'text' }, null, 1)).toThrow(/user:8a1c6a9e.*user_metadata.*not a JSON object/);
    expect(() => userPrincipal({ ...row, id: 'not-a-uuid' }, null, 1)).toThrow(/not a uuid/);
    expect(() => principalsFromData({}, 'p.json')).toThrow(/JSON array/);
    expect(() => principalsFromData([{ role: 'authenticated', claims: '{oops' }], 'p.json')).toThrow(/claims is not JSON/);
    expect(() => principalsFromData([{ role: 'authenticated', claims: { sub: ID, app_metadata: 5 } }], 'p.json')).toThrow(/app_metadata is not a JSON object/);
    expect(principalsFromData(['anon', { role: 'authenticated', claims: { sub: ID, app_metadata: '{"a":1}' } }], 'p.json').map((p) => [p.name, p.claims.app_metadata]))
      .toEqual([['anon', undefined], [`user:${ID}`, { a: 1 }]]);
  });
});

describe('write probes', () => {
  const posts: TableShape = {
    schema: 'public', name: 'posts', qualified: 'public.posts', key: ['id'],
    columns: [
      { name: 'id', type: 'bigint', base: 'int8', insertable: true, identity: true },
      { name: 'author_id', type: 'uuid', base: 'uuid', insertable: true, identity: false },
      { name: 'body', type: 'text', base: 'text', insertable: true, identity: false },
      { name: 'search', type: 'tsvector', base: 'tsvector', insertable: false, identity: false },
    ],
  };

  it('copies a sample with a fresh key above the largest and the principal in the owner column; generated columns left out', () => {
    const user = userPrincipal({ id: ID, raw_app_meta_data: {}, raw_user_meta_data: {} }, null, 1);
    const probes = writeProbes(posts, [{ key: '{"id": 7}', row: { id: 7, author_id: 'someone', body: 'hi', search: 'x' } }], user, [{ column: 'author_id', shape: 'value' }], { id: '300' }, 1, 2);
    expect(probes.map((p) => p.command)).toEqual(['UPDATE', 'DELETE', 'INSERT']);
    const insert = probes[2]!;
    expect(JSON.parse(insert.values[0] as string)).toMatchObject({ id: '303', author_id: ID, body: 'hi' });
    expect(insert.key).toBe('{"id": "303"}');
    expect(insert.statement).not.toContain('"search"');
    expect(probes[0]!.statement).toContain('SET "author_id" = "posts"."author_id"');
  });
});

describe('triggers that stop write probes', () => {
  it('names a trigger whose function calls pg_net or dblink; plain triggers are fine', async () => {
    expect(await calloutReason({ triggers: [{ trigger: 'touch', schema: 'public', function: 'handle_updated_at', language: 'plpgsql', body: 'BEGIN NEW.updated_at := now(); RETURN NEW; END' }] })).toBeUndefined();
    expect(await calloutReason({ triggers: [{ trigger: 'hook', schema: 'public', function: 'notify', language: 'plpgsql', body: "BEGIN PERFORM net.http_post('https://example.com', '{}'::jsonb); RETURN NEW; END" }] }))
      .toMatch(/hook.*uses net/);
    expect(await calloutReason({ triggers: [{ trigger: 'webhook', schema: 'supabase_functions', function: 'http_request', language: 'plpgsql', body: '' }] })).toMatch(/webhook calls supabase_functions\.http_request/);
    expect(await calloutReason({ triggers: [{ trigger: 'py', schema: 'public', function: 'f', language: 'plpython3u', body: 'pass' }] })).toMatch(/plpython3u/);
  });
});

describe('comparing outcomes', () => {
  it('a constraint error is past the policies; refusals by policy and different rows are not', async () => {
    const { sameOutcome } = await import('../../src/core/rls/probe.js');
    const allowed = { kind: 'rows', count: 1, hash: '' } as const;
    const fk = { kind: 'refused', sqlstate: '23503', message: 'fk' } as const;
    const policy = { kind: 'refused', sqlstate: '42501', message: 'new row violates row-level security policy' } as const;
    expect(sameOutcome(allowed, fk)).toBe(true);
    expect(sameOutcome(fk, { kind: 'refused', sqlstate: '23505', message: 'unique' })).toBe(true);
    expect(sameOutcome(policy, fk)).toBe(false);
    expect(sameOutcome(policy, allowed)).toBe(false);
    expect(sameOutcome({ kind: 'rows', count: 0, hash: '' }, policy)).toBe(false);
    expect(sameOutcome({ kind: 'rows', count: 0, hash: '' }, { kind: 'rows', count: 0, hash: '0' })).toBe(true);
    expect(sameOutcome({ kind: 'rows', count: 2, hash: 'a' }, { kind: 'rows', count: 2, hash: 'b' })).toBe(false);
  });

  it('fills app-mode parameters by their documented type: user id, claims, role', async () => {
    const { appRuleFor } = await import('../../src/core/rls/app-predicates.js');
    const user = userPrincipal({ id: ID, role: 'authenticated', raw_app_meta_data: {}, raw_user_meta_data: {} }, null, 1);
    const predicates = {
      parameters: [{ name: '$1', type: 'uuid', meaning: "the user id: the JWT's sub claim" }, { name: '$2', type: 'jsonb', meaning: 'the JWT claims' }, { name: '$3', type: 'text', meaning: 'the request role' }],
      tables: [{ schema: 'public', table: 'posts', using: { SELECT: { sql: 'author_id = $1' } }, withCheck: {} }],
    };
    const rule = appRuleFor(predicates, 'public.posts', 'SELECT', user);
    expect(rule).toMatchObject({ kind: 'predicate', sql: 'author_id = $1' });
    const values = (rule as { values: unknown[] }).values;
    expect(values[0]).toBe(ID);
    expect(JSON.parse(values[1] as string)).toMatchObject({ sub: ID, role: 'authenticated' });
    expect(values[2]).toBe('authenticated');
    // no rule for a command: refused, except for service_role (BYPASSRLS on Supabase)
    expect(appRuleFor(predicates, 'public.posts', 'DELETE', user)).toEqual({ kind: 'none' });
    const { SERVICE_ROLE } = await import('../../src/core/rls/principals.js');
    expect(appRuleFor(predicates, 'public.posts', 'DELETE', SERVICE_ROLE)).toEqual({ kind: 'all' });
  });
});
