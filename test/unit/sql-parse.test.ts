import { beforeAll, describe, expect, it } from 'vitest';
import { loadSqlParser, parseStatements } from '../../src/db/sql-parse.js';
import { parseDump } from '../../src/core/move/dump-sql.js';
import { planPostData } from '../../src/core/move/apply-schema.js';
import {
  createSchemaIfNotExists, foreignKeySchemas, removeColumnDefaults, removeTableConstraints, renameSchemaReferences, rolesInStatement, splitKeyConstraint, splitStatements, statementTable,
} from '../../src/core/move/sql-rewrite.js';
import { exactName, parseTablePattern } from '../../src/core/move/name-pattern.js';
import { splitList } from '../../src/commands/move-flags.js';

beforeAll(async () => {
  await loadSqlParser();
});

const one = (sql: string) => parseStatements(sql)[0]!;
/** Every hostile character the issue lists, in one identifier (quoted the way pg_dump writes it). */
const HOSTILE = 'a;b \'q\' ""dq"" $$d$$ --c\nnl é€';
const hostile = `"${HOSTILE}"`;
const HOSTILE_VALUE = HOSTILE.replace(/""/g, '"');

describe('splitStatements', () => {
  it('never cuts inside a quoted identifier, and keeps the exact text without the ;', () => {
    expect(splitStatements('GRANT ALL ON TABLE "public"."a;b" TO "anon";')).toEqual(['GRANT ALL ON TABLE "public"."a;b" TO "anon"']);
    const sql = `GRANT ALL ON TABLE "public".${hostile} TO "anon";\nGRANT SELECT ON TABLE "public".${hostile} TO "authenticated";\n`;
    expect(splitStatements(sql)).toEqual([`GRANT ALL ON TABLE "public".${hostile} TO "anon"`, `GRANT SELECT ON TABLE "public".${hostile} TO "authenticated"`]);
  });

  it('keeps function bodies, strings and comments whole; multi-byte text before a statement does not shift the next one', () => {
    const body = `CREATE FUNCTION "f"() RETURNS text LANGUAGE sql AS $_$ SELECT 'x;y' -- ; comment\n $_$;`;
    const sql = `COMMENT ON TABLE "t€" IS 'ünïcödé; ''still'' one';\n${body}\nSELECT 1;`;
    const parts = splitStatements(sql);
    expect(parts).toHaveLength(3);
    expect(parts[0]).toBe(`COMMENT ON TABLE "t€" IS 'ünïcödé; ''still'' one'`);
    expect(parts[1]).toBe(body.slice(0, -1));
    expect(parts[2]).toBe('SELECT 1');
  });
});

describe('reading statements from the parse tree', () => {
  it('rolesInStatement: grantees, FOR ROLE, GRANTED BY and policy roles, never names inside expressions', () => {
    expect(rolesInStatement(one('GRANT ALL ON TABLE "public"."posts" TO "anon", "authenticated";'))).toEqual(['anon', 'authenticated']);
    expect(rolesInStatement(one('REVOKE ALL ON TABLE "public"."posts" FROM "supabase_admin";'))).toEqual(['supabase_admin']);
    expect(rolesInStatement(one('ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" IN SCHEMA "public" GRANT ALL ON TABLES TO "service_role";'))).toEqual(['postgres', 'service_role']);
    expect(rolesInStatement(one('CREATE POLICY "p" ON "public"."posts" FOR SELECT TO "authenticated" USING ((EXISTS ( SELECT 1 FROM "public"."follows" "f")))'))).toEqual(['authenticated']);
    expect(rolesInStatement(one('CREATE POLICY "p" ON "public"."posts" USING (true)'))).toEqual([]);
    expect(rolesInStatement(one('GRANT SELECT ON TABLE "x" TO "anon" GRANTED BY "postgres"'))).toEqual(['anon', 'postgres']);
    // a table named like a grant clause is not a role
    expect(rolesInStatement(one(`GRANT ALL ON TABLE "public"."t TO ""evil""" TO "anon"`))).toEqual(['anon']);
    expect(rolesInStatement(one(`CREATE POLICY ${hostile} ON "public".${hostile} TO "authenticated" USING (true)`))).toEqual(['authenticated']);
  });

  it('statementTable and foreignKeySchemas read the table and the referenced schema, quoted', () => {
    expect(statementTable(one(`CREATE INDEX "i" ON "public".${hostile} USING "btree" ("x")`))).toBe(`"public".${hostile}`);
    expect(statementTable(one(`ALTER TABLE ONLY "public".${hostile} ADD CONSTRAINT "c" CHECK (true)`))).toBe(`"public".${hostile}`);
    expect(statementTable(one(`CREATE POLICY "p" ON "s.x"."t" USING (true)`))).toBe('"s.x"."t"');
    const fk = parseStatements(`ALTER TABLE ONLY "public"."p" ADD CONSTRAINT "f" FOREIGN KEY ("u") REFERENCES "auth"."users"("id");`);
    expect(foreignKeySchemas(fk)).toEqual(['auth']);
    // the words inside a name are not a REFERENCES clause
    expect(foreignKeySchemas(parseStatements(`CREATE INDEX "REFERENCES ""auth"".x" ON "public"."t" ("a")`))).toEqual([]);
  });

  it('splitKeyConstraint builds the index and the attach from the tree, for any name', () => {
    const split = splitKeyConstraint(one(`ALTER TABLE ONLY "public".${hostile}\n    ADD CONSTRAINT "pk;x" PRIMARY KEY ("id", ${hostile}) DEFERRABLE INITIALLY DEFERRED;`));
    expect(split).toEqual({
      index: `CREATE UNIQUE INDEX "pk;x" ON "public".${hostile} USING btree ("id", ${hostile})`,
      attach: `ALTER TABLE ONLY "public".${hostile} ADD CONSTRAINT "pk;x" PRIMARY KEY USING INDEX "pk;x" DEFERRABLE INITIALLY DEFERRED`,
    });
    // both halves parse
    expect(parseStatements(`${split!.index}; ${split!.attach}`)).toHaveLength(2);
    expect(splitKeyConstraint(one('ALTER TABLE ONLY "t" ADD CONSTRAINT "u" UNIQUE NULLS NOT DISTINCT ("a")'))).toBeUndefined();
    expect(splitKeyConstraint(one('ALTER TABLE ONLY "t" ADD CONSTRAINT "u" UNIQUE ("a") INCLUDE ("b")'))).toBeUndefined();
  });
});

