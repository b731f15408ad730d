import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { examples } from './context.js';
import type { Run } from './index.js';
import { moveConfigFlags, parseOwnerMap } from './move-flags.js';

export function defineRestore(program: Command, run: Run): void {
  program
    .command('restore')
    .description('restore into the target from an offramp dump directory (every checksum verified) or from a backup file: a dashboard backup, the supabase db dump trio or a plain pg_dump (loaded into a scratch server first, then copied)')
    .requiredOption('--from <path>', 'offramp dump directory, or a backup file (repeatable for the supabase db dump trio; told apart by content)', (v: string, p: string[] = []) => [...p, v])
    .option('-j, --jobs <n>', 'parallel workers (default: number of CPU cores)', (v) => Number(v))
    .option('--owner-map <from=to>', 'give objects owned by <from> on the source to <to> on the target (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--extensions-schema <name>', 'schema for extensions on the target')
    .option('--work-dir <dir>', 'where the file of deferred objects goes (default .offramp)')
    .option('--no-analyze', 'skip ANALYZE of the restored tables')
    .addHelpText('after', examples(
      'offramp restore --from ./dumps/2026-11-26 --target postgresql://app@db.internal:5432/app',
      'offramp restore --from ./dumps/nightly --target "$STAGING_URL" --yes   # replace what staging has',
      'offramp restore --from db_cluster-01-12-2026@03-00-00.backup --target postgresql://app@db.internal:5432/app',
      'offramp restore --from roles.sql --from schema.sql --from data.sql --target "$TARGET_URL"',
    ))
    .action((options: Record<string, unknown>, cmd: Command) =>
      run(async (ctx, opts) => {
        const { config } = ctx.config(moveConfigFlags({ ...opts, ownerMap: undefined }));
        if (!config.target) throw new UsageError('restore needs a target', { hint: 'pass --target or set OFFRAMP_TARGET_URL' });
        const { restoreFrom } = await import('../core/backup/restore-backup.js');
        const { renderRestoreFromText } = await import('../core/backup/render.js');
        const result = await restoreFrom({
          from: (opts.from as string[]).map(String), target: config.target, jobs: config.jobs ?? availableParallelism(),
          extensionsSchema: config.extensionsSchema,
          ownerMap: opts.ownerMap ? parseOwnerMap(opts.ownerMap as string[]) : config.ownerMap,
          workDir: config.workDir, yes: Boolean(ctx.globals.yes), connectTimeoutSeconds: config.connectTimeoutSeconds, analyze: opts.analyze !== false,
        }, ctx.reporter);
        // An offramp dump keeps the JSON shape restore always had.
        if (result.kind === 'offramp-dump') {
          const { renderRestoreText } = await import('../core/move/render.js');
          return { ok: result.ok, result: result.restore, render: renderRestoreText };
        }
        return { ok: result.ok, result, render: renderRestoreFromText };
      }, options, cmd),
    );
}
