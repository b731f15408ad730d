/**
 * Reads a plain SQL backup the way psql would: line by line (gunzip on the fly), with psql
 * meta-commands (`\connect`, `\restrict` / `\unrestrict` of newer pg_dump) and the rows of
 * `COPY … FROM stdin` blocks (up to `\.`) kept apart from SQL, which is split into statements by
 * the real PostgreSQL parser. A statement is complete when the scanner finds every quote closed
 * and a `;` as its last token; the parser then splits and reads it.
 *
 * A file that breaks (bad gzip, a COPY block without `\.`, a statement cut in half, SQL the parser
 * rejects) ends the reading with an ArtifactError naming the file and the line.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { loadSqlParser, parseStatements, scanTokens, type SqlStatement } from '../../db/sql-parse.js';
import { ArtifactError } from '../move/artifact.js';
import { isGzip } from './detect.js';

export type BackupItem =
  | { type: 'comment'; text: string; line: number }
  | { type: 'meta'; command: string; args: string; line: number }
  | { type: 'sql'; statement: SqlStatement; line: number }
  | { type: 'copy'; statement: SqlStatement; line: number; rows: AsyncIterable<string> };

export interface ReadOptions {
  /** Detection reads only the head: the caller stops early, so no end-of-file checks matter. */
  headOnly?: boolean;
  /** Called with the number of (compressed) file bytes read so far. */
  onBytes?: (bytesRead: number) => void;
}

const CORRUPT_HINT = 'the file is truncated or damaged: download or copy it again (a gzip file can be checked with gzip -t); nothing was written to the target';

async function* linesOf(path: string, options: ReadOptions, where: { line: number }): AsyncGenerator<string> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  let bytes = 0;
  file.on('data', (chunk) => {
    bytes += chunk.length;
    options.onBytes?.(bytes);
  });
  const stream = isGzip(path) ? file.pipe(createGunzip()) : file;
  // A read error of the file itself must end the iteration of the gunzip stream too.
  if (stream !== file) file.on('error', (e) => stream.destroy(e));
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for await (const chunk of stream) {
      const text = rest + decoder.write(chunk as Buffer);
      const parts = text.split('\n');
      rest = parts.pop()!;
      for (const part of parts) yield part;
    }
    rest += decoder.end();
    if (rest.length > 0) yield rest;
  } catch (error) {
    throw new ArtifactError(`${path}: line ${where.line + 1}: cannot read the file: ${(error as Error).message}`, CORRUPT_HINT);
  } finally {
    file.destroy();
    if (stream !== file) stream.destroy();
  }
}

/** Whether buffered SQL ends a statement: every quote closed and `;` the last token. */
function isComplete(sql: string): boolean {
  try {
    const tokens = scanTokens(sql).filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT');
    return tokens.length > 0 && tokens[tokens.length - 1]!.text === ';';
  } catch {
    return false; // an open quote or dollar quote: the statement goes on
  }
}

const isCopyFromStdin = (s: SqlStatement): boolean =>
  s.kind === 'CopyStmt' && s.node.is_from === true && s.node.filename === undefined && s.node.is_program !== true;

export async function* readBackup(path: string, options: ReadOptions = {}): AsyncGenerator<BackupItem> {
  await loadSqlParser();
  const where = { line: 0 };
  const lines = linesOf(path, options, where)[Symbol.asyncIterator]();
  const next = async (): Promise<string | undefined> => {
    const r = await lines.next();
    if (r.done) return undefined;
    where.line++;
    return r.value.endsWith('\r') ? r.value.slice(0, -1) : r.value;
  };
  let buffer = '';
  let bufferLine = 0;
  try {
    for (;;) {
      const line = await next();
      if (line === undefined) break;
      if (buffer.trim() === '') {
        if (line.trim() === '') continue;
        if (line.startsWith('--')) {
          yield { type: 'comment', text: line, line: where.line };
          continue;
        }
        if (line.startsWith('\\')) {
          const [command = '', ...args] = line.slice(1).split(' ');
          yield { type: 'meta', command, args: args.join(' ').trim(), line: where.line };
          continue;
        }
        buffer = '';
        bufferLine = where.line;
      }
      buffer += `${line}\n`;
      // Only a line with a `;` can end a statement (a comment may follow it: the scanner skips comments).
      if (!line.includes(';') || !isComplete(buffer)) continue;
      let statements: SqlStatement[];
      try {
        statements = parseStatements(buffer);
      } catch (error) {
        throw new ArtifactError(`${path}: line ${bufferLine}: the PostgreSQL parser rejects this statement: ${(error as Error).message.split('\n')[0]}`, CORRUPT_HINT);
      }
      const startLine = bufferLine;
      buffer = '';
      for (const statement of statements) {
        if (!isCopyFromStdin(statement)) {
          yield { type: 'sql', statement, line: startLine };
          continue;
        }
        let ended = false;
        const copyLine = startLine;
        const rows = (async function* (): AsyncGenerator<string> {
          for (;;) {
            const row = await next();
            if (row === undefined) {
              throw new ArtifactError(`${path}: line ${where.line}: the file ends inside the COPY block that starts at line ${copyLine} (no \\. line)`, CORRUPT_HINT);
            }
            if (row === '\\.') {
              ended = true;
              return;
            }
            yield row;
          }
        })();
        yield { type: 'copy', statement, line: startLine, rows };
        // The consumer may skip the rows (a deferred table): they are read past all the same.
        while (!ended) {
          const row = await next();
          if (row === undefined) throw new ArtifactError(`${path}: line ${where.line}: the file ends inside the COPY block that starts at line ${copyLine} (no \\. line)`, CORRUPT_HINT);
          if (row === '\\.') ended = true;
        }
      }
    }
    if (!options.headOnly && buffer.trim() !== '') {
      throw new ArtifactError(`${path}: line ${where.line}: the file ends inside a statement that starts at line ${bufferLine} (cut in half)`, CORRUPT_HINT);
    }
  } finally {
    await lines.return?.(undefined);
  }
}
