import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { examples } from './context.js';
import type { Run } from './index.js';
import { moveConfigFlags, parseOwnerMap } from './move-flags.js';

export function defineRestore(program: Command, run: Run): void {
  program
    .command('restore')
    .description('verify a dump directory (every checksum) and load it into the target: roles, extensions, schema, parallel data, indexes, constraints, sequences')
    .requiredOption('--from <dir>', 'directory written by offramp dump')
    .option('-j, --jobs <n>', 'parallel workers (default: number of CPU cores)', (v) => Number(v))
    .option('--owner-map <from=to>', 'give objects owned by <from> on the source to <to> on the target (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--extensions-schema <name>', 'schema for extensions on the target')
    .option('--work-dir <dir>', 'where the file of deferred objects goes (default .offramp)')
    .option('--no-analyze', 'skip ANALYZE of the restored tables')
    .addHelpText('after', examples(
      'offramp restore --from ./dumps/2026-11-26 --target postgresql://app@db.internal:5432/app',
      'offramp restore --from ./dumps/nightly --target "$STAGING_URL" --yes   # replace what staging has',
    ))
    .action((options: Record<string, unknown>, cmd: Command) =>
      run(async (ctx, opts) => {
        const { config } = ctx.config(moveConfigFlags({ ...opts, ownerMap: undefined }));
        if (!config.target) throw new UsageError('restore needs a target', { hint: 'pass --target or set OFFRAMP_TARGET_URL' });
        const { restoreDatabase } = await import('../core/move/restore.js');
        const { renderRestoreText } = await import('../core/move/render.js');
        const result = await restoreDatabase({
          from: String(opts.from), target: config.target, jobs: config.jobs ?? availableParallelism(),
          extensionsSchema: config.extensionsSchema,
          ownerMap: opts.ownerMap ? parseOwnerMap(opts.ownerMap as string[]) : config.ownerMap,
          workDir: config.workDir, yes: Boolean(ctx.globals.yes), connectTimeoutSeconds: config.connectTimeoutSeconds, analyze: opts.analyze !== false,
        }, ctx.reporter);
        return { ok: result.ok, result, render: renderRestoreText };
      }, options, cmd),
    );
}
