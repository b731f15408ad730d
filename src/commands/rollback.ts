import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { examples } from './context.js';
import { collectIds, runEnvironment, workDir } from './cutover.js';
import type { Run } from './index.js';

export function defineRollback(program: Command, run: Run): void {
  const rollback = program
    .command('rollback')
    .description('undo a cutover: its journal walked backwards, then the rollback runbook')
    .addHelpText('after', examples('offramp rollback run --dry-run', 'offramp rollback run --yes'));

  rollback
    .command('run')
    .description('undo the passed cutover steps that have an undo (newest first), then run the rollback runbook (needs --yes or a confirmation)')
    .option('--runbook <file>', 'rollback runbook (default runbooks/rollback.yaml when it exists)')
    .option('--dry-run', 'show what would be undone and run only the checks that change nothing')
    .option('--confirmed <ids>', 'manual steps confirmed up front (comma-separated, repeatable)', collectIds)
    .option('--operator <name>', 'who confirms manual steps (default $USER)')
    .option('--non-interactive', 'never prompt, even in a terminal')
    .addHelpText('after', examples(
      'offramp rollback run --dry-run',
      'offramp rollback run --yes',
      'offramp rollback run --yes --non-interactive --confirmed sync-back,restart-old-services,update-clients',
    ))
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx, opts) => {
        const { rollbackRun } = await import('../core/runbook/rollback.js');
        const { renderRunText } = await import('../core/runbook/render.js');
        const { interactive, environment } = await runEnvironment(ctx, opts);
        const result = await rollbackRun({
          runbook: opts.runbook as string | undefined, workDir: workDir(ctx), yes: Boolean(ctx.globals.yes),
          confirmed: (opts.confirmed as string[] | undefined) ?? [], dryRun: Boolean(opts.dryRun), interactive,
        }, ctx.reporter, environment);
        return { ok: result.ok, result, render: renderRunText, failExitCode: ExitCode.runbookStopped };
      }, options, command));

}
