import { availableParallelism } from 'node:os';
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { examples } from './context.js';
import type { Run } from './index.js';
import { addMoveFlags, moveConfigFlags, parseSize } from './move-flags.js';

export function defineCopy(program: Command, run: Run): void {
  const command = program
    .command('copy')
    .description('stream the source into the target (schema, data, indexes, constraints, sequences) from one snapshot; parallel and resumable');
  addMoveFlags(command)
    .option('--resume', 'finish an interrupted copy (same source and selection flags): finished tables are kept, interrupted ones copied again')
    .option('--clean', 'drop exactly what the last offramp copy into this target created (from its journal), then copy')
    .addOption(new Option('--format <format>', 'COPY format (auto: binary when both servers have the same major version)').choices(['auto', 'binary', 'text']).default('auto'))
    // Measured on 2 cores: one COPY stream already keeps both busy, and a split table loses
    // TRUNCATE + COPY FREEZE, so splitting only pays on servers with cores to spare.
    .option('--split-larger-than <size>', 'split tables larger than this into ctid ranges copied in parallel (worth it when the servers have idle cores)', '2GB')
    .option('--no-analyze', 'skip ANALYZE of the copied tables')
    .addHelpText('after', examples(
      'offramp copy --source "$SUPABASE_DB_URL" --target postgresql://app@db.internal:5432/app --jobs 4',
      'offramp copy --yes                      # replace the objects this copy creates that the target already has',
      'offramp copy --resume                   # after a crash or kill: finish the job',
      'offramp copy --exclude-table public.audit_log --owner-map postgres=app_owner --output ndjson',
    ))
    .action((options: Record<string, unknown>, cmd: Command) =>
      run(async (ctx, opts) => {
        const { config } = ctx.config(moveConfigFlags(opts));
        if (!config.source || !config.target) {
          throw new UsageError('copy needs a source and a target', { hint: 'pass --source and --target, or set OFFRAMP_SOURCE_URL and OFFRAMP_TARGET_URL' });
        }
        if (opts.resume && opts.clean) throw new UsageError('--resume and --clean contradict each other', { hint: 'resume keeps what was copied; clean throws it away' });
        const { copyDatabase } = await import('../core/move/copy.js');
        const { renderCopyText } = await import('../core/move/render.js');
        const result = await copyDatabase({
          source: config.source,
          target: config.target,
          jobs: config.jobs ?? availableParallelism(),
          platform: config.platform,
          schemas: config.schemas,
          excludeSchemas: config.excludeSchemas,
          excludeTables: config.excludeTables,
          extensionsSchema: config.extensionsSchema,
          ownerMap: config.ownerMap,
          workDir: config.workDir,
          yes: Boolean(ctx.globals.yes),
          clean: Boolean(opts.clean),
          resume: Boolean(opts.resume),
          format: opts.format as 'auto' | 'binary' | 'text',
          splitBytes: parseSize(String(opts.splitLargerThan)),
          connectTimeoutSeconds: config.connectTimeoutSeconds,
          analyze: opts.analyze !== false,
        }, ctx.reporter);
        for (const w of result.warnings) ctx.reporter.log('warn', w);
        return { ok: result.ok, result, render: renderCopyText };
      }, options, cmd),
    );
}
