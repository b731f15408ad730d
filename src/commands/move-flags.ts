import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';

/** Comma-separated values, except commas inside double quotes (`public."a,b"` is one name). */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let current = '';
  let inQuotes = false;
  for (const ch of value) {
    if (ch === '"') inQuotes = !inQuotes;
    if (ch === ',' && !inQuotes) {
      out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  out.push(current);
  return out.map((v) => v.trim()).filter(Boolean);
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, ...splitList(value)];

/** "64MB", "1GB", "500kB", or bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`cannot read "${text}" as a size`, { hint: 'use a number with kB, MB or GB, e.g. 64MB' });
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 }[unit as 'b']!;
  return Math.round(Number(m[1]) * mult);
}

export function parseOwnerMap(pairs: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const p of pairs) {
    const [from, to] = p.split('=');
    if (!from || !to) throw new UsageError(`--owner-map takes from=to, not "${p}"`, { hint: 'e.g. --owner-map postgres=app_owner' });
    map[from] = to;
  }
  return map;
}

/** The flags copy, dump and restore share (what moves, and how). */
export function addMoveFlags(command: Command): Command {
  return command
    .option('-j, --jobs <n>', 'parallel workers (default: number of CPU cores)', (v) => Number(v))
    .option('--schema <name>', 'copy only this schema: its exact name (repeatable; one that matches nothing is an error)', collect)
    .option('--exclude-schema <name>', 'leave this schema out: its exact name (repeatable)', collect)
    .option('--exclude-table <schema.table>', 'leave this table (and the sequences it owns) out (repeatable; * and ? wildcards; quote names holding capitals, dots or spaces: public."Order")', collect)
    .option('--owner-map <from=to>', 'give objects owned by <from> on the source to <to> on the target (repeatable)', collect)
    .option('--extensions-schema <name>', 'schema for extensions on the target (Supabase: extensions; "public" relocates and rewrites references)')
    .addOption(new Option('--platform <kind>', 'what the source is').choices(['auto', 'supabase', 'postgres']))
    .option('--work-dir <dir>', 'where journals and deferred objects go (default .offramp)');
}

export function moveConfigFlags(opts: Record<string, unknown>): Record<string, unknown> {
  return {
    jobs: opts.jobs,
    schemas: opts.schema,
    excludeSchemas: opts.excludeSchema,
    excludeTables: opts.excludeTable,
    ownerMap: opts.ownerMap ? parseOwnerMap(opts.ownerMap as string[]) : undefined,
    extensionsSchema: opts.extensionsSchema,
    platform: opts.platform,
    workDir: opts.workDir,
  };
}
