/**
 * The offramp command-line program: global flags, the command list, and the one place where the
 * process exit code is set. Commands are defined in src/commands; their work is imported lazily.
 */
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, InterruptedError, SIGNAL_EXIT_CODES, UsageError, type ExitCodeValue, type StopSignal } from './errors.js';
import { stopEverything } from './db/sessions.js';
import { Reporter, type OutputMode } from './output/reporter.js';
import { registerUrlSecrets } from './secrets.js';
import { VERSION } from './version.js';
import { makeContext, type CommandRunner, type GlobalOptions } from './commands/context.js';
import { defineCommands } from './commands/index.js';

function outputMode(globals: GlobalOptions): OutputMode {
  if (globals.json) return 'json';
  return globals.output ?? (process.env.OFFRAMP_OUTPUT as OutputMode | undefined) ?? 'text';
}

function useColor(globals: GlobalOptions): boolean {
  if (globals.color === false || process.env.NO_COLOR !== undefined) return false;
  return Boolean(process.stderr.isTTY);
}

export function buildProgram(run: (runner: CommandRunner, options: Record<string, unknown>, command: Command) => Promise<void>): Command {
  const program = new Command('offramp')
    .description('Move a production app off hosted Supabase onto self-hosted PostgreSQL + PostGIS, with no data lost.')
    .version(VERSION, '-V, --version')
    .option('--source <url>', 'source (Supabase) connection URL [env OFFRAMP_SOURCE_URL]; inspect and doctor also take a backup file (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--target <url>', 'target (self-hosted) connection URL [env OFFRAMP_TARGET_URL]')
    .option('-c, --config <file>', 'config file (default: ./offramp.config.yaml or .json)')
    .option('--json', 'print one JSON document on stdout (same as --output json)')
    .addOption(new Option('--output <format>', 'output format').choices(['text', 'json', 'ndjson']))
    .option('-v, --verbose', 'more detail, including driver errors')
    .option('-q, --quiet', 'only errors and the final result')
    .option('--no-color', 'no colour (also off when not a terminal or under NO_COLOR)')
    .option('-y, --yes', 'confirm destructive steps without asking')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', `
Exit codes: 0 ok · 1 error · 2 usage or refused confirmation · 3 differences found · 4 runbook stopped part-way · 5 preflight failed · 6 a rollback trigger fired (watch) · 130 interrupted (^C) · 143 terminated (SIGTERM)
Docs: README.md and docs/ARCHITECTURE.md`);
  defineCommands(program, run);
  return program;
}

/**
 * When started by bin/offramp.js through an IPC channel, die with the parent: a kill -9 of the
 * offramp process must stop the work it started, as a crash would.
 */
function dieWithParent(): void {
  if (!process.channel) return;
  process.channel.unref();
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}

/** What to do after an interrupt, per command: only copy can pick up where it stopped. */
function interruptHint(command: string): string {
  switch (command) {
    case 'copy': return 'what was committed is kept: run the same offramp copy command with --resume (offramp copy --resume) to finish the job';
    case 'dump': return 'the dump is incomplete (it has no manifest, so restore refuses it): run offramp dump again with --yes';
    case 'restore': return 'the target is partly loaded: run offramp restore again with --yes to replace it (a backup file is simply loaded again)';
    default: return 'run the command again';
  }
}

/** A signal delivered twice within this time is one ^C (to the process group, and forwarded by bin/offramp.js). */
const SAME_INTERRUPT_MS = 1000;
/** After an interrupt, how long the run may take to unwind before the process ends anyway. */
const UNWIND_LIMIT_MS = 15_000;

/**
 * ^C, SIGTERM and SIGHUP stop the run: every server session and child process is stopped at once
 * (src/db/sessions.ts), the core's awaits fail, and main() reports INTERRUPTED with exit status
 * 128 + the signal's number. A second ^C exits at once.
 */
function installStopHandlers(onFirst: (signal: StopSignal) => void, forceExit: (signal: StopSignal) => void): void {
  let first: { signal: StopSignal; at: number } | undefined;
  for (const signal of Object.keys(SIGNAL_EXIT_CODES) as StopSignal[]) {
    process.on(signal, () => {
      if (first) {
        if (performance.now() - first.at >= SAME_INTERRUPT_MS) forceExit(signal);
        return;
      }
      first = { signal, at: performance.now() };
      onFirst(signal);
    });
  }
}

/** Parse argv, run the command, set process.exitCode. Calls process.exit only when an interrupted run fails to unwind. */
export async function main(argv: string[]): Promise<ExitCodeValue> {
  dieWithParent();
  let reporter: Reporter | undefined;
  let exitCode: ExitCodeValue = ExitCode.ok;
  let commandName = 'offramp';
  let stoppedBy: StopSignal | undefined;
  let reported = false;
  const fallbackReporter = (): Reporter =>
    reporter ?? new Reporter({ mode: argv.includes('--json') ? 'json' : argv.includes('ndjson') ? 'ndjson' : 'text', verbose: argv.includes('--verbose') || argv.includes('-v'), quiet: false, color: false });
  const interrupted = (signal: StopSignal): InterruptedError => new InterruptedError(signal, { hint: interruptHint(commandName) });
  installStopHandlers((signal) => {
    stoppedBy = signal;
    process.exitCode = SIGNAL_EXIT_CODES[signal];
    stopEverything(interrupted(signal));
    // Normally the run unwinds in well under a second; if something still hangs, end anyway.
    setTimeout(() => {
      if (!reported) fallbackReporter().error(interrupted(signal));
      process.exit(SIGNAL_EXIT_CODES[signal]);
    }, UNWIND_LIMIT_MS).unref();
  }, (signal) => {
    // A second ^C: no more waiting for the run to unwind, but --json still gets its document.
    if (!reported) fallbackReporter().error(interrupted(stoppedBy ?? signal));
    process.exit(SIGNAL_EXIT_CODES[stoppedBy ?? signal]);
  });
  const program = buildProgram(async (runner, options, command) => {
    const globals = command.optsWithGlobals<GlobalOptions>();
    // --source is repeatable (a supabase db dump trio given to inspect/doctor): every value is kept
    // in `sources`, and `source` is the last one, as a single-valued flag always was.
    const given = globals.source as unknown as string[] | undefined;
    globals.sources = given;
    globals.source = given?.at(-1);
    registerUrlSecrets(globals.source);
    registerUrlSecrets(globals.target);
    const mode = outputMode(globals);
    const spinner = mode === 'text' && !globals.quiet && process.stderr.isTTY ? (await import('ora')).default : undefined;
    reporter = new Reporter({
      mode,
      verbose: Boolean(globals.verbose),
      quiet: Boolean(globals.quiet),
      color: useColor(globals),
      spinner,
    });
    commandName = command.parent && command.parent.name() !== 'offramp' ? `${command.parent.name()} ${command.name()}` : command.name();
    reporter.setCommand(commandName);
    const outcome = await runner(makeContext(reporter, globals), options, command);
    reporter.result(outcome);
    reported = true;
    if (!outcome.ok) exitCode = outcome.failExitCode ?? ExitCode.error;
  });
  // Every level (auth migrate, rls verify, cutover run, ...): a usage error anywhere is exit 2, decided here.
  const overrideExits = (c: Command): void => { c.exitOverride(); c.commands.forEach(overrideExits); };
  overrideExits(program);
  for (const a of argv.slice(2)) registerUrlSecrets(a.startsWith('postgres') ? a : undefined);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
      if (exitCode !== ExitCode.ok && argv.includes('--json')) {
        new Reporter({ mode: 'json', verbose: false, quiet: true, color: false }).error(
          new UsageError(error.message.replace(/^error: /, ''), { hint: 'see offramp --help' }),
        );
      }
    } else {
      reporter = fallbackReporter();
      // Whatever failed after an interrupt failed because of it (its sessions were closed under it).
      exitCode = reporter.error(stoppedBy ? interrupted(stoppedBy) : error).exitCode;
      reported = true;
    }
  }
  process.exitCode = exitCode;
  return exitCode;
}
