import { beforeAll, describe, expect, it } from 'vitest';
import { connectTarget, objectNameOf, withoutPassword } from '../../src/core/backup/load.js';
import { loadSqlParser, parseStatements } from '../../src/db/sql-parse.js';

beforeAll(() => loadSqlParser());

const one = (sql: string) => parseStatements(sql)[0]!;

describe('role passwords in a backup', () => {
  it('cut out of ALTER ROLE, whatever follows or precedes them, by the parser\'s tokens', () => {
    const alter = withoutPassword(one(`ALTER ROLE "postgres" WITH NOSUPERUSER LOGIN PASSWORD 'SCRAM-SHA-256$4096:abc$def:ghi' VALID UNTIL 'infinity';`));
    expect(alter.hadPassword).toBe(true);
    expect(alter.sql).not.toContain('SCRAM');
    expect(parseStatements(alter.sql!)[0]!.kind).toBe('AlterRoleStmt');
    expect(alter.sql).toContain("VALID UNTIL 'infinity'");
    const encrypted = withoutPassword(one(`CREATE ROLE app LOGIN ENCRYPTED PASSWORD 'md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'`));
    expect(encrypted.sql).not.toContain('md5a');
    expect(parseStatements(encrypted.sql!)[0]!.kind).toBe('CreateRoleStmt');
    expect(withoutPassword(one(`ALTER ROLE x LOGIN PASSWORD NULL`)).sql).not.toMatch(/NULL|PASSWORD/);
  });

  it('a statement that only sets a password: ALTER is skipped, CREATE still makes the role', () => {
    expect(withoutPassword(one(`ALTER ROLE "x" PASSWORD 'secret-one'`))).toEqual({ sql: undefined, hadPassword: true });
    expect(withoutPassword(one(`CREATE ROLE "We ""Quote""" PASSWORD 'secret-two'`))).toEqual({ sql: 'CREATE ROLE "We ""Quote"""', hadPassword: true });
    expect(withoutPassword(one(`CREATE TABLE t (password text)`))).toMatchObject({ hadPassword: false });
  });
});

describe('reading a backup', () => {
  it('\\connect forms of psql and pg_dumpall', () => {
    expect(connectTarget('postgres')).toBe('postgres');
    expect(connectTarget('"My DB"')).toBe('My DB');
    expect(connectTarget(`-reuse-previous=on "dbname='postgres'"`)).toBe('postgres');
    expect(connectTarget(`-reuse-previous=on "dbname='my db'"`)).toBe('my db');
    expect(connectTarget(`-reuse-previous=on "dbname='it\\'s'"`)).toBe("it's");
  });

  it('names what a deferred statement was about, never its text', () => {
    expect(objectNameOf(one('CREATE EXTENSION pg_graphql WITH SCHEMA graphql'))).toBe('pg_graphql');
    expect(objectNameOf(one('CREATE TABLE "public"."posts" (id int)'))).toBe('"public"."posts"');
    expect(objectNameOf(one(`ALTER ROLE "supabase_admin" SET search_path = public`))).toBe('supabase_admin');
    expect(objectNameOf(one('CREATE EVENT TRIGGER issue_pg_net_access ON ddl_command_end EXECUTE FUNCTION extensions.grant_pg_net_access()'))).toBe('issue_pg_net_access');
  });
});
