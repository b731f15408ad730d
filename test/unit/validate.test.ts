/** The parts of validate that need no database: hash choice, chunk arithmetic, schema verdicts, report escaping. */
import { describe, expect, it } from 'vitest';
import { parseMapping } from '../../src/commands/validate.js';
import { chooseAlgorithm, differingChunks, digestHex, segments, type Agg } from '../../src/core/validate/hash.js';
import { chunkRange } from '../../src/core/validate/localise.js';
import { renderValidateJunit } from '../../src/core/validate/render-junit.js';
import { keysIn, rangeWhere, type TableSpec } from '../../src/core/validate/rowsql.js';
import { diffSchemas, type DiffRules, type SchemaObject } from '../../src/core/validate/schema.js';
import type { ValidateReport } from '../../src/core/validate/types.js';
import { parseXml } from '../integration/validate-xml.js';

describe('hash choice', () => {
  const pg15 = { versionNum: 150018, probe: '123' };
  it('uses hashtextextended only when both servers agree on it and share a major version', () => {
    expect(chooseAlgorithm('auto', pg15, { versionNum: 150004, probe: '123' }).alg).toBe('hashtextextended');
    expect(chooseAlgorithm('auto', pg15, { versionNum: 150018, probe: '124' }).alg).toBe('md5');
    expect(chooseAlgorithm('auto', pg15, { versionNum: 160002, probe: '123' })).toMatchObject({ alg: 'md5', reason: expect.stringMatching(/major/) });
    expect(chooseAlgorithm('md5', pg15, pg15).alg).toBe('md5');
  });
});

describe('chunks', () => {
  const agg = (n: number, s0: bigint, s1: bigint): Agg => ({ n, s0, s1 });
  it('digests are sums modulo 2^64 (order-independent) and empty chunks equal missing ones', () => {
    const a = new Map([[0, agg(2, 5n, -7n)], [1, agg(1, (1n << 64n) + 1n, 0n)]]);
    const b = new Map([[1, agg(1, 1n, 0n)], [0, agg(2, 5n, -7n)]]);
    expect(digestHex(a)).toEqual(digestHex(b));
    expect(digestHex(a).rows).toBe(3);
    expect(differingChunks(a, b)).toEqual([1]);
    expect(differingChunks(new Map([[3, agg(1, 1n, 1n)]]), new Map())).toEqual([3]);
  });

  it('chunk i covers [bounds[i-1], bounds[i])', () => {
    expect(chunkRange(['10', '20'], 0)).toEqual({ hi: ['10'] });
    expect(chunkRange(['10', '20'], 1)).toEqual({ lo: ['10'], hi: ['20'] });
    expect(chunkRange(['10', '20'], 2)).toEqual({ lo: ['20'] });
    expect(chunkRange([], 0)).toEqual({});
  });

  it('only big ordinary tables are split into block ranges, the last one open-ended', () => {
    const t = { schema: 's', name: 't', kind: 'r' as const, columns: [], key: [] };
    expect(segments(t, 100, 4)).toEqual([[0, null]]);
    expect(segments(t, 8192 * 3, 2)).toEqual([[0, 12288], [12288, null]]);
    expect(segments({ ...t, kind: 'p' }, 8192 * 3, 2)).toEqual([[0, null]]);
  });
});

describe('key ranges as SQL', () => {
  const t: TableSpec = {
    schema: 'public', name: 'follows', kind: 'r', columns: [],
    key: [{ name: 'a', type: 'uuid', collatable: false, generated: false }, { name: 'B', type: 'text', collatable: true, generated: false }],
  };
  it('compares key prefixes as rows, text in byte order, values as typed parameters', () => {
    const params: unknown[] = [];
    expect(rangeWhere(t, { lo: ['x'], hi: ['y', 'z'] }, params)).toBe('"a" >= $1::uuid AND ("a", "B" COLLATE "C") < ($2::uuid, $3::text)');
    expect(params).toEqual(['x', 'y', 'z']);
    expect(rangeWhere(t, {}, [])).toBe('true');
  });
  it('matches a list of keys with one array parameter per key column', () => {
    const params: unknown[] = [];
    expect(keysIn(t, [['1', 'p'], ['2', 'q']], params)).toBe('("a", "B") IN (SELECT u.u0::uuid, u.u1::text FROM unnest($1::text[], $2::text[]) AS u(u0, u1))');
    expect(params).toEqual([['1', '2'], ['p', 'q']]);
  });
});

