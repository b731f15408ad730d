/** Every step kind and the function that runs it. */
import type { StepKind } from '../schema.js';
import type { StepExecutor } from '../types.js';
import { runCommand } from './command.js';
import { runCors } from './cors.js';
import { runDnsCheck, runDnsPropagation, runDnsUpdate } from './dns.js';
import { runHttp } from './http.js';
import { runManual } from './manual.js';
import { runSql } from './sql.js';
import { runTls } from './tls.js';
import { runValidate } from './validate.js';
import { runWait } from './wait.js';

export const EXECUTORS: Record<StepKind, StepExecutor> = {
  manual: runManual,
  sql: runSql,
  http: runHttp,
  tls: runTls,
  cors: runCors,
  'dns-check': runDnsCheck,
  'dns-propagation': runDnsPropagation,
  'dns-update': runDnsUpdate,
  validate: runValidate,
  wait: runWait,
  command: runCommand,
};

/** Kinds that change something outside offramp: a real run needs --yes or a confirmation; a dry run skips them. */
export function changesThings(kind: StepKind, params: Record<string, unknown>): boolean {
  return kind === 'dns-update' || (kind === 'command' && params.readOnly !== true) || (kind === 'sql' && params.write === true);
}
