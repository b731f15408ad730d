import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readBackup, type BackupItem } from '../../src/core/backup/reader.js';

function file(name: string, content: string | Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'offramp-reader-')), name);
  writeFileSync(path, content);
  return path;
}

async function items(path: string): Promise<Array<string>> {
  const out: string[] = [];
  for await (const item of readBackup(path) as AsyncIterable<BackupItem>) {
    if (item.type === 'copy') {
      const rows: string[] = [];
      for await (const row of item.rows) rows.push(row);
      out.push(`${item.line} copy ${item.statement.text} [${rows.join('|')}]`);
    } else if (item.type === 'sql') out.push(`${item.line} ${item.statement.kind}`);
    else if (item.type === 'meta') out.push(`${item.line} \\${item.command} ${item.args}`);
  }
  return out;
}

const DUMP = [
  '--',
  '-- PostgreSQL database dump',
  '--',
  '\\restrict abc',
  'SET statement_timeout = 0; -- a trailing comment',
  'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$',
  'BEGIN',
  '  RETURN 1;',
  'END $$;',
  'COPY "public"."t" ("a", "b") FROM stdin;',
  '1\tx;y',
  '\\N\t\\\\.',
  '\\.',
  '\\connect -reuse-previous=on "dbname=\'other\'"',
  'SELECT 1;',
  '',
].join('\n');

describe('the backup reader', () => {
  it('keeps meta-commands, statements and COPY rows apart, with their lines, plain or gzip', async () => {
    const want = [
      '4 \\restrict abc',
      '5 VariableSetStmt',
      '6 CreateFunctionStmt',
      '10 copy COPY "public"."t" ("a", "b") FROM stdin [1\tx;y|\\N\t\\\\.]',
      `14 \\connect -reuse-previous=on "dbname='other'"`,
      '15 SelectStmt',
    ];
    expect(await items(file('a.sql', DUMP))).toEqual(want);
    expect(await items(file('a.backup', gzipSync(DUMP)))).toEqual(want);
  });

  it('refuses a COPY block without \\., a statement cut in half, and a truncated gzip, naming file and line', async () => {
    await expect(items(file('copy.sql', DUMP.split('\n').slice(0, 11).join('\n')))).rejects.toThrow(/copy\.sql: line 11: the file ends inside the COPY block that starts at line 10/);
    await expect(items(file('fn.sql', DUMP.split('\n').slice(0, 8).join('\n')))).rejects.toThrow(/fn\.sql: line 8: the file ends inside a statement that starts at line 6/);
    const gz = gzipSync(DUMP.repeat(50));
    await expect(items(file('cut.backup', gz.subarray(0, gz.length - 20)))).rejects.toThrow(/cut\.backup: line \d+: cannot read the file/);
    await expect(items(file('bad.sql', 'SELEC 1;\n'))).rejects.toThrow(/bad\.sql: line 1: the PostgreSQL parser rejects this statement/);
  });
});
