import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { examples } from './context.js';
import { checkOutputFile } from './output-file.js';
import { sourceFiles } from './source-files.js';
import type { Run } from './index.js';

export function defineInspect(program: Command, run: Run): void {
  program
    .command('inspect')
    .description('inventory of the source: schemas, tables, extensions, roles, auth, storage, RLS, and findings with hints')
    .option('--markdown <file>', 'also write the migration plan as Markdown to this file')
    .addHelpText('after', examples(
      'offramp inspect --source "$SUPABASE_DB_URL"',
      'offramp inspect --source "$SUPABASE_DB_URL" --json > inventory.json',
      'offramp inspect --markdown migration-plan.md',
      'offramp inspect --source db_cluster-01-12-2026@03-00-00.backup   # a dashboard backup, loaded into a throwaway server',
      'offramp inspect --source roles.sql --source schema.sql --source data.sql   # the supabase db dump trio',
    ))
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx, opts) => {
        checkOutputFile('--markdown', opts.markdown);
        const files = sourceFiles(ctx.globals);
        if (files) {
          const { config } = ctx.config({ source: undefined });
          const { inspectBackup, renderInspectBackupText, renderInspectBackupMarkdown } = await import('../core/inspect/backup-source.js');
          const report = await inspectBackup({ files, connectTimeoutSeconds: config.connectTimeoutSeconds, platform: config.platform }, ctx.reporter);
          if (typeof opts.markdown === 'string') {
            writeFileSync(opts.markdown, renderInspectBackupMarkdown(report));
            ctx.reporter.log('info', `migration plan written to ${opts.markdown}`);
          }
          return { ok: true, result: report, render: renderInspectBackupText };
        }
        const { config } = ctx.config();
        if (!config.source) {
          throw new UsageError('no source database given', { hint: 'pass --source postgresql://… or set OFFRAMP_SOURCE_URL' });
        }
        const { inspect } = await import('../core/inspect/index.js');
        const { renderInspectText, renderInspectMarkdown } = await import('../core/inspect/render.js');
        const report = await inspect({ source: config.source, connectTimeoutSeconds: config.connectTimeoutSeconds, platform: config.platform }, ctx.reporter);
        if (typeof opts.markdown === 'string') {
          writeFileSync(opts.markdown, renderInspectMarkdown(report));
          ctx.reporter.log('info', `migration plan written to ${opts.markdown}`);
        }
        return { ok: true, result: report, render: renderInspectText };
      }, options, command),
    );
}
