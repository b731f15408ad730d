/**
 * Typed errors and the exit-code table. Core code throws these; only src/cli.ts turns them
 * into a process exit code.
 */

/** The documented exit codes (README "Exit codes"). */
export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  differences: 3,
  runbookStopped: 4,
  preflightFailed: 5,
  /** `offramp watch`: a rollback trigger held for its window. */
  triggerFired: 6,
  /** 128 + the signal's number, as shells report a process a signal ended. */
  hangup: 129,
  interrupted: 130,
  terminated: 143,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'CONFIRMATION_REQUIRED'
  | 'CONNECTION_FAILED'
  | 'CONNECTION_LOST'
  | 'PERMISSION_DENIED'
  | 'QUERY_FAILED'
  | 'EXTERNAL_TOOL_FAILED'
  | 'PREFLIGHT_FAILED'
  | 'DIFFERENCES_FOUND'
  | 'RUNBOOK_STOPPED'
  | 'DNS_FAILED'
  | 'TARGET_BUSY'
  | 'TARGET_CONFLICT'
  | 'ARTIFACT_INVALID'
  | 'ENVIRONMENT'
  | 'INTERRUPTED'
  | 'INTERNAL';

/**
 * The one table from error code to exit code. Every OfframpError takes its exit code from here,
 * so a code can never exit two ways. INTERRUPTED is the one code whose exit status depends on
 * what stopped the run: 128 + the signal number (SIGNAL_EXIT_CODES); 130 stands for ^C.
 */
export const EXIT_CODES: Readonly<Record<ErrorCode, ExitCodeValue>> = {
  USAGE: ExitCode.usage,
  CONFIG_INVALID: ExitCode.usage,
  CONFIRMATION_REQUIRED: ExitCode.usage,
  CONNECTION_FAILED: ExitCode.error,
  CONNECTION_LOST: ExitCode.error,
  PERMISSION_DENIED: ExitCode.error,
  QUERY_FAILED: ExitCode.error,
  EXTERNAL_TOOL_FAILED: ExitCode.error,
  PREFLIGHT_FAILED: ExitCode.preflightFailed,
  DIFFERENCES_FOUND: ExitCode.differences,
  RUNBOOK_STOPPED: ExitCode.runbookStopped,
  TARGET_BUSY: ExitCode.error,
  TARGET_CONFLICT: ExitCode.error,
  ARTIFACT_INVALID: ExitCode.error,
  ENVIRONMENT: ExitCode.error,
  DNS_FAILED: ExitCode.error,
  INTERRUPTED: ExitCode.interrupted,
  INTERNAL: ExitCode.error,
};

/** The signals offramp stops cleanly on, and the exit status each gives. */
export const SIGNAL_EXIT_CODES = {
  SIGINT: ExitCode.interrupted,
  SIGTERM: ExitCode.terminated,
  SIGHUP: ExitCode.hangup,
} as const;
export type StopSignal = keyof typeof SIGNAL_EXIT_CODES;

export interface ErrorInit {
  hint?: string;
  detail?: string;
  cause?: unknown;
}

/** Base of every error offramp reports on purpose: a code, a message, a hint and an exit code. */
export class OfframpError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly detail?: string;

  constructor(code: ErrorCode, message: string, init: ErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = init.hint;
    this.detail = init.detail;
  }

  /** From the one table (EXIT_CODES): never chosen where the error is thrown. */
  get exitCode(): ExitCodeValue {
    return EXIT_CODES[this.code];
  }
}

/** Bad flags or arguments, or a confirmation the user did not give. */
export class UsageError extends OfframpError {
  constructor(message: string, init: ErrorInit = {}) {
    super('USAGE', message, init);
  }
}

/** A destructive step was asked for without --yes. */
export class ConfirmationRequiredError extends OfframpError {
  constructor(message: string, init: ErrorInit = {}) {
    super('CONFIRMATION_REQUIRED', message, init);
  }
}

