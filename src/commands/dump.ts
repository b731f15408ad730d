import { availableParallelism } from 'node:os';
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { examples } from './context.js';
import type { Run } from './index.js';
import { addMoveFlags, moveConfigFlags, parseSize } from './move-flags.js';

export function defineDump(program: Command, run: Run): void {
  const command = program
    .command('dump')
    .description('write a consistent snapshot of the source into a directory (manifest with checksums and row counts, schema, compressed data per table)');
  addMoveFlags(command)
    .requiredOption('-o, --out <dir>', 'directory to write (must be new, empty, or an older dump with --yes)')
    .addOption(new Option('--data-format <format>', 'COPY format of the data files (text restores across major versions)').choices(['binary', 'text']).default('binary'))
    .option('--split-larger-than <size>', 'split tables larger than this into several files dumped in parallel', '64MB')
    .addHelpText('after', examples(
      'offramp dump --source "$SUPABASE_DB_URL" --out ./dumps/2026-11-26',
      'offramp dump --out ./dumps/nightly --yes --jobs 4 --data-format text',
    ))
    .action((options: Record<string, unknown>, cmd: Command) =>
      run(async (ctx, opts) => {
        const { config } = ctx.config(moveConfigFlags(opts));
        if (!config.source) throw new UsageError('dump needs a source', { hint: 'pass --source or set OFFRAMP_SOURCE_URL' });
        const { dumpDatabase } = await import('../core/move/dump.js');
        const { renderDumpText } = await import('../core/move/render.js');
        const result = await dumpDatabase({
          source: config.source, out: String(opts.out), jobs: config.jobs ?? availableParallelism(), platform: config.platform,
          schemas: config.schemas, excludeSchemas: config.excludeSchemas, excludeTables: config.excludeTables,
          splitBytes: parseSize(String(opts.splitLargerThan)), dataFormat: opts.dataFormat as 'binary' | 'text',
          connectTimeoutSeconds: config.connectTimeoutSeconds, overwrite: Boolean(ctx.globals.yes),
        }, ctx.reporter);
        return { ok: result.ok, result, render: renderDumpText };
      }, options, cmd),
    );
}
