import { Option, type Command } from 'commander';
import { ExitCode, UsageError } from '../errors.js';
import { registerSecret } from '../secrets.js';
import { examples } from './context.js';
import type { Run } from './index.js';

const repeat = (value: string, previous: string[] = []): string[] => [...previous, value];

export function defineAuthVerify(auth: Command, run: Run): void {
  auth
    .command('verify')
    .description('password and token continuity: every hash equal on the target, sample passwords and tokens accepted (exit 3 when not)')
    .addOption(new Option('--layout <layout>', 'the layout auth migrate used: keep (auth.users) or table').choices(['keep', 'table']).default('keep'))
    .option('--users-table <schema.table>', 'with --layout table: the local users table (default public.users)')
    .option('--identities-table <schema.table>', 'with --layout table: the local identities table (default public.identities)')
    .option('--map-column <gotrue=local>', 'with --layout table: a renamed column, as given to auth migrate (repeatable)', repeat)
    .option('--check-password <email:password>', 'check this password against the migrated hash (repeatable)', repeat)
    .option('--check-password-file <file>', 'passwords to check: lines of email<TAB>password, or JSON')
    .option('--jwt-secret-env <VAR>', "the environment variable holding the project's HS256 JWT secret")
    .option('--jwks <file|url>', "the project's signing keys (JWKS: ES256 / RS256)")
    .option('--token-file <file>', 'access tokens to verify, one per line')
    .option('--token-env <VAR>', 'the environment variable holding an access token (or several, one per line)')
    .option('--aud <audience>', 'the audience tokens must carry', 'authenticated')
    .addHelpText('after', examples(
      'offramp auth verify --source "$SUPABASE_DB_URL" --target postgresql://app@db.internal/app --check-password-file sample-users.tsv',
      'JWT_SECRET=… offramp auth verify --jwt-secret-env JWT_SECRET --token-file tokens.txt',
      'offramp auth verify --jwks https://<project>.supabase.co/auth/v1/.well-known/jwks.json --token-env ACCESS_TOKEN',
    ))
    .action((options: Record<string, unknown>, command: Command) =>
      run(async (ctx, opts) => {
        const { config } = ctx.config();
        if (!config.source || !config.target) {
          throw new UsageError('auth verify needs both a source and a target', { hint: 'pass --source and --target, or set OFFRAMP_SOURCE_URL / OFFRAMP_TARGET_URL' });
        }
        const input = await import('../core/auth/verify-input.js');
        const passwords = [
          ...((opts.checkPassword as string[] | undefined) ?? []).map(input.parsePasswordPair),
          ...(typeof opts.checkPasswordFile === 'string' ? input.readPasswordFile(opts.checkPasswordFile) : []),
        ];
        const envValue = (name: unknown, flag: string): string => {
          const value = process.env[String(name)];
          if (!value) throw new UsageError(`${flag} ${String(name)}: the variable is not set`, { hint: `export ${String(name)}=… before running (the value is never printed)` });
          registerSecret(value);
          return value;
        };
        const jwtSecret = opts.jwtSecretEnv ? envValue(opts.jwtSecretEnv, '--jwt-secret-env') : undefined;
        const tokens = [
          ...(typeof opts.tokenFile === 'string' ? input.readTokenFile(opts.tokenFile) : []),
          ...(opts.tokenEnv ? input.splitTokens(envValue(opts.tokenEnv, '--token-env')) : []),
        ];
        const jwks = typeof opts.jwks === 'string' ? await input.loadJwks(opts.jwks) : undefined;
        const { parseQualifiedName, tableLayout } = await import('../core/auth/layout.js');
        const layout = opts.layout === 'table'
          ? tableLayout(
            parseQualifiedName('--users-table', String(opts.usersTable ?? 'public.users')),
            parseQualifiedName('--identities-table', String(opts.identitiesTable ?? 'public.identities')),
            (opts.mapColumn as string[] | undefined) ?? [])
          : { kind: 'keep' as const };
        const { authVerify } = await import('../core/auth/verify.js');
        const { renderAuthVerifyText } = await import('../core/auth/verify-render.js');
        const report = await authVerify({
          source: config.source,
          target: config.target,
          connectTimeoutSeconds: config.connectTimeoutSeconds,
          layout,
          passwords,
          tokens,
          jwtSecret,
          jwks,
          audience: String(opts.aud),
        }, ctx.reporter);
        return { ok: report.ok && report.badInput.length === 0, result: report, render: renderAuthVerifyText,
          failExitCode: report.badInput.length ? ExitCode.usage : ExitCode.differences };
      }, options, command),
    );
}
