import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { examples } from './context.js';
import type { Run } from './index.js';
import { sourceFiles } from './source-files.js';

const repeat = (value: string, previous: string[] = []): string[] => [...previous, value];

export function defineAuthMigrate(authGroup: Command, run: Run): void {
  authGroup
    .command('migrate')
    .description('move Supabase Auth users and identities into local tables (idempotent upsert from one snapshot), then bring home what copy deferred because of auth')
    .addOption(new Option('--layout <layout>', 'keep: schema auth with GoTrue\'s names; table: tables you name (--users-table, --identities-table)').choices(['keep', 'table']).default('keep'))
    .option('--users-table <schema.table>', 'with --layout table: the local users table (default public.users)')
    .option('--identities-table <schema.table>', 'with --layout table: the local identities table (default public.identities)')
    .option('--map-column <gotrue=local>', 'with --layout table: rename a column (identities.<col>=... for the identities table; repeatable)', repeat)
    .option('--include-sessions', 'also carry sessions and refresh tokens (signed-in clients stay signed in)')
    .option('--include-mfa', 'also carry MFA factors (their TOTP secrets included)')
    .option('--work-dir <dir>', 'where offramp keeps its state (default .offramp)')
    .addHelpText('after', examples(
      'offramp auth migrate --source "$SUPABASE_DB_URL" --target postgresql://app@db.internal/app',
      'offramp auth migrate --layout table --users-table public.users --identities-table public.identities',
      'offramp auth migrate --include-sessions --include-mfa --json | jq .result.users',
      'offramp auth migrate --yes        # also delete users the source no longer has',
      'offramp auth migrate --source db_cluster-01-12-2026@03-00-00.backup --target "$TARGET_DB_URL"   # from a dashboard backup',
    ))
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx, opts) => {
        // A backup file as --source: read through the same throwaway platform-shaped server restore uses.
        const files = sourceFiles(ctx.globals);
        const { config } = ctx.config({ workDir: opts.workDir, ...(files ? { source: undefined } : {}) });
        if ((!files && !config.source) || !config.target) {
          throw new UsageError('auth migrate needs a source and a target', { hint: 'pass --source and --target, or set OFFRAMP_SOURCE_URL and OFFRAMP_TARGET_URL' });
        }
        const { parseQualifiedName, tableLayout } = await import('../core/auth/layout.js');
        const mapSpecs = (opts.mapColumn as string[] | undefined) ?? [];
        if (opts.layout !== 'table' && (opts.usersTable || opts.identitiesTable || mapSpecs.length > 0)) {
          throw new UsageError('--users-table, --identities-table and --map-column go with --layout table', { hint: 'add --layout table, or drop them to keep GoTrue\'s auth.users' });
        }
        const layout = opts.layout === 'table'
          ? tableLayout(
            parseQualifiedName('--users-table', String(opts.usersTable ?? 'public.users')),
            parseQualifiedName('--identities-table', String(opts.identitiesTable ?? 'public.identities')),
            mapSpecs)
          : { kind: 'keep' as const };
        const { authMigrate } = await import('../core/auth/migrate.js');
        const { renderAuthMigrateText } = await import('../core/auth/render.js');
        const migrate = (source: string) => authMigrate({
          source,
          target: config.target!,
          layout,
          includeSessions: Boolean(opts.includeSessions),
          includeMfa: Boolean(opts.includeMfa),
          workDir: config.workDir,
          yes: Boolean(ctx.globals.yes),
          connectTimeoutSeconds: config.connectTimeoutSeconds,
        }, ctx.reporter);
        let result;
        if (files) {
          const { detectBackup } = await import('../core/backup/detect.js');
          const { withScratchSource } = await import('../core/backup/scratch.js');
          result = await withScratchSource(await detectBackup(files), { progress: ctx.reporter }, (scratch) => migrate(scratch.url));
        } else {
          result = await migrate(config.source!);
        }
        return { ok: true, result, render: renderAuthMigrateText };
      }, options, command),
    );
}
