import type { Command } from 'commander';
import { examples } from './context.js';
import type { Run } from './index.js';

export function defineDemo(program: Command, run: Run): void {
  program
    .command('demo')
    .description('the whole journey on local throwaway servers: a Supabase-shaped source and a PostGIS target (no account, no network)')
    .option('--scale <n>', 'fixture scale (1 = 72 users, 298 posts)', (v) => Number(v), 1)
    .option('--keep', 'leave the servers running and print their URLs (stop them with pg_ctl)')
    .option('--report <file>', 'write the Markdown report here', 'offramp-demo-report.md')
    .option('--from-backup', 'move through a dashboard-style backup file (pg_dumpall, gzip) and restore --from it, instead of a live copy')
    .addHelpText('after', examples('offramp demo', 'offramp demo --from-backup   # rehearse a move from a dashboard backup file', 'offramp demo --scale 10 --report /tmp/demo.md', 'npm run demo'))
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx, opts) => {
        const { runDemo } = await import('../core/demo.js');
        const { renderDemoText } = await import('../core/demo-render.js');
        const result = await runDemo({ scale: Number(opts.scale), keep: Boolean(opts.keep), reportFile: String(opts.report), fromBackup: Boolean(opts.fromBackup) }, ctx.reporter);
        return { ok: result.ok, result, render: renderDemoText };
      }, options, command),
    );
}