describe('rewrites keep pg_dump\'s text except the edited tokens', () => {
  it('CREATE SCHEMA gains IF NOT EXISTS, once, only on CREATE SCHEMA', () => {
    const sql = `CREATE SCHEMA ${hostile};\nCOMMENT ON SCHEMA ${hostile} IS 'CREATE SCHEMA x';`;
    expect(createSchemaIfNotExists(sql, parseStatements(sql))).toBe(`CREATE SCHEMA IF NOT EXISTS ${hostile};\nCOMMENT ON SCHEMA ${hostile} IS 'CREATE SCHEMA x';`);
    const already = 'CREATE SCHEMA IF NOT EXISTS "x";';
    expect(createSchemaIfNotExists(already, parseStatements(already))).toBe(already);
  });

  it('renameSchemaReferences rewrites qualified references only, not strings, bodies or other names', () => {
    const sql = `CREATE TABLE "public"."é" ("id" uuid DEFAULT "extensions"."uuid_generate_v4"(), "g" "extensions"."geometry", "note" text DEFAULT '"extensions".x', "extensions" int);`;
    expect(renameSchemaReferences(sql, 'extensions', 'pub"lic')).toBe(
      `CREATE TABLE "public"."é" ("id" uuid DEFAULT "pub""lic"."uuid_generate_v4"(), "g" "pub""lic"."geometry", "note" text DEFAULT '"extensions".x', "extensions" int);`);
  });

  it('removeColumnDefaults takes away exactly the DEFAULT clauses of the named columns', () => {
    const sql = `CREATE TABLE "public".${hostile} (\n    "id" uuid DEFAULT "auth"."uid"() NOT NULL,\n    "b" text DEFAULT 'x,)' COLLATE "C",\n    ${hostile} text DEFAULT ("auth"."email"() || ',') ,\n    "last" uuid DEFAULT "auth"."uid"()\n);`;
    expect(removeColumnDefaults(sql, ['id', HOSTILE_VALUE, 'last'])).toBe(
      `CREATE TABLE "public".${hostile} (\n    "id" uuid NOT NULL,\n    "b" text DEFAULT 'x,)' COLLATE "C",\n    ${hostile} text ,\n    "last" uuid\n);`);
    expect(removeColumnDefaults(sql, ['b'])).toContain(`"b" text COLLATE "C",`);
  });

  it('removeTableConstraints takes away exactly the named CHECKs with their separating comma, wherever they stand', () => {
    const sql = `CREATE TABLE "public".${hostile} (\n    "id" bigint NOT NULL,\n    "t" text,\n    CONSTRAINT ${hostile} CHECK ((length("extensions"."sign"(json_build_object('a', ',)'), 'k')) > 0)),\n    CONSTRAINT "keep" CHECK (("id" > 0)),\n    CONSTRAINT "last" CHECK (("t" <> ')'))\n);`;
    const out = removeTableConstraints(sql, [HOSTILE_VALUE, 'last', 'not-there']);
    expect(out.removed).toEqual([HOSTILE_VALUE, 'last']);
    expect(out.sql).toBe(`CREATE TABLE "public".${hostile} (\n    "id" bigint NOT NULL,\n    "t" text,\n    CONSTRAINT "keep" CHECK (("id" > 0))\n);`);
    // the first element, and the only one
    expect(removeTableConstraints('CREATE TABLE "a" (CONSTRAINT "c" CHECK (true), "x" int);', ['c']).sql).toBe('CREATE TABLE "a" ( "x" int);');
    expect(removeTableConstraints('CREATE TABLE "a" (CONSTRAINT "c" CHECK (true));', ['c']).sql).toBe('CREATE TABLE "a" ();');
    expect(removeTableConstraints(sql, []).sql).toBe(sql);
  });
});

