/**
 * The deferred-objects file copy writes (`.offramp/deferred-<db>.sql`): one `-- type schema name:
 * reason` line per object, then its statements. The RLS stage takes out what it installed (and the
 * policies, which it installs from the source catalog or reports) and rewrites the file atomically,
 * 0600, with whatever is still waiting for another stage.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { parseStatements, type SqlStatement } from '../../db/sql-parse.js';
import { writePrivateFile } from '../move/private-files.js';

export interface DeferredBlock {
  /** The `-- ...` header line, without the leading `-- `. */
  header: string;
  statements: SqlStatement[];
}


/**
 * Split the file into its objects. The parser's statement locations start at the statement's first
 * token, so the `-- ` header line copy wrote sits in the gap before it: a gap holding one opens a block.
 */
export function readDeferredFile(path: string): DeferredBlock[] | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  const bytes = Buffer.from(text, 'utf8');
  const blocks: DeferredBlock[] = [];
  let previousEnd = 0;
  for (const s of parseStatements(text)) {
    const gap = bytes.subarray(previousEnd, s.start).toString('utf8');
    previousEnd = s.end;
    const header = gap.split('\n').map((l) => l.trim()).reverse().find((l) => l.startsWith('-- '));
    if (header !== undefined) blocks.push({ header: header.slice(3), statements: [s] });
    else if (blocks.length > 0) blocks[blocks.length - 1]!.statements.push(s);
    else blocks.push({ header: 'statements without a header', statements: [s] });
  }
  return blocks;
}

/** Write what is left (atomically: a 0600 temporary file renamed over the old one). */
export function writeDeferredFile(path: string, blocks: DeferredBlock[]): void {
  const text = blocks.map((b) => `-- ${b.header}\n${b.statements.map((s) => `${s.text};`).join('\n')}\n`).join('\n');
  const tmp = `${path}.tmp-${process.pid}`;
  writePrivateFile(tmp, text);
  renameSync(tmp, path);
}