describe('--map', () => {
  it('reads table and column pairs', () => {
    expect(parseMapping('auth.users=public.users')).toEqual({ source: 'auth.users', target: 'public.users' });
    expect(parseMapping('auth.users=public.users:id=id, email=email_address')).toEqual({
      source: 'auth.users', target: 'public.users', columns: { id: 'id', email: 'email_address' },
    });
    expect(() => parseMapping('users=public.users')).toThrow(/--map/);
    expect(() => parseMapping('auth.users=public.users:id')).toThrow(/column pair/);
  });
});

describe('schema verdicts', () => {
  const rules: DiffRules = { platform: 'supabase', ownerMap: { supabase_admin: 'app' }, targetUser: 'migrator', targetRoles: new Set(['app', 'migrator', 'anon']) };
  const o = (category: string, object: string, attrs: Record<string, unknown> = {}, owner: string | null = null): SchemaObject => ({ category, object, owner, attrs });
  const verdicts = (src: SchemaObject[], tgt: SchemaObject[]) => diffSchemas(src, tgt, rules).map((d) => `${d.severity} ${d.change} ${d.object}${d.attribute ? ` ${d.attribute}` : ''}`);

  it('platform-only extensions are expected, unused ones a warning, used ones a failure; versions a warning', () => {
    const src = [o('extensions', 'pgjwt', { _used: true }), o('extensions', 'pg_stat_statements', { _used: false }), o('extensions', 'postgis', { _used: true, version: '3.3.2' }), o('extensions', 'pg_trgm', { _used: true })];
    const tgt = [o('extensions', 'postgis', { _used: true, version: '3.4.0' })];
    expect(verdicts(src, tgt).sort()).toEqual([
      'expected missing_on_target pgjwt',
      'fail missing_on_target pg_trgm',
      'warn changed postgis version',
      'warn missing_on_target pg_stat_statements',
    ]);
  });

  it('a sequence behind the source fails, ahead warns', () => {
    const seq = (v: string | null) => o('sequences', 'public.s', { 'last value': v });
    expect(verdicts([seq('100')], [seq('99')])).toEqual(['fail changed public.s last value']);
    expect(verdicts([seq('100')], [seq(null)])).toEqual(['fail changed public.s last value']);
    expect(verdicts([seq('100')], [seq('101')])).toEqual(['warn changed public.s last value']);
    expect(verdicts([seq('100')], [seq('100')])).toEqual([]);
  });

  it('grants: to platform roles the target lacks expected, mapped grantees followed, others fail', () => {
    const g = (grantee: string) => o('grants', 'table public.t', { grantee, privilege: 'SELECT', grantable: false });
    expect(verdicts([g('supabase_read_only_user'), g('supabase_admin'), g('reporting'), g('anon')], [g('app')]).sort()).toEqual([
      'expected missing_on_target table public.t to supabase_read_only_user: SELECT',
      'fail missing_on_target table public.t to anon: SELECT',
      'fail missing_on_target table public.t to reporting: SELECT',
    ]);
  });

  it('owners: mapped is equal, the connecting role is expected, anything else a warning', () => {
    const t = (owner: string) => o('tables', 'public.t', {}, owner);
    expect(verdicts([t('supabase_admin')], [t('app')])).toEqual([]);
    expect(diffSchemas([t('postgres')], [t('migrator')], rules)[0]).toMatchObject({ category: 'owners', severity: 'expected' });
    expect(diffSchemas([t('postgres')], [t('someone')], rules)[0]).toMatchObject({ category: 'owners', severity: 'warn' });
  });

  it('objects that depend on auth: missing or with the part dropped is expected, rewritten is a failure', () => {
    const p = (using: string | null) => o('policies', 'public.t.own', { using, _refs: using === null ? null : ['auth'] });
    const src = [p('(auth.uid() = owner_id)')];
    expect(verdicts(src, [])).toEqual(['expected missing_on_target public.t.own']);
    expect(verdicts(src, [p(null)])).toEqual(['expected changed public.t.own using']);
    expect(verdicts(src, [p('true')])).toEqual(['fail changed public.t.own using']);
    expect(verdicts([o('policies', 'public.t.mine', { using: 'x' })], [])).toEqual(['fail missing_on_target public.t.mine']);
  });

  it('grants and indexes are judged with the object they belong to: expected with a deferred view, silent under a failing one', () => {
    const view = (name: string, refs: string[] | null) => o('views', `public.${name}`, { kind: 'view', _refs: refs });
    const grant = (name: string) => o('grants', `view public.${name}`, { grantee: 'anon', privilege: 'SELECT', _parent: ['views', `public.${name}`] });
    const idx = (name: string) => o('indexes', `public.${name}_i`, { _parent: ['views', `public.${name}`] });
    const src = [view('jwt', ['extension pgjwt']), grant('jwt'), idx('jwt'), view('plain', null), grant('plain'), idx('plain'), view('kept', null), grant('kept')];
    const out = diffSchemas(src, [view('kept', null)], rules);
    expect(out.map((d) => `${d.severity} ${d.change} ${d.object}`).sort()).toEqual([
      'expected missing_on_target public.jwt',
      'expected missing_on_target public.jwt_i',
      'expected missing_on_target view public.jwt to anon: SELECT',
      'fail missing_on_target public.plain',
      'fail missing_on_target view public.kept to anon: SELECT',
    ]);
    expect(out.find((d) => d.object === 'public.jwt')?.reason).toMatch(/platform-only extension pgjwt \(JWT signing/);
    expect(out.find((d) => d.object === 'view public.jwt to anon: SELECT')?.reason).toMatch(/^belongs to view public\.jwt, missing with it: depends on the platform-only extension pgjwt/);
  });

  it('a table missing on the target is one difference, not one per column and index', () => {
    const src = [o('tables', 'public.t'), o('columns', 'public.t.a'), o('indexes', 'public.t_pkey', { _table: 'public.t' }), o('rls', 'public.t'), o('grants', 'table public.t', { grantee: 'app', privilege: 'SELECT' })];
    expect(verdicts(src, [])).toEqual(['fail missing_on_target public.t']);
  });

  it('new tables on the target warn; a new index or trigger on a compared table fails', () => {
    expect(verdicts([], [o('tables', 'public.extra'), o('indexes', 'public.x_idx'), o('triggers', 'public.t.tg')]).sort()).toEqual([
      'fail extra_on_target public.t.tg', 'fail extra_on_target public.x_idx', 'warn extra_on_target public.extra',
    ]);
  });
});

describe('JUnit XML', () => {
  it('escapes names and details so the document stays well-formed', () => {
    const report = {
      durationMs: 1234,
      tables: [{
        table: 'public.<weird & "table">', status: 'differs', key: ['id'], rows: { source: 2, target: 1 }, columns: ['id'],
        differences: [{ kind: 'missing', key: { id: `a'b<c>&\u0001` } }], differencesTruncated: false, durationMs: 5,
        hash: { source: 'aa', target: 'bb', equal: false }, chunks: { total: 1, differing: 1, differingRanges: [] },
      }, {
        table: 'public.ok', status: 'ok', key: [], rows: { source: 0, target: 0 }, columns: [], differences: [], differencesTruncated: false, durationMs: 1,
      }],
      schema: { checks: [{ id: 'schema.indexes', title: 'indexes', status: 'fail', detail: '1 difference: <x>', durationMs: 0 }], differences: [] },
    } as unknown as ValidateReport;
    const doc = parseXml(renderValidateJunit(report));
    expect(doc.attrs).toMatchObject({ tests: '3', failures: '2' });
    const data = doc.children.find((c) => typeof c !== 'string' && c.attrs.name === 'data');
    const first = typeof data !== 'string' ? data!.children.find((c) => typeof c !== 'string') : undefined;
    expect(first && typeof first !== 'string' ? first.attrs.name : '').toBe('public.<weird & "table">');
  });

  it('the reader rejects what is not well-formed', () => {
    expect(() => parseXml('<a><b></a></b>')).toThrow(/closes/);
    expect(() => parseXml('<a x=1/>')).toThrow(/quoted/);
    expect(() => parseXml('<a>&</a>')).toThrow(/bare &/);
    expect(() => parseXml('<a/><b/>')).toThrow(/after the root/);
  });
});