describe('parseDump', () => {
  it('parses each entry once; a hostile table name stays one entry with whole statements', async () => {
    const dump = [
      'SET statement_timeout = 0;', '', '--', `-- Name: t; Type: TABLE; Schema: public; Owner: -`, '--', '',
      `CREATE TABLE "public".${hostile} ("id" integer);`, '', '',
      '--', `-- Name: TABLE t; Type: ACL; Schema: public; Owner: -`, '--', '',
      `GRANT ALL ON TABLE "public".${hostile} TO "anon";`, `GRANT ALL ON TABLE "public".${hostile} TO "authenticated";`, '',
      '--', '-- Name: t pk; Type: CONSTRAINT; Schema: public; Owner: -', '--', '',
      `ALTER TABLE ONLY "public".${hostile}`, `    ADD CONSTRAINT "pk" PRIMARY KEY ("id");`, '',
    ].join('\n');
    const parsed = await parseDump(dump);
    expect(parsed.entries.map((e) => [e.type, e.statements.length])).toEqual([['TABLE', 1], ['ACL', 2], ['CONSTRAINT', 1]]);
    const acl = parsed.entries[1]!;
    expect(acl.statements.map((s) => rolesInStatement(s))).toEqual([['anon'], ['authenticated']]);
    const plan = planPostData(parsed.entries.slice(2), new Set(), new Map([[`"public".${hostile}`, 42]]));
    expect(plan.indexes[0]).toMatchObject({ weight: 42, table: `"public".${hostile}` });
  });
});

describe('selection patterns', () => {
  it('--exclude-table accepts quoted names, dots and wildcards the way psql reads them', () => {
    expect(parseTablePattern('public."Order"').matches('public', 'Order')).toBe(true);
    expect(parseTablePattern('"public"."Order"').matches('public', 'order')).toBe(false);
    expect(parseTablePattern('"Order"').matches('public', 'Order')).toBe(true);
    expect(parseTablePattern('public.device_tokens').matches('public', 'device_tokens')).toBe(true);
    expect(parseTablePattern('app.Sel*').matches('app', 'Select')).toBe(true);
    expect(parseTablePattern('"my.schema"."a*b"').matches('my.schema', 'a*b')).toBe(true);
    expect(parseTablePattern('"my.schema"."a*b"').matches('my.schema', 'aXb')).toBe(false);
    expect(parseTablePattern('"say ""hi"""').matches('public', 'say "hi"')).toBe(true);
    expect(parseTablePattern('s.t?').matches('s', 'tx')).toBe(true);
    expect(() => parseTablePattern('a.b.c')).toThrow(/not a table name/);
    expect(() => parseTablePattern('"open')).toThrow(/unterminated/);
  });

  it('list flags split on commas outside double quotes only', () => {
    expect(splitList('a, b,,c')).toEqual(['a', 'b', 'c']);
    expect(splitList('public."a,b",x')).toEqual(['public."a,b"', 'x']);
  });

  it('--schema takes an exact name, or a quoted identifier', () => {
    expect(exactName('Mixed Case')).toBe('Mixed Case');
    expect(exactName('"Mixed Case"')).toBe('Mixed Case');
    expect(exactName('"a""b"')).toBe('a"b');
    expect(exactName('a*b')).toBe('a*b');
  });
});

describe('isIndexOnOnly', () => {
  it('tells CREATE INDEX ON ONLY a parent from a plain index', async () => {
    const { isIndexOnOnly } = await import('../../src/core/move/sql-rewrite.js');
    expect(isIndexOnOnly(one('CREATE INDEX "i" ON ONLY "public"."p" USING "btree" ("a")'))).toBe(true);
    expect(isIndexOnOnly(one('CREATE INDEX "i" ON "public"."p" USING "btree" ("a")'))).toBe(false);
    expect(isIndexOnOnly(one('CREATE INDEX "ON ONLY" ON "public"."p" USING "btree" ("a")'))).toBe(false);
  });
});

describe('the dump preamble', () => {
  it('keeps pg_dump\'s settings, one ; each, without psql meta-commands or settings older servers reject', async () => {
    const dump = [
      '\\restrict abc123', 'SET statement_timeout = 0;', 'SET transaction_timeout = 0;', "SELECT pg_catalog.set_config('search_path', '', false);",
      '--', '-- Name: s; Type: SCHEMA; Schema: -; Owner: -', '--', '', 'CREATE SCHEMA "s";', '', '\\unrestrict abc123',
    ].join('\n');
    const parsed = await parseDump(dump);
    expect(parsed.preamble).toBe("SET statement_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', false);");
    expect(parsed.entries.map((e) => e.sql)).toEqual(['CREATE SCHEMA "s";']);
  });
});
