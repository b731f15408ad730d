import type { Command } from 'commander';
import { ConfirmationRequiredError, ExitCode, UsageError } from '../errors.js';
import { examples } from './context.js';
import type { Run } from './index.js';

function num(flag: string, value: unknown, { min = 0, integer = false } = {}): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) throw new UsageError(`${flag} must be ${integer ? 'a whole number' : 'a number'} of at least ${min}, not "${String(value)}"`);
  return v;
}
/**
 * A subcommand's options with those its parent `watch` took: commander gives an option that both
 * declare (--log, --probe, --work-dir, --watch-config) to the parent even when it follows the subcommand.
 */
function merged(command: Command): Record<string, unknown> {
  const own = Object.fromEntries(Object.entries(command.opts()).filter(([, v]) => v !== undefined));
  return { ...command.parent?.opts(), ...own };
}
const list = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

export function defineWatch(program: Command, run: Run): void {
  const watch = program
    .command('watch')
    .description('evaluate the rollback triggers continuously (5xx rate, latency against a baseline, validation, manual); exit 6 when one fires')
    .option('--log <file>', 'nginx access log (combined format) to follow; rotation and truncation are handled')
    .option('--from-start', 'also read what the log already holds (default: only new lines)')
    .option('--probe <url>', 'GET this URL on every tick (status and latency)')
    .option('--watch-config <file>', 'YAML with thresholds and windows (see README "offramp watch")')
    .option('--interval <seconds>', 'seconds between evaluations (default 10)')
    .option('--error-threshold <percent>', '5xx rate that breaches (default 5)')
    .option('--error-window <seconds>', 'the rate is computed over this many seconds (default 60)')
    .option('--error-for <seconds>', 'how long the rate must stay above the threshold (default 600)')
    .option('--min-requests <n>', 'fewer requests in the window: no judgement (default 20)')
    .option('--latency-threshold <percent>', 'percent above the baseline that breaches (default 50)')
    .option('--latency-for <seconds>', 'how long latency must stay above it (default 600)')
    .option('--validate-every <seconds>', 'seconds between validations of source and target (default 300)')
    .option('--no-validation', 'do not run the corruption trigger even when source and target are configured')
    .option('--max-duration <seconds>', 'stop after this long when nothing fired (exit 0)')
    .option('--auto-rollback', 'when a trigger fires, start `offramp rollback run` (needs --yes)')
    .option('--rollback-runbook <file>', 'rollback runbook for --auto-rollback (default: the one `cutover init` wrote)')
    .option('--confirmed <ids>', 'manual rollback steps confirmed in advance for --auto-rollback (comma-separated)', list)
    .option('--work-dir <dir>', 'where the baseline, manual triggers and journals live (default .offramp)')
    .addHelpText('after', `${examples(
      'offramp watch baseline --probe https://api.example.com/health --samples 30   # before the cutover',
      'offramp watch --log /var/log/nginx/access.log --probe https://api.example.com/health',
      'offramp watch trigger security --reason "CVE-2025-1234 in the new API"        # from another terminal',
      'offramp watch --log access.log --auto-rollback --yes --confirmed restart-old-services',
    )}
Exit codes: 0 nothing fired before --max-duration · 6 a trigger fired · 4 it fired and the automatic rollback stopped part-way`)
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx, opts) => {
        if (opts.autoRollback && !ctx.globals.yes) {
          throw new ConfirmationRequiredError('--auto-rollback starts a rollback (DNS changes) without asking: it needs --yes', {
            hint: 'add --yes, or leave --auto-rollback out and run `offramp rollback run` yourself when a trigger fires',
          });
        }
        const { config } = ctx.config(typeof opts.workDir === 'string' ? { workDir: opts.workDir } : {});
        const { loadWatchConfig, runWatch, renderWatchText } = await import('../core/watch/index.js');
        const watchConfig = loadWatchConfig(opts.watchConfig as string | undefined, {
          interval: num('--interval', opts.interval, { min: 0.01 }),
          errorRate: { threshold: num('--error-threshold', opts.errorThreshold), window: num('--error-window', opts.errorWindow, { min: 0.01 }), for: num('--error-for', opts.errorFor), minRequests: num('--min-requests', opts.minRequests, { min: 1, integer: true }) },
          latency: { threshold: num('--latency-threshold', opts.latencyThreshold), for: num('--latency-for', opts.latencyFor) },
          validation: { every: num('--validate-every', opts.validateEvery, { min: 1 }) },
        });
        const validation = opts.validation !== false && config.source && config.target ? { source: config.source, target: config.target } : undefined;
        const result = await runWatch({
          config: watchConfig,
          workDir: config.workDir,
          logFile: opts.log as string | undefined,
          fromStart: Boolean(opts.fromStart),
          probeUrl: opts.probe as string | undefined,
          validation,
          maxDurationSeconds: num('--max-duration', opts.maxDuration),
          autoRollback: opts.autoRollback
            ? { runbook: opts.rollbackRunbook as string | undefined, yes: true, confirmed: (opts.confirmed as string[] | undefined) ?? [], dryRun: false, interactive: false }
            : undefined,
        }, ctx.reporter);
        const failExitCode = result.rollback?.started && result.rollback.ok === false ? ExitCode.runbookStopped : ExitCode.triggerFired;
        return { ok: result.fired === null, result, render: renderWatchText, failExitCode };
      }, options, command),
    );

  watch
    .command('baseline')
    .description('record the latency baseline before the cutover (from probes, a log with $request_time, or given)')
    .option('--probe <url>', 'GET this URL --samples times')
    .option('--samples <n>', 'probes to take (default 20)')
    .option('--log <file>', 'nginx log whose lines end with $request_time')
    .option('--p95 <ms>', 'give the p95 latency by hand')
    .option('--work-dir <dir>', 'where to store it (default .offramp)')
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx, _opts, cmd) => {
        const opts = merged(cmd);
        const { config } = ctx.config(typeof opts.workDir === 'string' ? { workDir: opts.workDir } : {});
        const { recordBaseline, systemClock } = await import('../core/watch/index.js');
        const p95 = num('--p95', opts.p95, { min: 0.001 });
        const { baseline, path } = await recordBaseline({
          workDir: config.workDir, probeUrl: opts.probe as string | undefined, logFile: opts.log as string | undefined,
          samples: num('--samples', opts.samples, { min: 1, integer: true }), spacingMs: 200,
          ...(p95 !== undefined ? { given: { p95 } } : {}),
        }, systemClock);
        return { ok: true, result: { ...baseline, path }, render: (r: typeof baseline & { path: string }) => `baseline recorded in ${r.path}: ${Object.entries(r.percentiles).map(([k, v]) => `${k} ${v} ms`).join(', ')} (${r.samples} samples from ${r.source})` };
      }, options, command),
    );

  watch
    .command('trigger <name>')
    .description('fire (or --clear) a manual rollback trigger, e.g. a critical security vulnerability; a running watch sees it on its next tick')
    .option('--reason <text>', 'why (required to fire; recorded)')
    .option('--clear', 'withdraw the trigger')
    .option('--watch-config <file>', 'the watch config naming the manual triggers (default: security)')
    .option('--work-dir <dir>', 'the work directory the watch uses (default .offramp)')
    .action((name: string, options: Record<string, unknown>, command: Command) =>
      run(async (ctx, _opts, cmd) => {
        const opts = merged(cmd);
        const { config } = ctx.config(typeof opts.workDir === 'string' ? { workDir: opts.workDir } : {});
        const { loadWatchConfig, fireManual, clearManual } = await import('../core/watch/index.js');
        if (opts.clear) {
          const cleared = clearManual(config.workDir, name);
          return { ok: true, result: { name, cleared }, render: () => (cleared ? `trigger ${name} withdrawn` : `trigger ${name} was not fired`) };
        }
        if (typeof opts.reason !== 'string' || opts.reason.trim() === '') throw new UsageError('watch trigger needs --reason', { hint: 'say why, e.g. --reason "CVE-2025-1234 in the new API"; it is recorded' });
        const watchConfig = loadWatchConfig(opts.watchConfig as string | undefined);
        const signal = { name, reason: opts.reason.trim(), at: new Date().toISOString(), by: process.env.USER ?? process.env.LOGNAME };
        const path = fireManual(config.workDir, watchConfig.manual.names, signal);
        return { ok: true, result: { ...signal, path }, render: () => `trigger ${name} fired: ${signal.reason} (a running watch sees it on its next tick)` };
      }, options, command),
    );
}
