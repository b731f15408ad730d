import { describe, expect, it } from 'vitest';
import { isSupabaseDirectHost, isSupabasePoolerHost, libpqEnv, parseConnectionUrl } from '../../src/db/url.js';
import { UsageError } from '../../src/errors.js';

/** What `fn` throws (undefined when it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('parseConnectionUrl', () => {
  it('parses a Supabase pooler URL with a percent-encoded password', () => {
    const pooler = 'aws-0-eu-central-1.pooler.supabase.com';
    const info = parseConnectionUrl(`postgresql://postgres.abcd:p%40ss%2Fword@${pooler}:5432/postgres?sslmode=require`);
    expect(info).toMatchObject({ host: 'aws-0-eu-central-1.pooler.supabase.com', port: 5432, user: 'postgres.abcd', password: 'p@ss/word', database: 'postgres', sslmode: 'require' });
    expect(info.masked).not.toContain('p%40ss');
    expect(isSupabasePoolerHost(info.host)).toBe(true);
    expect(libpqEnv(info)).toMatchObject({ PGPASSWORD: 'p@ss/word', PGSSLMODE: 'require', PGUSER: 'postgres.abcd' });
  });

  it('recognises the IPv6-only direct host', () => {
    expect(isSupabaseDirectHost(parseConnectionUrl('postgres://postgres@db.abcdefghij.supabase.co:5432/postgres').host)).toBe(true);
  });

  it('refuses malformed URLs and unknown sslmodes with a hint, masking the password', () => {
    expect(() => parseConnectionUrl('mysql://root:secretpw@h/db')).toThrow(UsageError);
    // Not inside a catch block: if parsing stopped throwing, these assertions must still run and fail.
    const error = thrown(() => parseConnectionUrl('http://root:secretpw@h/db'));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).not.toContain('secretpw');
    expect((error as UsageError).hint).toMatch(/postgresql:\/\//);
    expect(() => parseConnectionUrl('postgresql://h/db?sslmode=sometimes')).toThrow(/sslmode/);
  });
});
