/**
 * ALTER DEFAULT PRIVILEGES FOR ROLE: the FOR ROLE names are read from the parse tree and mapped
 * through --owner-map by editing only their tokens (grantees and names in strings stay as they are).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultPrivilegeRoles, mapForRoles } from '../../src/core/move/default-privileges.js';
import { loadSqlParser, parseStatements } from '../../src/db/sql-parse.js';

beforeAll(() => loadSqlParser());

const one = (sql: string) => parseStatements(sql)[0]!;

describe('default privileges FOR ROLE', () => {
  it('names the FOR ROLE roles, not the grantees', () => {
    expect(defaultPrivilegeRoles(one('ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" GRANT ALL ON TABLES TO "anon";'))).toEqual(['postgres']);
    expect(defaultPrivilegeRoles(one('ALTER DEFAULT PRIVILEGES FOR ROLE a, "B c" GRANT SELECT ON TABLES TO postgres;'))).toEqual(['a', 'B c']);
    expect(defaultPrivilegeRoles(one('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO anon;'))).toEqual([]);
    expect(defaultPrivilegeRoles(one('GRANT SELECT ON TABLE t TO postgres;'))).toEqual([]);
  });

  it('maps FOR ROLE through --owner-map, leaving a grantee of the same name alone', () => {
    const stmt = one('ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" GRANT ALL ON TABLES TO "postgres";');
    expect(mapForRoles(stmt, { postgres: 'app_owner' })).toBe('ALTER DEFAULT PRIVILEGES FOR ROLE "app_owner" IN SCHEMA "public" GRANT ALL ON TABLES TO "postgres"');
    expect(mapForRoles(stmt, { other: 'x' })).toBe(stmt.text);
    const quoted = one('ALTER DEFAULT PRIVILEGES FOR ROLE Odd, "we""ird" GRANT USAGE ON SEQUENCES TO anon;');
    expect(mapForRoles(quoted, { 'we"ird': 'new "one"', odd: 'o2' })).toBe('ALTER DEFAULT PRIVILEGES FOR ROLE "o2", "new ""one""" GRANT USAGE ON SEQUENCES TO anon');
  });
});
