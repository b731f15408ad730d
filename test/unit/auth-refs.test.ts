/**
 * The parse-tree rewrite of auth.users / auth.identities references for the `table` layout:
 * exact byte edits where the parser places the reference, a refusal (with the reason) where it
 * cannot, and nothing else touched.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { authRefsOfFunction, authRefsOfTree, functionUsesColumns, rewriteFunctionDef, rewriteSqlText, type AuthRefMap } from '../../src/core/auth/auth-refs.js';
import { loadSqlParser, parseStatements } from '../../src/db/sql-parse.js';

const MAP: AuthRefMap = {
  users: { schema: 'app', name: 'accounts', columns: { email: 'email_address' } },
  identities: { schema: 'app', name: 'logins', columns: {} },
};
const PLAIN: AuthRefMap = { users: { ...MAP.users, columns: {} }, identities: MAP.identities };

beforeAll(() => loadSqlParser());

describe('rewriteSqlText', () => {
  it('rewrites a foreign key target and its referenced columns, nothing else', () => {
    const sql = 'ALTER TABLE ONLY public.p\n    ADD CONSTRAINT c FOREIGN KEY (owner) REFERENCES auth.users(id) ON DELETE CASCADE';
    const map: AuthRefMap = { ...MAP, users: { ...MAP.users, columns: { id: 'user_id' } } };
    const r = rewriteSqlText(sql, map);
    expect(r.problems).toEqual([]);
    expect(r.sql).toBe('ALTER TABLE ONLY public.p\n    ADD CONSTRAINT c FOREIGN KEY (owner) REFERENCES "app"."accounts"("user_id") ON DELETE CASCADE');
  });

  it('renames a qualified column and keeps the view column name with AS; a string naming auth.users stays', () => {
    const sql = `CREATE VIEW v AS SELECT u.email, u.id, 'auth.users' AS label FROM auth.users AS u JOIN auth.identities i ON i.user_id = u.id WHERE u.email <> ''`;
    const r = rewriteSqlText(sql, MAP);
    expect(r.problems).toEqual([]);
    expect(r.sql).toBe(`CREATE VIEW v AS SELECT u."email_address" AS "email", u.id, 'auth.users' AS label FROM "app"."accounts" AS u JOIN "app"."logins" i ON i.user_id = u.id WHERE u."email_address" <> ''`);
  });

  it('refuses an unqualified column the layout renames (it may be the GoTrue column)', () => {
    const r = rewriteSqlText('SELECT email FROM auth.users', MAP);
    expect(r.problems.join()).toContain('column "email"');
    expect(rewriteSqlText('SELECT email FROM auth.users', PLAIN)).toMatchObject({ problems: [], sql: 'SELECT email FROM "app"."accounts"' });
  });

  it('leaves look-alikes alone: another schema, another table, a quoted capitalised name', () => {
    const sql = 'SELECT 1 FROM myauth.users, auth.users_extra, "auth"."Users"';
    expect(rewriteSqlText(sql, PLAIN)).toEqual({ sql, changed: false, problems: [] });
  });
});

describe('functions', () => {
  const plpgsql = (body: string): string =>
    `CREATE OR REPLACE FUNCTION public.f(x text)\n RETURNS boolean\n LANGUAGE plpgsql\nAS $function$\n${body}\n$function$\n`;

  it('rewrites a PL/pgSQL body at the scanner tokens the parsed queries account for', () => {
    const def = plpgsql('BEGIN\n  -- look up\n  RETURN EXISTS (SELECT 1 FROM auth.users u WHERE u.id::text = x);\nEND');
    expect(authRefsOfFunction(def)).toEqual({ tables: ['users'], helpers: [] });
    const r = rewriteFunctionDef(def, PLAIN);
    expect(r.problems).toEqual([]);
    expect(r.sql).toBe(def.replace('auth.users', '"app"."accounts"'));
  });

  it('refuses dynamic SQL naming the table, with the reason', () => {
    const def = plpgsql(`BEGIN\n  EXECUTE 'SELECT count(*) FROM auth.users';\n  RETURN true;\nEND`);
    expect(authRefsOfFunction(def)).toMatchObject({ tables: ['users'], unreadable: expect.stringContaining('dynamic SQL') });
    expect(rewriteFunctionDef(def, PLAIN).problems.join()).toContain('dynamic SQL');
  });

  it('rewrites a SQL body and finds auth helpers', () => {
    const def = `CREATE OR REPLACE FUNCTION public.mine()\n RETURNS SETOF text\n LANGUAGE sql\nAS $$ SELECT u.email FROM auth.users u WHERE u.id = auth.uid() $$`;
    expect(authRefsOfFunction(def)).toEqual({ tables: ['users'], helpers: ['auth.uid()'] });
    expect(rewriteFunctionDef(def, PLAIN).sql).toBe(def.replace('auth.users', '"app"."accounts"'));
    expect(authRefsOfTree(parseStatements('CREATE POLICY p ON t USING (owner = (select auth.uid()))').map((s) => s.node)).helpers).toEqual(['auth.uid()']);
  });
});

describe('functionUsesColumns', () => {
  it('finds the renamed columns a trigger function reads from NEW, not names inside strings', () => {
    const def = `CREATE OR REPLACE FUNCTION public.h()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$\nBEGIN\n  INSERT INTO public.p (id, name) VALUES (new.id, new.raw_user_meta_data ->> 'email');\n  RETURN new;\nEND\n$function$\n`;
    expect(functionUsesColumns(def, ['raw_user_meta_data', 'email', 'phone'])).toEqual(['raw_user_meta_data']);
    expect(functionUsesColumns(def, ['phone'])).toEqual([]);
  });
});
