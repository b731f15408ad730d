import { Chalk, type ChalkInstance } from 'chalk';
import type oraFactory from 'ora';
import { normalizeError, type ErrorInfo } from '../errors.js';
import { redact, redactDeep } from '../secrets.js';
import { VERSION } from '../version.js';
import type { Progress, StepHandle } from './progress.js';

export type OutputMode = 'text' | 'json' | 'ndjson';

export interface ReporterOptions {
  mode: OutputMode;
  verbose: boolean;
  quiet: boolean;
  color: boolean;
  /** Streams are injectable so tests can capture them. */
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  /** ora, when stderr is a terminal: loaded by the caller only then (it costs ~50 ms to import). */
  spinner?: typeof oraFactory;
}

/** How a command presents its result to a person (text mode); JSON modes serialise the result itself. */
export type TextRenderer<T> = (result: T, c: ChalkInstance) => string;

export interface CommandOutcome<T> {
  result: T;
  /** ok=false means the command ran but found problems (doctor FAIL, validation differences). */
  ok: boolean;
  render: TextRenderer<T>;
}

/**
 * The single sink for everything a command shows. Human output goes to stderr; stdout carries
 * only machine output (the JSON document, NDJSON events). Every string is redacted on the way out.
 */
export class Reporter implements Progress {
  readonly mode: OutputMode;
  readonly chalk: ChalkInstance;
  private readonly out: NodeJS.WritableStream;
  private readonly err: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly verbose: boolean;
  private readonly quiet: boolean;
  private readonly spinner?: typeof oraFactory;
  private readonly warnings: string[] = [];
  private command = 'offramp';
  private finished = false;

  constructor(options: ReporterOptions) {
    this.mode = options.mode;
    this.verbose = options.verbose;
    this.quiet = options.quiet;
    this.out = options.stdout ?? process.stdout;
    this.err = options.stderr ?? process.stderr;
    this.chalk = new Chalk({ level: options.color ? 1 : 0 });
    this.spinner = options.spinner;
  }

  setCommand(name: string): void {
    this.command = name;
  }

  private writeErr(text: string): void {
    this.err.write(redact(text.endsWith('\n') ? text : `${text}\n`));
  }

  private event(type: string, payload: Record<string, unknown>): void {
    this.out.write(`${JSON.stringify(redactDeep({ type, time: new Date().toISOString(), ...payload }))}\n`);
  }

  step(title: string): StepHandle {
    if (this.mode === 'ndjson') {
      this.event('progress', { step: title, status: 'start' });
      return {
        update: (message, progress) => this.event('progress', { step: title, status: 'update', message, ...progress }),
        succeed: (message) => this.event('progress', { step: title, status: 'done', message }),
        warn: (message) => {
          this.warnings.push(redact(message));
          this.event('log', { level: 'warn', step: title, message });
        },
        fail: (message) => this.event('progress', { step: title, status: 'failed', message }),
      };
    }
    if (this.mode === 'json' || this.quiet) {
      return {
        update() {},
        succeed() {},
        warn: (message) => void this.warnings.push(redact(message)),
        fail() {},
      };
    }
    const c = this.chalk;
    if (this.err.isTTY && this.spinner) {
      const spinner = this.spinner({ text: redact(title), stream: this.err, color: 'cyan', isEnabled: true });
      spinner.start();
      return {
        update: (message) => {
          spinner.text = redact(`${title}: ${message}`);
        },
        succeed: (message) => void spinner.succeed(redact(message ? `${title}: ${message}` : title)),
        warn: (message) => {
          this.warnings.push(redact(message));
          spinner.warn(redact(`${title}: ${message}`));
          spinner.start(redact(title));
        },
        fail: (message) => void spinner.fail(redact(message ? `${title}: ${message}` : title)),
      };
    }
    // Not a terminal (CI logs, pipes): one plain line per state change, no spinner frames.
    this.writeErr(`${c.dim('…')} ${title}`);
    return {
      update: (message) => {
        if (this.verbose) this.writeErr(`  ${title}: ${message}`);
      },
      succeed: (message) => this.writeErr(`${c.green('✔')} ${title}${message ? `: ${message}` : ''}`),
      warn: (message) => {
        this.warnings.push(redact(message));
        this.writeErr(`${c.yellow('⚠')} ${title}: ${message}`);
      },
      fail: (message) => this.writeErr(`${c.red('✖')} ${title}${message ? `: ${message}` : ''}`),
    };
  }

  log(level: 'debug' | 'info' | 'warn', message: string): void {
    if (level === 'warn') this.warnings.push(redact(message));
    if (this.mode === 'ndjson') {
      if (level !== 'debug' || this.verbose) this.event('log', { level, message });
      return;
    }
    if (this.mode === 'json') return;
    if (level === 'debug' && !this.verbose) return;
    if (level === 'info' && this.quiet) return;
    const prefix = level === 'warn' ? this.chalk.yellow('warning: ') : level === 'debug' ? this.chalk.dim('debug: ') : '';
    this.writeErr(`${prefix}${message}`);
  }

  /** Print the command's result. Called once. */
  result<T>(outcome: CommandOutcome<T>): void {
    this.finished = true;
    if (this.mode === 'json') {
      const doc = { ok: outcome.ok, command: this.command, version: VERSION, result: outcome.result, warnings: this.warnings };
      this.out.write(`${JSON.stringify(redactDeep(doc), null, 2)}\n`);
    } else if (this.mode === 'ndjson') {
      this.event('result', { ok: outcome.ok, command: this.command, version: VERSION, result: outcome.result, warnings: this.warnings });
    } else if (!this.quiet || !outcome.ok) {
      this.writeErr(outcome.render(outcome.result, this.chalk));
    }
  }

  /**
   * Report an error. When a result was already printed (a command that found problems), the JSON
   * envelope was already written and only the text line is added.
   */
  error(error: unknown): ErrorInfo {
    const info = normalizeError(error, { verbose: this.verbose });
    if (this.mode === 'json') {
      if (!this.finished) {
        const doc = {
          ok: false,
          command: this.command,
          version: VERSION,
          result: null,
          warnings: this.warnings,
          error: { code: info.code, message: info.message, hint: info.hint, ...(info.detail ? { detail: info.detail } : {}) },
        };
        this.out.write(`${JSON.stringify(redactDeep(doc), null, 2)}\n`);
      }
    } else if (this.mode === 'ndjson') {
      this.event('error', { code: info.code, message: info.message, hint: info.hint });
    }
    if (this.mode === 'text' || this.mode === 'ndjson') {
      const c = this.chalk;
      let text = `${c.red('error:')} ${info.message}`;
      if (info.hint) text += `\n${c.cyan('hint:')} ${info.hint}`;
      // normalizeError only carries detail (server detail, tool stderr, a stack) under --verbose.
      if (info.detail) text += `\n${c.dim(info.detail)}`;
      this.writeErr(text);
    }
    return info;
  }
}
