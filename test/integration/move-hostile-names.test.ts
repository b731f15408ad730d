/**
 * Issue 7 item 11: names holding `;`, `'`, `"`, `$$`, `--`, newlines and multi-byte characters
 * move exactly — table, columns, index, foreign key, default, grants, policy — and the deferred
 * file holds statements that run as written (one `;` each).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyDatabase, copyOptions } from '../../src/core/move/copy.js';
import { dumpDatabase } from '../../src/core/move/dump.js';
import { restoreDatabase } from '../../src/core/move/restore.js';
import { loadSqlParser, parseStatements } from '../../src/db/sql-parse.js';
import { silentProgress } from '../../src/output/progress.js';
import { emptySourceDatabase, emptyTargetDatabase, type TestDatabase } from '../bed/databases.js';
import { schemaFingerprint, sql, tableStates } from './move-helpers.js';

/** Quoted identifiers (as SQL) holding every character the issue lists. */
const T = `"T;x 'q' ""dq"" $$ --c\né€"`;
const PARENT = `"par;ent $x$ -- ""p"""`;
const HELPERS = `"help;ers"`;

const SOURCE_SQL = `
  CREATE SCHEMA ${HELPERS};
  CREATE FUNCTION ${HELPERS}."allowed;"() RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT true $$;
  CREATE SCHEMA app;
  GRANT USAGE ON SCHEMA app TO anon, authenticated;
  CREATE TABLE app.${PARENT} ("k$$" int PRIMARY KEY);
  CREATE TABLE app.${T} (
    "id;" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "na'me" text NOT NULL DEFAULT 'it''s; -- not a comment $$',
    "ref""x" int,
    "€uro
 line" text,
    "serial;" serial,
    -- a default calling a function of a schema the copy leaves out: the table loads without it
    "ok; DEFAULT --" boolean DEFAULT ${HELPERS}."allowed;"() NOT NULL
  );
  ALTER TABLE app.${T} ADD CONSTRAINT "fk;--x" FOREIGN KEY ("ref""x") REFERENCES app.${PARENT} ("k$$");
  ALTER TABLE app.${T} ADD CONSTRAINT "uq 'x'" UNIQUE ("na'me", "ref""x");
  CREATE INDEX "ix;'q' $$" ON app.${T} ("€uro
 line") WHERE "na'me" <> ';';
  ALTER TABLE app.${T} ENABLE ROW LEVEL SECURITY;
  CREATE POLICY "pol;$$ --" ON app.${T} FOR SELECT TO anon, authenticated USING ("na'me" <> 'x;y');
  -- refers to a schema the copy leaves out: deferred, and must run later as written
  CREATE POLICY "later;" ON app.${T} FOR UPDATE TO authenticated USING (${HELPERS}."allowed;"());
  GRANT SELECT ON app.${T} TO anon;
  GRANT ALL ON app.${T} TO authenticated;
  -- a platform role the target lacks: this one statement is dropped, the entry's others kept
  -- (not supabase_admin: the source's bootstrap superuser made these objects, so owns them)
  GRANT SELECT ON app.${T} TO supabase_read_only_user;
  INSERT INTO app.${PARENT} VALUES (1), (2);
  INSERT INTO app.${T} ("na'me", "ref""x", "€uro
 line") VALUES ('a;b', 1, 'ü'), (DEFAULT, 2, E'x\\ny'), ('$$', NULL, '--');
`;

const made: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(made.map((d) => d.drop()));
});
beforeAll(async () => {
  await loadSqlParser();
});

