import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import type { RunEnvironment } from '../core/runbook/session.js';
import { examples, type CommandContext } from './context.js';
import type { Run } from './index.js';

export const collectIds = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

/** The person-facing parts of a run: prompts and the live view only in a terminal, plain lines otherwise. */
export async function runEnvironment(ctx: CommandContext, opts: Record<string, unknown>): Promise<{ interactive: boolean; environment: RunEnvironment }> {
  const { config } = ctx.config();
  const terminal = Boolean(process.stderr.isTTY) && ctx.reporter.mode === 'text';
  const interactive = terminal && Boolean(process.stdin.isTTY) && !opts.nonInteractive;
  const confirmed = (opts.confirmed as string[] | undefined) ?? [];
  const { askYesNo } = await import('../output/prompt.js');
  const environment: RunEnvironment = {
    io: { interactive, confirmed, confirm: askYesNo, ...(typeof opts.operator === 'string' ? { operator: opts.operator } : {}) },
    databases: { source: config.source, target: config.target, connectTimeoutSeconds: config.connectTimeoutSeconds },
  };
  if (terminal && !ctx.globals.quiet) {
    const { listrObserver } = await import('../output/runbook-view.js');
    environment.observer = listrObserver({ mayPrompt: interactive });
  }
  return { interactive, environment };
}

export function workDir(ctx: CommandContext): string {
  return ctx.config().config.workDir;
}

export function defineCutover(program: Command, run: Run): void {
  const cutover = program
    .command('cutover')
    .description('the cutover runbook: checklist, checks, DNS switch, propagation, validation — journaled, resumable, reversible')
    .addHelpText('after', examples('offramp cutover init', 'offramp cutover plan', 'offramp cutover run --dry-run', 'offramp cutover run --yes --confirmed endpoints-tested,monitoring-active', 'offramp cutover status'));

  cutover
    .command('init')
    .description('write runbooks/cutover.yaml and runbooks/rollback.yaml into this project for editing (--yes replaces them)')
    .addHelpText('after', examples('offramp cutover init', 'offramp cutover init --yes   # back to the defaults'))
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx) => {
        const { cutoverInit } = await import('../core/runbook/cutover.js');
        const { renderInitText } = await import('../core/runbook/render.js');
        const result = cutoverInit({ dir: process.cwd(), yes: Boolean(ctx.globals.yes) });
        return { ok: true, result, render: renderInitText };
      }, options, command));

  cutover
    .command('plan')
    .description('what a run would do, in order, with the resolved parameters (secrets masked); checks the runbook')
    .option('--runbook <file>', 'runbook file (default runbooks/cutover.yaml)')
    .addHelpText('after', examples('offramp cutover plan', 'offramp cutover plan --runbook staging.yaml --json'))
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx, opts) => {
        const { cutoverPlan } = await import('../core/runbook/cutover.js');
        const { renderPlanText } = await import('../core/runbook/render.js');
        const result = await cutoverPlan({ runbook: opts.runbook as string | undefined, workDir: workDir(ctx) });
        return { ok: true, result, render: renderPlanText };
      }, options, command));

  cutover
    .command('run')
    .description('run the cutover runbook; a stopped or killed run resumes where it stopped (exit 4 when it stops part-way)')
    .option('--runbook <file>', 'runbook file (default runbooks/cutover.yaml)')
    .option('--dry-run', 'run only the checks that change nothing; show what the others would do; no journal')
    .option('--from <step>', 'start at this step (the steps before it are skipped)')
    .option('--rerun', 'run steps again even when the journal says they passed')
    .option('--confirmed <ids>', 'manual steps confirmed up front (comma-separated, repeatable); needed without a terminal', collectIds)
    .option('--operator <name>', 'who confirms manual steps (default $USER)')
    .option('--non-interactive', 'never prompt, even in a terminal')
    .addHelpText('after', examples(
      'offramp cutover run --dry-run',
      'offramp cutover run --yes',
      'offramp cutover run --yes --non-interactive --confirmed endpoints-tested,data-validated,ssl-configured,monitoring-active,rollback-ready',
      'offramp cutover run --yes --from switch-dns --rerun',
    ))
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx, opts) => {
        const { cutoverRun } = await import('../core/runbook/cutover.js');
        const { renderRunText } = await import('../core/runbook/render.js');
        const { interactive, environment } = await runEnvironment(ctx, opts);
        const result = await cutoverRun({
          runbook: opts.runbook as string | undefined, workDir: workDir(ctx), dryRun: Boolean(opts.dryRun), from: opts.from as string | undefined,
          rerun: Boolean(opts.rerun), yes: Boolean(ctx.globals.yes), confirmed: (opts.confirmed as string[] | undefined) ?? [], interactive,
        }, ctx.reporter, environment);
        return { ok: result.ok, result, render: renderRunText, failExitCode: ExitCode.runbookStopped };
      }, options, command));

  cutover
    .command('status')
    .description('what the journal says: every run, and the latest state of every step')
    .addHelpText('after', examples('offramp cutover status', 'offramp cutover status --json | jq .result.steps'))
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx) => {
        const { cutoverStatus } = await import('../core/runbook/cutover.js');
        const { renderStatusText } = await import('../core/runbook/render.js');
        return { ok: true, result: cutoverStatus({ workDir: workDir(ctx) }), render: renderStatusText };
      }, options, command));

}
