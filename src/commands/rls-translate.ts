import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { redact } from '../secrets.js';
import { examples } from './context.js';
import type { Run } from './index.js';

/** `schema.table` → parts (the users/identities tables of the `table` auth layout). */
function tableName(flag: string, value: string): { schema: string; name: string } {
  const [schema, name, extra] = value.split('.');
  if (!schema || !name || extra !== undefined) throw new UsageError(`${flag} "${value}" is not schema.table`, { hint: `e.g. ${flag} public.users` });
  return { schema, name };
}

export function defineRlsTranslate(rls: Command, run: Run): void {
  rls
    .command('translate')
    .description('read, classify and translate the source\'s RLS policies: compat keeps them in the database, app turns them into predicates for the backend')
    .addOption(new Option('--mode <mode>', 'compat: RLS stays in the database (compatibility functions); app: one predicate per table and command for the backend').choices(['compat', 'app']).default('compat'))
    .option('--apply', 'compat: install on the target, in one transaction')
    .option('--compat-schema <name>', 'schema for uid()/jwt()/role()/email() (default auth: policies apply unchanged; another name rewrites the references)')
    .addOption(new Option('--auth-layout <kind>', 'where the users live on the target: keep (auth.users) or table (--users-table)').choices(['keep', 'table']).default('keep'))
    .option('--users-table <schema.table>', 'table layout: the local users table (default public.users)')
    .option('--identities-table <schema.table>', 'table layout: the local identities table (default public.identities)')
    .option('--force', 'also install policies classified not-translatable (as they are)')
    .option('--disable-rls', 'app: turn row level security off on the target tables (needs --yes)')
    .option('--markdown <file>', 'also write the Markdown report (contract or predicates) to this file')
    .option('--work-dir <dir>', 'where copy wrote the deferred objects (default .offramp)')
    .addHelpText('after', examples(
      'offramp rls translate                                   # classify every policy, with reasons',
      'offramp rls translate --mode compat --apply --markdown rls.md',
      'offramp rls translate --mode compat --apply --compat-schema app_auth',
      'offramp rls translate --mode app --json > predicates.json',
      'offramp rls translate --mode app --disable-rls --yes     # once the backend enforces the predicates',
    ))
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx, opts) => {
        const { config } = ctx.config(opts.workDir ? { workDir: opts.workDir } : {});
        if (!config.source) throw new UsageError('rls translate needs a source', { hint: 'pass --source or set OFFRAMP_SOURCE_URL' });
        const mode = opts.mode as 'compat' | 'app';
        if (opts.apply && mode !== 'compat') throw new UsageError('--apply belongs to --mode compat', { hint: 'app mode emits predicates; --disable-rls --yes turns RLS off afterwards' });
        if (opts.disableRls && mode !== 'app') throw new UsageError('--disable-rls belongs to --mode app', { hint: 'compat mode keeps RLS on' });
        const authLayout = opts.authLayout === 'table'
          ? { kind: 'table' as const, users: tableName('--users-table', String(opts.usersTable ?? 'public.users')), identities: tableName('--identities-table', String(opts.identitiesTable ?? 'public.identities')) }
          : { kind: 'keep' as const };
        const { translateRls } = await import('../core/rls/translate.js');
        const { renderRlsText } = await import('../core/rls/render.js');
        const result = await translateRls({
          source: config.source,
          ...(config.target ? { target: config.target } : {}),
          mode,
          ...(typeof opts.compatSchema === 'string' ? { compatSchema: opts.compatSchema } : {}),
          authLayout,
          apply: Boolean(opts.apply),
          force: Boolean(opts.force),
          disableRls: Boolean(opts.disableRls),
          yes: Boolean(ctx.globals.yes),
          workDir: config.workDir,
          connectTimeoutSeconds: config.connectTimeoutSeconds,
        }, ctx.reporter);
        for (const w of result.warnings) ctx.reporter.log('warn', w);
        if (typeof opts.markdown === 'string') {
          writeFileSync(opts.markdown, redact(result.report), { mode: 0o600 });
          ctx.reporter.log('info', `report written to ${opts.markdown}`);
        }
        return { ok: true, result, render: renderRlsText };
      }, options, command),
    );
}
