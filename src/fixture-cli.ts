/**
 * `npm run fixture -- --url URL [--scale N] [--platform-only]`: load the Supabase-shaped fixture
 * into an empty database. A development tool, kept out of the offramp command list.
 */
import { Command } from 'commander';
import { Reporter } from './output/reporter.js';
import { registerUrlSecrets } from './secrets.js';
import { loadFixture } from './fixture/load.js';

const program = new Command('fixture')
  .description(
    'Load the Supabase-shaped fixture into an empty PostgreSQL 15+ database (PostGIS available). Connect as the ' +
      "cluster's bootstrap superuser, supabase_admin (initdb -U supabase_admin), as on the platform: the fixture " +
      'makes postgres a non-superuser, which PostgreSQL refuses for the bootstrap user.',
  )
  .requiredOption('--url <url>', 'URL of the empty database, as the bootstrap superuser supabase_admin')
  .option('--scale <n>', 'scale factor: 1 = 72 users and 298 posts', (v) => Number(v), 1)
  .option('--platform-only', 'only the Supabase platform layer (roles, schemas, extensions, auth, storage)')
  .option('--json', 'print the summary as JSON on stdout')
  .addHelpText('after', '\nExample:\n  $ initdb -U supabase_admin -W -D ./pgdata && pg_ctl -D ./pgdata start && createdb -U supabase_admin offramp_fixture\n  $ npm run fixture -- --url postgresql://supabase_admin:PASSWORD@127.0.0.1:5432/offramp_fixture --scale 1\n')
  .action(async (opts: { url: string; scale: number; platformOnly?: boolean; json?: boolean }) => {
    registerUrlSecrets(opts.url);
    const reporter = new Reporter({ mode: opts.json ? 'json' : 'text', verbose: false, quiet: false, color: Boolean(process.stderr.isTTY) });
    reporter.setCommand('fixture');
    try {
      const summary = await loadFixture(opts.url, { scale: opts.scale, platformOnly: opts.platformOnly, progress: reporter });
      reporter.result({
        ok: true,
        result: summary,
        render: (s) => `fixture loaded into ${s.database} (scale ${s.scale}${s.platformOnly ? ', platform only' : ''}): ${Object.entries(s.counts).map(([t, n]) => `${t} ${n}`).join(', ')}`,
      });
    } catch (error) {
      process.exitCode = reporter.error(error).exitCode;
    }
  });

await program.parseAsync(process.argv);
