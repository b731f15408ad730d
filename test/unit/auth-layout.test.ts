/**
 * The auth layout's names: the migration templates rendered on the scanner's tokens (a hostile
 * table name stays one identifier, the parser reads the rendered SQL back), the shape check, and
 * the flag checks that must fail before anything is read.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findNodes, loadSqlParser, parseStatements, scanTokens } from '../../src/db/sql-parse.js';
import { KEEP_LAYOUT, localColumn, parseQualifiedName, tableLayout, usersTableOf } from '../../src/core/auth/layout.js';
import { plannedTables, renderAuthTemplate, shapeProblems } from '../../src/core/auth/tables.js';
import { UsageError } from '../../src/errors.js';
import { PACKAGE_ROOT } from '../../src/version.js';

beforeAll(async () => {
  await loadSqlParser();
});

const templates = ['users', 'sessions', 'mfa'].flatMap((c) =>
  readdirSync(join(PACKAGE_ROOT, 'sql', 'auth', c)).map((f) => readFileSync(join(PACKAGE_ROOT, 'sql', 'auth', c, f), 'utf8')));

/** Placeholders left among the SQL tokens (comments may still mention them). */
const placeholdersLeft = (sql: string): string[] => scanTokens(sql).filter((t) => t.text.startsWith('"@')).map((t) => t.text);

/** schema.table of every CREATE TABLE in rendered SQL, as the parser reads it. */
function createdTables(sql: string): string[] {
  return parseStatements(sql).filter((s) => s.kind === 'CreateStmt').map((s) => {
    const rel = s.node.relation as { schemaname: string; relname: string };
    return `${rel.schemaname}.${rel.relname}`;
  });
}

describe('auth migration templates', () => {
  it('keep: GoTrue\'s own names', async () => {
    const sql = await renderAuthTemplate(templates[0]!, KEEP_LAYOUT);
    expect(createdTables(sql)).toEqual(['auth.users', 'auth.identities']);
    expect(sql).toContain('CONSTRAINT "identities_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "auth"."users" ("id") ON DELETE CASCADE');
    expect(placeholdersLeft(sql)).toEqual([]);
  });

  it('table: a hostile name and a renamed column stay single identifiers, everywhere they are used', async () => {
    const hostile = 'we"ird; users';
    const layout = tableLayout({ schema: 'app', name: hostile }, { schema: 'app', name: 'ids' }, ['email=email_address', 'identities.provider=kind']);
    const rendered = await Promise.all(templates.map((t) => renderAuthTemplate(t, layout)));
    expect(rendered.flatMap(createdTables)).toEqual([`app.${hostile}`, 'app.ids', `app.${hostile}_sessions`, `app.${hostile}_refresh_tokens`, `app.${hostile}_mfa_factors`]);
    const columns = findNodes(parseStatements(rendered[0]!).map((s) => s.node), 'ColumnDef').map((c) => c.colname);
    expect(columns).toContain('email_address');
    expect(columns).toContain('kind');
    expect(columns).not.toContain('email_partial_key');
    expect(rendered.flatMap(placeholdersLeft)).toEqual([]);
    expect(placeholdersLeft(templates[0]!).length).toBeGreaterThan(10);
  });

  it('an unknown placeholder is an error, not silently left in', async () => {
    await expect(renderAuthTemplate('CREATE TABLE "@nope" (id int)', KEEP_LAYOUT)).rejects.toThrow(/unknown placeholder/);
  });
});

describe('layout flags', () => {
  it('reads schema.table, public by default, and refuses junk', () => {
    expect(parseQualifiedName('--users-table', 'users')).toEqual({ schema: 'public', name: 'users' });
    expect(() => parseQualifiedName('--users-table', 'a.b.c')).toThrow(UsageError);
  });

  it('refuses unknown columns and two columns mapped onto one name', () => {
    const users = { schema: 'public', name: 'users' };
    const identities = { schema: 'public', name: 'identities' };
    expect(() => tableLayout(users, identities, ['nope=x'])).toThrow(/not a carried column/);
    expect(() => tableLayout(users, identities, ['email=phone'])).toThrow(/both be called phone/);
    expect(() => tableLayout(users, users, [])).toThrow(UsageError);
    const layout = tableLayout(users, identities, ['identities.email=mail']);
    expect(localColumn(layout, 'email')).toBe('email');
    expect(localColumn(layout, 'email', 'identities')).toBe('mail');
    expect(usersTableOf(KEEP_LAYOUT)).toEqual({ schema: 'auth', name: 'users' });
  });
});

describe('shape check', () => {
  const [users] = plannedTables(KEEP_LAYOUT, ['users']);
  const ours = users!.columns.map((c) => ({ name: c.local, type: c.type, notNull: Boolean(c.notNull), hasDefault: false, generated: Boolean(c.generated) }));

  it('accepts offramp\'s own table (and a missing one), with extra nullable columns', () => {
    expect(shapeProblems(users!, undefined)).toEqual([]);
    expect(shapeProblems(users!, { kind: 'r', columns: [...ours, { name: 'note', type: 'text', notNull: false, hasDefault: false, generated: false }], unique_keys: [['id']] })).toEqual([]);
  });

  it('names what makes a table foreign', () => {
    const problems = shapeProblems(users!, {
      kind: 'r',
      columns: [{ name: 'id', type: 'integer', notNull: true, hasDefault: false, generated: false }, { name: 'name', type: 'text', notNull: true, hasDefault: false, generated: false }],
      unique_keys: [],
    });
    expect(problems).toEqual(expect.arrayContaining(['column id is integer, offramp\'s is uuid', 'column email is missing',
      'column name is NOT NULL without a default, which auth migrate cannot fill', 'no primary key or unique index on id alone']));
    expect(shapeProblems(users!, { kind: 'v', columns: ours, unique_keys: [] })).toEqual(['it is not a table']);
  });
});
