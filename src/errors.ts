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
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'CONFIRMATION_REQUIRED'
  | 'CONNECTION_FAILED'
  | 'QUERY_FAILED'
  | 'EXTERNAL_TOOL_FAILED'
  | 'PREFLIGHT_FAILED'
  | 'DIFFERENCES_FOUND'
  | 'RUNBOOK_STOPPED'
  | 'DNS_FAILED'
  | 'ENVIRONMENT'
  | 'INTERNAL';

export interface ErrorInit {
  hint?: string;
  detail?: string;
  cause?: unknown;
}

/** Base of every error offramp reports on purpose: a code, a message, a hint and an exit code. */
export class OfframpError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCodeValue;
  readonly hint?: string;
  readonly detail?: string;

  constructor(code: ErrorCode, exitCode: ExitCodeValue, message: string, init: ErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = init.hint;
    this.detail = init.detail;
  }
}

/** Bad flags or arguments, or a confirmation the user did not give. */
export class UsageError extends OfframpError {
  constructor(message: string, init: ErrorInit = {}) {
    super('USAGE', ExitCode.usage, message, init);
  }
}

/** A destructive step was asked for without --yes. */
export class ConfirmationRequiredError extends OfframpError {
  constructor(message: string, init: ErrorInit = {}) {
    super('CONFIRMATION_REQUIRED', ExitCode.usage, message, init);
  }
}

/** The configuration (file, environment or flags) is invalid; `problems` lists every issue found. */
export class ConfigError extends OfframpError {
  readonly problems: string[];
  constructor(problems: string[], init: ErrorInit = {}) {
    super(
      'CONFIG_INVALID',
      ExitCode.usage,
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
  | 'other';

export class ConnectionError extends OfframpError {
  readonly diagnosis: ConnectionDiagnosis;
  /** The URL with its password masked. */
  readonly target: string;
  constructor(diagnosis: ConnectionDiagnosis, target: string, message: string, init: ErrorInit = {}) {
    super('CONNECTION_FAILED', ExitCode.error, message, init);
    this.diagnosis = diagnosis;
    this.target = target;
  }
}

/** A query failed on the server; carries the SQLSTATE. */
export class QueryError extends OfframpError {
  readonly sqlstate?: string;
  constructor(message: string, sqlstate: string | undefined, init: ErrorInit = {}) {
    super('QUERY_FAILED', ExitCode.error, message, init);
    this.sqlstate = sqlstate;
  }
}

/** pg_dump, pg_restore, initdb and friends failed or are missing. */
export class ExternalToolError extends OfframpError {
  constructor(message: string, init: ErrorInit = {}) {
    super('EXTERNAL_TOOL_FAILED', ExitCode.error, message, init);
  }
}

/** The machine lacks something offramp needs (a binary, a package, a permission). */
export class EnvironmentError extends OfframpError {
  constructor(message: string, init: ErrorInit = {}) {
    super('ENVIRONMENT', ExitCode.error, message, init);
  }
}

/** Preflight checks found at least one FAIL. */
export class PreflightFailedError extends OfframpError {
  constructor(message: string, init: ErrorInit = {}) {
    super('PREFLIGHT_FAILED', ExitCode.preflightFailed, message, init);
  }
}

/** Validation or verification ran and found differences. */
export class DifferencesFoundError extends OfframpError {
  constructor(message: string, init: ErrorInit = {}) {
    super('DIFFERENCES_FOUND', ExitCode.differences, message, init);
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
    super('DNS_FAILED', ExitCode.error, message, init);
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

export function normalizeError(error: unknown): ErrorInfo {
  if (error instanceof OfframpError) {
    return {
      code: error.code,
      message: error.message,
      hint: error.hint,
      detail: error.detail,
      exitCode: error.exitCode,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 'INTERNAL',
    message,
    detail: error instanceof Error ? error.stack : undefined,
    hint: 'this looks like a bug in offramp; rerun with --verbose and report it with the output',
    exitCode: ExitCode.error,
  };
}