/** The configuration (file, environment or flags) is invalid; `problems` lists every issue found. */
export class ConfigError extends OfframpError {
  readonly problems: string[];
  constructor(problems: string[], init: ErrorInit = {}) {
    super(
      'CONFIG_INVALID',
      `invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      { hint: 'fix the listed settings; `offramp init` writes a commented example', ...init },
    );
    this.problems = problems;
  }
}

/** What went wrong when connecting, classified so a hint can be given. */
export type ConnectionDiagnosis =
  | 'invalid-url'
  | 'unknown-host'
  | 'refused'
  | 'timeout'
  | 'bad-password'
  | 'no-such-role'
  | 'no-such-database'
  | 'ssl-required'
  | 'ipv6-unreachable'
  | 'transaction-pooler'
  | 'too-many-connections'
  | 'not-postgres'
  | 'other';

export class ConnectionError extends OfframpError {
  readonly diagnosis: ConnectionDiagnosis;
  /** The URL with its password masked. */
  readonly target: string;
  constructor(diagnosis: ConnectionDiagnosis, target: string, message: string, init: ErrorInit = {}) {
    super('CONNECTION_FAILED', message, init);
    this.diagnosis = diagnosis;
    this.target = target;
  }
}

/** A query failed on the server; carries the SQLSTATE. A missing privilege (42501) is its own code. */
export class QueryError extends OfframpError {
  readonly sqlstate?: string;
  constructor(message: string, sqlstate: string | undefined, init: ErrorInit = {}) {
    super(sqlstate === '42501' ? 'PERMISSION_DENIED' : 'QUERY_FAILED', message, init);
    this.sqlstate = sqlstate;
  }
}

export type ServerSide = 'source' | 'target';

/** An open session died under the run (server restarted, network gone): resumable, not a bug. */
export class ConnectionLostError extends OfframpError {
  readonly side?: ServerSide;
  constructor(side: ServerSide | undefined, message: string, init: ErrorInit = {}) {
    super('CONNECTION_LOST', message, init);
    this.side = side;
  }
}

/** The run was stopped by a signal (^C, kill); its exit status is 128 + the signal's number. */
export class InterruptedError extends OfframpError {
  readonly signal: StopSignal;
  constructor(signal: StopSignal, init: ErrorInit = {}) {
    super('INTERRUPTED', `interrupted by ${signal}: stopped the workers and closed the server sessions`, init);
    this.signal = signal;
  }

  override get exitCode(): ExitCodeValue {
    return SIGNAL_EXIT_CODES[this.signal];
  }
}

/** pg_dump, pg_restore, initdb and friends failed or are missing. */
export class ExternalToolError extends OfframpError {
  constructor(message: string, init: ErrorInit = {}) {
    super('EXTERNAL_TOOL_FAILED', message, init);
  }
}

/** The machine lacks something offramp needs (a binary, a package, a permission). */
export class EnvironmentError extends OfframpError {
  constructor(message: string, init: ErrorInit = {}) {
    super('ENVIRONMENT', message, init);
  }
}

/** Preflight checks found at least one FAIL. */
export class PreflightFailedError extends OfframpError {
  constructor(message: string, init: ErrorInit = {}) {
    super('PREFLIGHT_FAILED', message, init);
  }
}

/** Validation or verification ran and found differences. */
export class DifferencesFoundError extends OfframpError {
  constructor(message: string, init: ErrorInit = {}) {
    super('DIFFERENCES_FOUND', message, init);
  }
}

/** Why a DNS provider refused or failed a request; decides the hint. */
export type DnsFailureReason =
  | 'auth' | 'tsig-badkey' | 'tsig-badsig' | 'tsig-badtime' | 'notauth' | 'refused' | 'notzone'
  | 'zone-not-found' | 'rate-limited' | 'invalid-change' | 'timeout' | 'unreachable' | 'not-confirmed'
  | 'not-verified' | 'server-failure' | 'bad-response' | 'credentials-missing';

/** A DNS provider (rfc2136, cloudflare, route53, manual) or resolver failed; `reason` classifies it. */
export class DnsError extends OfframpError {
  readonly reason: DnsFailureReason;
  constructor(reason: DnsFailureReason, message: string, init: ErrorInit = {}) {
    super('DNS_FAILED', message, init);
    this.reason = reason;
  }
}

/** Normalised shape used by every renderer (text, JSON, NDJSON). */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  hint?: string;
  detail?: string;
  exitCode: ExitCodeValue;
}

/** SQLSTATEs that mean the session is gone, not that the statement was wrong. */
const LOST_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08007']);
const LOST_ERRNOS = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']);
const LOST_MESSAGES = /Connection terminated|connection error and is not queryable|server closed the connection unexpectedly|terminating connection due to|no connection to the server|could not receive data from server|SSL SYSCALL error|Client was closed and is not queryable/i;

/**
 * Whether a driver, socket or libpq error means the connection died (server restart, crash,
 * network) rather than that a statement failed. Looks through `cause` chains.
 */
export function isConnectionLoss(error: unknown): boolean {
  for (let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e instanceof ConnectionLostError) return true;
    const code = typeof e.code === 'string' ? e.code : '';
    if (LOST_SQLSTATES.has(code) || LOST_ERRNOS.has(code)) return true;
    if (typeof e.message === 'string' && LOST_MESSAGES.test(e.message)) return true;
  }
  return false;
}

export const CONNECTION_LOST_HINT = 'the server may have restarted or the network dropped; what was committed is kept: `offramp copy --resume` finishes an interrupted copy (a dump or restore is run again)';

/** The error offramp reports for a raw driver error that reached the top: classified, never a "bug". */
function classifyRaw(error: unknown): OfframpError | undefined {
  if (isConnectionLoss(error)) {
    return new ConnectionLostError(undefined, `the connection to the server was lost: ${(error as Error).message}`, { hint: CONNECTION_LOST_HINT, cause: error });
  }
  const e = error as { code?: unknown; severity?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string') {
    return new QueryError(String(e.message), e.code, {
      hint: e.code === '42501' ? 'the connecting role lacks a privilege; connect as the database owner or GRANT it' : 'rerun with --verbose for the server\'s detail',
      cause: error,
    });
  }
  return undefined;
}

/**
 * The renderable shape of any error. `detail` (server detail, tool stderr, or the stack of a bug)
 * is only carried when asked for: stacks and driver internals are shown with --verbose only.
 */
export function normalizeError(error: unknown, options: { verbose?: boolean } = {}): ErrorInfo {
  const known = error instanceof OfframpError ? error : classifyRaw(error);
  if (known) {
    return {
      code: known.code,
      message: known.message,
      hint: known.hint,
      ...(options.verbose && known.detail ? { detail: known.detail } : {}),
      exitCode: known.exitCode,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 'INTERNAL',
    message,
    ...(options.verbose && error instanceof Error && error.stack ? { detail: error.stack } : {}),
    hint: options.verbose
      ? 'this looks like a bug in offramp; please report it with this output'
      : 'this looks like a bug in offramp; rerun with --verbose and report it with the output',
    exitCode: ExitCode.error,
  };
}
