import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { examples } from './context.js';
import type { Run } from './index.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
const repeat = (value: string, previous: string[] = []): string[] => [...previous, value];

function wholeNumber(name: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!Number.isInteger(v) || v < min) throw new UsageError(`${name} must be a whole number of at least ${min}, not "${String(value)}"`);
  return v;
}

function readJson(file: string, flag: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${flag} ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag} ${file} is not JSON: ${(error as Error).message}`);
  }
}

export function defineRlsVerify(rls: Command, run: Run): void {
  rls
    .command('verify')
    .description('prove the target enforces what the source enforces: the rows each principal can see and the writes it may make, source vs target (exit 3 on differences)')
    .addOption(new Option('--mode <mode>', 'compat: the target\'s installed policies; app: the predicates from rls translate --mode app as WHERE clauses').choices(['compat', 'app']).default('compat'))
    .option('--predicates <file>', 'app mode: the JSON written by offramp rls translate --mode app --json')
    .option('--users <n>', 'how many users of auth.users to impersonate, or all (default 5)')
    .option('--user <id>', 'impersonate this user too (repeatable)', repeat)
    .option('--principals <file>', 'impersonate the principals of this JSON file instead of users from auth.users: [{"role":"authenticated","claims":{…}}, "anon", …]')
    .option('--no-anon', 'leave out the anonymous principal')
    .option('--no-service-role', 'leave out service_role')
    .option('--tables <list>', 'only these tables (schema.table or table, comma-separated)', collect)
    .option('--seed <n>', 'seed for sampling users and rows (same seed, same probes)')
    .option('--sample-rows <n>', 'existing rows per table to probe writes with (0: no write probes; default 3)')
    .addHelpText('after', `
The source is only read: write probes run in transactions that are rolled back (savepoints per probe,
explicit keys so no sequence advances; tables with triggers that could call out are not write-probed).
${examples(
    'offramp rls verify --source "$SUPABASE_DB_URL" --target postgresql://app@db.internal/app',
    'offramp rls verify --users all --sample-rows 5 --json | jq \'.result.checks[] | select(.status=="different")\'',
    'offramp rls translate --mode app --json > predicates.json && offramp rls verify --mode app --predicates predicates.json',
  )}`)
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx, opts) => {
        const { config } = ctx.config({});
        if (!config.source || !config.target) {
          throw new UsageError('rls verify needs both a source and a target', { hint: 'pass --source and --target, or set OFFRAMP_SOURCE_URL / OFFRAMP_TARGET_URL' });
        }
        const mode = opts.mode as 'compat' | 'app';
        const users = opts.users === undefined ? 5 : opts.users === 'all' ? 'all' as const : wholeNumber('--users', opts.users, 0)!;
        const { verifyRls } = await import('../core/rls/verify.js');
        const { parseAppPredicates } = await import('../core/rls/app-predicates.js');
        const { principalsFromData } = await import('../core/rls/principals.js');
        const { renderRlsVerifyText } = await import('../core/rls/verify-render.js');
        if (mode === 'app' && typeof opts.predicates !== 'string') {
          throw new UsageError('rls verify --mode app needs --predicates FILE', { hint: 'write it with: offramp rls translate --mode app --json > predicates.json' });
        }
        const predicates = typeof opts.predicates === 'string' ? parseAppPredicates(readJson(opts.predicates, '--predicates'), opts.predicates) : undefined;
        const principalList = typeof opts.principals === 'string' ? principalsFromData(readJson(opts.principals, '--principals'), opts.principals) : undefined;
        const report = await verifyRls({
          source: config.source,
          target: config.target,
          mode,
          ...(predicates ? { predicates } : {}),
          ...(principalList ? { principalList } : {}),
          principals: { anon: opts.anon !== false, serviceRole: opts.serviceRole !== false, users, userIds: (opts.user as string[] | undefined) ?? [] },
          ...(opts.tables ? { tables: opts.tables as string[] } : {}),
          seed: wholeNumber('--seed', opts.seed, 0) ?? 1,
          sampleRows: wholeNumber('--sample-rows', opts.sampleRows, 0) ?? 3,
          workDir: config.workDir,
          connectTimeoutSeconds: config.connectTimeoutSeconds,
        }, ctx.reporter);
        return { ok: report.summary.ok, result: report, render: renderRlsVerifyText, failExitCode: ExitCode.differences };
      }, options, command),
    );
}
