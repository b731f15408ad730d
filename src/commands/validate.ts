import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { redact } from '../secrets.js';
import type { ValidateOptions } from '../core/validate/types.js';
import { examples } from './context.js';
import { checkOutputFile } from './output-file.js';
import type { Run } from './index.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
const repeat = (value: string, previous: string[] = []): string[] => [...previous, value];

function positiveInt(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`${name} must be a whole number of at least 1, not "${String(value)}"`);
  return v;
}

/** `auth.users=public.users` or `auth.users=public.users:id=id,email=email_address`. */
export function parseMapping(spec: string): { source: string; target: string; columns?: Record<string, string> } {
  const m = /^([^=:]+\.[^=:]+)=([^=:]+\.[^=:]+)(?::(.+))?$/.exec(spec.trim());
  if (!m) {
    throw new UsageError(`--map "${spec}" is not source_schema.table=target_schema.table[:src_col=tgt_col,…]`, {
      hint: 'e.g. --map auth.users=public.users:id=id,email=email',
    });
  }
  const columns = m[3]
    ? Object.fromEntries(m[3].split(',').map((pair) => {
      const [a, b] = pair.split('=').map((x) => x.trim());
      if (!a || !b) throw new UsageError(`--map "${spec}": column pair "${pair}" is not src_col=tgt_col`);
      return [a, b];
    }))
    : undefined;
  return { source: m[1]!.trim(), target: m[2]!.trim(), ...(columns ? { columns } : {}) };
}

/** --auth-layout and its tables (parsed by the auth layout module, as auth migrate does); undefined: detect on the target. */
async function authLayoutOf(opts: Record<string, unknown>): Promise<ValidateOptions['authLayout']> {
  if (opts.authLayout === undefined) return undefined;
  if (opts.authLayout === 'off') return 'off';
  if (opts.authLayout === 'keep') return { kind: 'keep' };
  const { parseQualifiedName, tableLayout } = await import('../core/auth/layout.js');
  return tableLayout(
    parseQualifiedName('--users-table', String(opts.usersTable ?? 'public.users')),
    parseQualifiedName('--identities-table', String(opts.identitiesTable ?? 'public.identities')),
    (opts.mapColumn as string[] | undefined) ?? []);
}

export function defineValidate(program: Command, run: Run): void {
  program
    .command('validate')
    .description('prove the target holds what the source holds: row counts, content hashes, differing rows, schema diff (exit 3 on differences)')
    .addOption(new Option('--mode <mode>', 'counts: row counts; hash: counts and content hashes; full: also find the differing rows').choices(['counts', 'hash', 'full']).default('full'))
    .option('--tables <list>', 'only these tables (schema.table or table, comma-separated)', collect)
    .option('--exclude-table <name>', 'leave a table out (repeatable, comma-separated)', collect)
    .option('--schemas <list>', 'only these schemas (comma-separated)', collect)
    .option('--map <spec>', 'compare a translated table: src.table=tgt.table[:src_col=tgt_col,…] (repeatable)', repeat)
    .addOption(new Option('--auth-layout <layout>', 'where auth migrate put the users: keep (auth.users), table (--users-table), off; default: detected').choices(['keep', 'table', 'off']))
    .option('--users-table <schema.table>', 'the local users table of --auth-layout table (default public.users)')
    .option('--identities-table <schema.table>', 'the local identities table of --auth-layout table (default public.identities)')
    .option('--map-column <gotrue=local>', 'a renamed column of --auth-layout table, as given to auth migrate (repeatable)', repeat)
    .option('--max-differences <n>', 'differing rows reported per table (default 50)')
    .option('--show-values', 'include the values of differing rows in reports (they may be personal data)')
    .option('--markdown <file>', 'also write a Markdown validation report to this file')
    .option('--junit <file>', 'also write JUnit XML (one test case per table and per schema check) to this file')
    .option('-j, --jobs <n>', 'sessions per side (default 2)')
    .addOption(new Option('--platform <kind>', 'what the source is: auto detects Supabase by its schemas and roles').choices(['auto', 'supabase', 'postgres']))
    .addOption(new Option('--hash <algorithm>', 'row hash: auto (fast server hash when both servers agree on it, else md5) or md5').choices(['auto', 'md5']).default('auto'))
    .option('--skip-schema', 'compare data only')
    .addOption(new Option('--chunk-rows <n>', 'rows per content-hash chunk').hideHelp())
    .addHelpText('after', examples(
      'offramp validate --source "$SUPABASE_DB_URL" --target postgresql://app@db.internal/app',
      'offramp validate --mode counts --json | jq .result.summary',
      'offramp validate --markdown validation.md --junit validation.xml   # CI: exit 3 when anything differs',
      'offramp validate --tables public.posts --show-values --max-differences 5',
    ))
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx, opts) => {
        checkOutputFile('--markdown', opts.markdown);
        checkOutputFile('--junit', opts.junit);
        const jobs = positiveInt('--jobs', opts.jobs);
        const { config } = ctx.config({
          ...(jobs !== undefined ? { jobs } : {}),
          ...(opts.excludeTable ? { excludeTables: opts.excludeTable } : {}),
          ...(opts.schemas ? { schemas: opts.schemas } : {}),
          ...(opts.platform ? { platform: opts.platform } : {}),
        });
        if (!config.source || !config.target) {
          throw new UsageError('validate needs both a source and a target', {
            hint: 'pass --source and --target, or set OFFRAMP_SOURCE_URL / OFFRAMP_TARGET_URL',
          });
        }
        const { validate, renderValidateText, renderValidateMarkdown, renderValidateJunit } = await import('../core/validate/index.js');
        const report = await validate({
          source: config.source,
          target: config.target,
          mode: opts.mode as 'counts' | 'hash' | 'full',
          jobs: config.jobs,
          connectTimeoutSeconds: config.connectTimeoutSeconds,
          platform: config.platform,
          tables: (opts.tables as string[] | undefined) ?? [],
          excludeTables: config.excludeTables,
          schemas: config.schemas,
          excludeSchemas: config.excludeSchemas,
          ownerMap: config.ownerMap,
          extensionsSchema: config.extensionsSchema,
          mappings: ((opts.map as string[] | undefined) ?? []).map(parseMapping),
          authLayout: await authLayoutOf(opts),
          maxDifferences: positiveInt('--max-differences', opts.maxDifferences),
          showValues: Boolean(opts.showValues),
          skipSchema: Boolean(opts.skipSchema),
          hash: opts.hash as 'auto' | 'md5',
          chunkRows: positiveInt('--chunk-rows', opts.chunkRows),
        }, ctx.reporter);
        if (typeof opts.markdown === 'string') {
          writeFileSync(opts.markdown, redact(renderValidateMarkdown(report)));
          ctx.reporter.log('info', `validation report written to ${opts.markdown}`);
        }
        if (typeof opts.junit === 'string') {
          writeFileSync(opts.junit, redact(renderValidateJunit(report)));
          ctx.reporter.log('info', `JUnit report written to ${opts.junit}`);
        }
        return { ok: report.summary.ok, result: report, render: renderValidateText, failExitCode: ExitCode.differences };
      }, options, command),
    );
}
