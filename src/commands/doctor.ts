import type { Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { examples } from './context.js';
import type { Run } from './index.js';
import { parseOwnerMap } from './move-flags.js';
import { sourceFiles } from './source-files.js';

export function defineDoctor(program: Command, run: Run): void {
  program
    .command('doctor')
    .description('preflight checks of source and target: PASS / WARN / FAIL with hints (exit 5 when any FAIL)')
    .option('--skip-disk', 'skip the free-disk check (when the target server is remote)')
    .option('-j, --jobs <n>', 'the --jobs the copy will use (checked against connection limits)', (v) => Number(v))
    .option('--owner-map <from=to>', 'the --owner-map the copy will use (checked: default privileges carried for the mapped role)', (v: string, p: string[] = []) => [...p, v])
    .option('--extensions-schema <name>', 'the --extensions-schema the copy will use (checked: the role may use it)')
    .addHelpText('after', examples(
      'offramp doctor --source "$SUPABASE_DB_URL" --target postgresql://app@db.internal:5432/app',
      'offramp doctor --json | jq \'.result.checks[] | select(.status=="fail")\'',
      'offramp doctor --json | jq -r \'.result.adminSql[]\'   # what an administrator runs once on the target',
      'offramp doctor --source db_cluster-01-12-2026@03-00-00.backup   # which PostgreSQL the backup needs locally; no server is started',
    ))
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx, opts) => {
        const files = sourceFiles(ctx.globals);
        const { config } = ctx.config({
          ...(files ? { source: undefined } : {}),
          jobs: opts.jobs,
          ownerMap: opts.ownerMap ? parseOwnerMap(opts.ownerMap as string[]) : undefined,
          extensionsSchema: opts.extensionsSchema,
        });
        if (!files && !config.source && !config.target) {
          throw new UsageError('doctor needs a source, a target, or both', {
            hint: 'pass --source and --target, or set OFFRAMP_SOURCE_URL / OFFRAMP_TARGET_URL',
          });
        }
        const { doctor } = await import('../core/doctor/index.js');
        const { renderDoctorText } = await import('../core/doctor/render.js');
        const report = await doctor(
          { source: files ? undefined : config.source, ...(files ? { sourceFiles: files } : {}), target: config.target, connectTimeoutSeconds: config.connectTimeoutSeconds, skipDisk: Boolean(opts.skipDisk), jobs: config.jobs,
            extensionsSchema: config.extensionsSchema, ownerMap: config.ownerMap },
          ctx.reporter,
        );
        return { ok: report.summary.fail === 0, result: report, render: renderDoctorText, failExitCode: ExitCode.preflightFailed };
      }, options, command),
    );
}
