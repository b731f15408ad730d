/**
 * `offramp doctor`: preflight of source and target. Connects to both sides at once, runs the
 * checks in order (each PASS / WARN / FAIL / SKIP with detail, hint and evidence) and always
 * closes its connections. Never throws for a problem it can report as a check.
 */
import { availableParallelism } from 'node:os';
import { runChecks, summarize, type Check, type CheckResult, type CheckStatus } from '../../checks/types.js';
import { silentProgress, type Progress, type StepHandle } from '../../output/progress.js';
import { maskUrl } from '../../secrets.js';
import { clientToolCheck, serverVersionsCheck } from './checks/versions.js';
import { targetAuthLayoutCheck } from './checks/auth-layout.js';
import { connectCheck } from './checks/connectivity.js';
import { connectionsCheck } from './checks/connections.js';
import { targetCreateExtensionsCheck, targetExtensionsCheck } from './checks/extensions.js';
import { targetCreateRolesCheck, targetCreateSchemasCheck, targetWritableCheck } from './checks/privileges.js';
import { targetDefaultPrivilegesCheck, targetExtensionsSchemaCheck } from './checks/target-role.js';
import { readAccessCheck, snapshotCheck, timeoutsCheck, walLevelCheck } from './checks/source.js';
import { encodingCheck, sameDatabaseCheck, targetDiskCheck, targetEmptyCheck } from './checks/target-state.js';
import { backupFileChecks, type DoctorBackupSummary } from './backup-file.js';
import { closeSide, newDoctorContext, openSide, shortVersion, type DoctorContext, type Side } from './context.js';

export interface DoctorOptions {
  source?: string;
  target?: string;
  /** Seconds before a connection attempt is diagnosed as a timeout (default 10). */
  connectTimeoutSeconds?: number;
  /** Skip the free-disk check (a remote target). */
  skipDisk?: boolean;
  /** Parallel workers the copy will use (default: DEFAULT_JOBS). */
  jobs?: number;
  /** The copy's --extensions-schema (default: extensions). */
  extensionsSchema?: string;
  /** The copy's --owner-map. */
  ownerMap?: Record<string, string>;
  /** Backup files given as --source: checked without starting a server (doctor --source FILE). */
  sourceFiles?: string[];
  /** Run only these checks (copy's preflight); default: all. */
  only?: ReadonlySet<string>;
}

/** Workers assumed when --jobs is not given: the copy's default. */
export const DEFAULT_JOBS = Math.max(1, availableParallelism());

export interface DoctorSideSummary {
  /** The URL with its password masked. */
  url: string;
  reachable: boolean;
  serverVersion?: string;
  user?: string;
  database?: string;
}

export interface DoctorReport {
  source?: DoctorSideSummary;
  /** The backup file given as --source, instead of a source database. */
  backup?: DoctorBackupSummary;
  target?: DoctorSideSummary;
  jobs: number;
  checks: CheckResult[];
  summary: Record<CheckStatus, number>;
  /** What an administrator must run once on the target for the failing checks to pass, in order, each statement once. */
  adminSql: string[];
  durationMs: number;
}

/** Every doctor check, in the order they run and are shown. */
export const DOCTOR_CHECKS: ReadonlyArray<Check<DoctorContext>> = [
  connectCheck('source'),
  connectCheck('target'),
  sameDatabaseCheck,
  serverVersionsCheck,
  clientToolCheck('pg_dump'),
  clientToolCheck('pg_restore'),
  targetExtensionsCheck,
  encodingCheck,
  targetWritableCheck,
  targetCreateSchemasCheck,
  targetExtensionsSchemaCheck,
  targetCreateExtensionsCheck,
  targetCreateRolesCheck,
  targetDefaultPrivilegesCheck,
  targetEmptyCheck,
  targetAuthLayoutCheck,
  targetDiskCheck,
  connectionsCheck('target'),
  connectionsCheck('source'),
  readAccessCheck,
  snapshotCheck,
  timeoutsCheck,
  walLevelCheck,
];

function sideSummary(side: Side): DoctorSideSummary | undefined {
  if (!side.url) return undefined;
  return {
    url: side.info?.masked ?? maskUrl(side.url),
    reachable: Boolean(side.facts),
    ...(side.facts
      ? { serverVersion: shortVersion(side.facts), user: side.facts.current_user, database: side.facts.database }
      : {}),
  };
}

const QUIET_STEP: StepHandle = { update() {}, succeed() {}, warn() {}, fail() {} };

export async function doctor(options: DoctorOptions, progress: Progress = silentProgress): Promise<DoctorReport> {
  const started = performance.now();
  const jobs = options.jobs ?? DEFAULT_JOBS;
  if (options.sourceFiles) {
    // A backup file stands in for the source: its checks come first; the target's run as ever.
    const file = await backupFileChecks(options.sourceFiles);
    const rest = options.target ? await doctor({ ...options, source: undefined, sourceFiles: undefined }, progress) : undefined;
    const checks = [...file.checks, ...(rest?.checks ?? [])];
    return {
      backup: file.backup,
      ...(rest?.target ? { target: rest.target } : {}),
      jobs,
      checks,
      summary: summarize(checks),
      adminSql: rest?.adminSql ?? [],
      durationMs: Math.round(performance.now() - started),
    };
  }
  const ctx = newDoctorContext(options.source, options.target, {
    connectTimeoutSeconds: options.connectTimeoutSeconds ?? 10,
    skipDisk: Boolean(options.skipDisk),
    jobs,
    extensionsSchema: options.extensionsSchema ?? 'extensions',
    ownerMap: options.ownerMap ?? {},
  });
  try {
    // Both sides connect (and the client tools are looked up) in parallel: two unreachable hosts
    // cost one timeout, not two. The connect checks then wait for their side's attempt.
    void openSide(ctx.source, ctx.settings.connectTimeoutSeconds);
    void openSide(ctx.target, ctx.settings.connectTimeoutSeconds);
    ctx.clientTools().catch(() => {});
    // One progress step for the whole run, naming the check in flight: the result table is the
    // report, so a line per check would only print everything twice.
    const overall = progress.step('Preflight checks');
    const perCheck: Progress = { step: (title) => (overall.update(title), QUIET_STEP), log: (level, message) => progress.log(level, message) };
    const checks = await runChecks(DOCTOR_CHECKS.filter((c) => !options.only || options.only.has(c.id)), ctx, perCheck);
    const summary = summarize(checks);
    const counts = `${checks.length} checks: ${summary.pass} pass, ${summary.warn} warn, ${summary.fail} fail, ${summary.skip} skip`;
    if (summary.fail > 0) overall.fail(counts);
    else overall.succeed(counts);
    return {
      source: sideSummary(ctx.source),
      target: sideSummary(ctx.target),
      jobs,
      checks,
      summary,
      adminSql: [...new Set(checks.filter((c) => c.status === 'fail').flatMap((c) => c.adminSql ?? []))],
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    // A connection still being opened (no check waited for it) is closed too, never leaked.
    await Promise.all([openSide(ctx.source, ctx.settings.connectTimeoutSeconds), openSide(ctx.target, ctx.settings.connectTimeoutSeconds)]);
    await Promise.all([closeSide(ctx.source), closeSide(ctx.target)]);
  }
}