describe('hostile names', () => {
  it('a table named with ; \' " $$ -- and a newline copies exactly, with its grants, policy, index, FK and default', async () => {
    const source = await emptySourceDatabase();
    made.push(source);
    const target = await emptyTargetDatabase();
    made.push(target);
    await sql(source.url, SOURCE_SQL);
    const workDir = mkdtempSync(join(tmpdir(), 'offramp-hostile-'));
    const result = await copyDatabase(copyOptions(source.url, target.url, { workDir, excludeSchemas: ['help;ers'], jobs: 2 }), silentProgress);

    expect(result.schemas).toContain('app');
    expect(result.warnings).toEqual([]);
    expect(result.excludedSchemas).toContain('help;ers');
    expect(await tableStates(target.url, ['app'])).toEqual(await tableStates(source.url, ['app']));
    const [rows] = await sql<{ n: string }>(target.url, `SELECT count(*) AS n FROM app.${T} WHERE "na'me" = 'it''s; -- not a comment $$'`);
    expect(rows!.n).toBe('1');

    // Grants arrived; the one naming a platform role was dropped, and reported.
    const [grants] = await sql<{ anon: boolean; auth: boolean }>(target.url,
      `SELECT has_table_privilege('anon', 'app.${T.replace(/'/g, "''")}', 'SELECT') AS anon,
              has_table_privilege('authenticated', 'app.${T.replace(/'/g, "''")}', 'DELETE') AS auth`);
    expect(grants).toEqual({ anon: true, auth: true });
    expect(result.schema.dropped.some((d) => d.reason.includes('supabase_read_only_user'))).toBe(true);

    // Only the policy that needs the left-out schema is deferred; the deferred file has one ; per statement.
    expect(result.deferred.map((d) => d.type).sort()).toEqual(['DEFAULT', 'POLICY']);
    const [column] = await sql<{ d: string | null; nn: boolean }>(target.url,
      `SELECT pg_get_expr(adbin, adrelid) AS d, attnotnull AS nn FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum
        WHERE attrelid = 'app.${T.replace(/'/g, "''")}'::regclass AND attname = 'ok; DEFAULT --'`);
    expect(column).toEqual({ d: null, nn: true });
    const deferredSql = readFileSync(result.deferredFile!, 'utf8');
    expect(deferredSql).not.toMatch(/;\s*;/);
    expect(parseStatements(deferredSql)).toHaveLength(2);
    // ...and runs as written once what it needs exists; then the whole schema matches the source.
    await sql(target.url, `CREATE SCHEMA ${HELPERS}; CREATE FUNCTION ${HELPERS}."allowed;"() RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT true $$;`);
    await sql(target.url, deferredSql);
    expect(await schemaFingerprint(target.url, ['app'])).toEqual(await schemaFingerprint(source.url, ['app']));
    // sequences continue where the source stopped
    const [next] = await sql<{ id: string; s: string }>(target.url, `INSERT INTO app.${T} ("na'me") VALUES ('after') RETURNING "id;"::text AS id, "serial;"::text AS s`);
    expect(next).toEqual({ id: '4', s: '4' });
  });

  it('the same source goes through dump and restore exactly', async () => {
    const source = await emptySourceDatabase();
    made.push(source);
    const target = await emptyTargetDatabase();
    made.push(target);
    await sql(source.url, SOURCE_SQL);
    const out = join(mkdtempSync(join(tmpdir(), 'offramp-hostile-dump-')), 'dump');
    await dumpDatabase({
      source: source.url, out, jobs: 2, platform: 'auto', schemas: [], excludeSchemas: ['help;ers'], excludeTables: [], splitBytes: 2 * 1024 ** 3,
      dataFormat: 'text', connectTimeoutSeconds: 10, overwrite: false,
    }, silentProgress);
    const result = await restoreDatabase({
      from: out, target: target.url, jobs: 2, extensionsSchema: 'extensions', ownerMap: {}, workDir: mkdtempSync(join(tmpdir(), 'offramp-hostile-restore-')),
      yes: false, connectTimeoutSeconds: 10, analyze: true,
    }, silentProgress);
    expect(await tableStates(target.url, ['app'])).toEqual(await tableStates(source.url, ['app']));
    expect(result.deferred.map((d) => d.type).sort()).toEqual(['DEFAULT', 'POLICY']);
    const deferredSql = readFileSync(result.deferredFile!, 'utf8');
    expect(deferredSql).not.toMatch(/;\s*;/);
    await sql(target.url, `CREATE SCHEMA ${HELPERS}; CREATE FUNCTION ${HELPERS}."allowed;"() RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT true $$;`);
    await sql(target.url, deferredSql);
    expect(await schemaFingerprint(target.url, ['app'])).toEqual(await schemaFingerprint(source.url, ['app']));
  });
});
