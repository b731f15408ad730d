import { describe, expect, it } from 'vitest';
import { unsafeManifestPath } from '../../src/core/move/artifact.js';
import { dumpEntry } from '../../src/core/move/dump-sql.js';
import { plannedObjects, splitRoutineName } from '../../src/core/move/replace.js';

describe('manifest paths', () => {
  it('accepts plain relative paths inside the dump', () => {
    for (const ok of ['pre-data.sql', 'data/0001-public.posts.copy.gz', 'data/0002-public.a..b.copy.gz', '..hidden-but-inside']) expect(unsafeManifestPath(ok)).toBe('');
  });
  it('refuses absolute, parent, dot, empty-segment, backslash and NUL paths', () => {
    const bad = ['/etc/shadow', '../../../outside/secret.copy.gz', 'data/../../x', './pre-data.sql', 'data//x', 'data/', '', 'C:\\x', 'data\\..\\x', 'a\0b'];
    for (const path of bad) expect({ path, why: unsafeManifestPath(path) }).toEqual({ path, why: expect.stringMatching(/./) });
  });
});

describe('routine names from pg_dump entry headers', () => {
  it('splits the argument types with the PostgreSQL lexer (commas inside quoted names stay)', async () => {
    expect(await splitRoutineName('fn(integer, "public"."Odd, Type"[], timestamp with time zone)')).toEqual({ name: 'fn', args: ['integer', '"public"."Odd, Type"[]', 'timestamp with time zone'] });
    expect(await splitRoutineName('cnt(*)')).toEqual({ name: 'cnt', args: [] });
    expect(await splitRoutineName('now()')).toEqual({ name: 'now', args: [] });
    expect(await splitRoutineName('no parens')).toBeUndefined();
  });
  it('plans only entries that create a schema-level object', () => {
    const e = (type: string, name: string, schema: string | null = 'public') => dumpEntry({ seq: 0, type, name, schema, sql: '' });
    expect(plannedObjects([e('SCHEMA', 'app', null), e('TABLE', 'posts'), e('SEQUENCE OWNED BY', 'posts_id_seq'), e('FUNCTION', 'f(integer)'), e('ACL', 'TABLE posts'), e('VIEW', 'v')]))
      .toEqual([{ type: 'TABLE', schema: 'public', name: 'posts' }, { type: 'FUNCTION', schema: 'public', name: 'f(integer)' }, { type: 'VIEW', schema: 'public', name: 'v' }]);
  });
});
