import type { Command } from 'commander';
import { examples } from './context.js';
import type { Run } from './index.js';

export function defineInit(program: Command, run: Run): void {
  program
    .command('init')
    .description('write a commented offramp.config.yaml (connection URLs come from the environment; no secret is written)')
    .option('--file <path>', 'where to write it', 'offramp.config.yaml')
    .option('--force', 'overwrite an existing file')
    .addHelpText('after', examples('offramp init', 'offramp init --file config/offramp.config.yaml --force'))
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (_ctx, opts) => {
        const { writeInitConfig } = await import('../core/init.js');
        const result = writeInitConfig({ file: String(opts.file), force: Boolean(opts.force) });
        return { ok: true, result, render: (r: { file: string }) => `wrote ${r.file}: edit it, then run offramp doctor` };
      }, options, command),
    );
}
