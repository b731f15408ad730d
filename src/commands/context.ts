import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { ExitCodeValue } from '../errors.js';
import type { CommandOutcome, Reporter } from '../output/reporter.js';

/** Options every command accepts (declared once on the root program). */
export interface GlobalOptions {
  source?: string;
  /** Every --source given, in order (inspect and doctor take several backup files). */
  sources?: string[];
  target?: string;
  config?: string;
  json?: boolean;
  output?: 'text' | 'json' | 'ndjson';
  verbose?: boolean;
  quiet?: boolean;
  color?: boolean;
  yes?: boolean;
}

export interface CommandContext {
  reporter: Reporter;
  globals: GlobalOptions;
  /** Load and validate the configuration, with these command flags on top. */
  config(flags?: Record<string, unknown>): LoadedConfig;
}

/** What a command hands back to cli.ts: its outcome and the exit code to use when not ok. */
export interface CommandResult<T> extends CommandOutcome<T> {
  failExitCode?: ExitCodeValue;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command's result type is its own
export type CommandRunner = (ctx: CommandContext, options: Record<string, unknown>, command: Command) => Promise<CommandResult<any>>;

/** Builds the context for a command from the root program's parsed global options. */
export function makeContext(reporter: Reporter, globals: GlobalOptions): CommandContext {
  return {
    reporter,
    globals,
    config: (flags = {}) =>
      loadConfig({
        configPath: globals.config,
        flags: { source: globals.source, target: globals.target, ...flags },
      }),
  };
}

/** Example block appended to a command's --help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
