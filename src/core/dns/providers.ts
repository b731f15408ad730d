/**
 * Provider configuration (the `provider:` block of a dns-update step, or config) and the factory.
 * Credentials are never inline: a TSIG secret or API token is read from an environment variable
 * or a file when the provider is made, and registered with src/secrets.ts so every output masks it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, DnsError } from '../../errors.js';
import { registerSecret } from '../../secrets.js';
import { CloudflareProvider } from './cloudflare.js';
import { ManualProvider } from './manual.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { Rfc2136Provider } from './rfc2136.js';
import { Route53Provider } from './route53.js';
import { TSIG_ALGORITHMS, type TsigAlgorithm, type TsigKey } from './tsig.js';
import type { DnsProvider } from './types.js';

export type ProviderConfig =
  | { type: 'rfc2136'; server: string /* host or host:port */; zone: string; tsig?: { name: string; algorithm?: string /* default hmac-sha256 */; secretEnv?: string; secretFile?: string } }
  | { type: 'cloudflare'; zoneId: string; tokenEnv?: string /* default CLOUDFLARE_API_TOKEN */; tokenFile?: string; baseUrl?: string /* for stand-ins */ }
  | { type: 'route53'; hostedZoneId: string; region?: string; endpoint?: string /* for stand-ins */ /* credentials: the AWS SDK's own env/file chain */ }
  | { type: 'manual'; /** verify with this resolver (host or host:port); default the system's */ resolver?: string };

/** Keys that would carry a credential inline: refused with a message saying where it belongs. */
const INLINE_SECRET_KEYS = ['secret', 'token', 'apiToken', 'password', 'key', 'accessKey', 'secretAccessKey', 'accessKeyId'];

const noInlineSecrets = (where: string) => (value: unknown, ctx: z.RefinementCtx): void => {
  if (!value || typeof value !== 'object') return;
  for (const k of INLINE_SECRET_KEYS) {
    if (k in value) {
      ctx.addIssue({ code: 'custom', path: [k], message: `credentials are never written inline in ${where}: use ${where === 'tsig' ? 'secretEnv (an environment variable name) or secretFile' : where === 'cloudflare' ? 'tokenEnv or tokenFile' : 'the AWS SDK\'s environment variables or shared files'}` });
    }
  }
};

const nonEmpty = z.string().trim().min(1);

const TsigSchema = z.looseObject({
  name: nonEmpty,
  algorithm: z.enum(Object.keys(TSIG_ALGORITHMS) as [TsigAlgorithm, ...TsigAlgorithm[]]).optional(),
  secretEnv: nonEmpty.optional(),
  secretFile: nonEmpty.optional(),
}).superRefine((v, ctx) => {
  noInlineSecrets('tsig')(v, ctx);
  for (const k of Object.keys(v)) {
    if (!['name', 'algorithm', 'secretEnv', 'secretFile', ...INLINE_SECRET_KEYS].includes(k)) ctx.addIssue({ code: 'custom', path: [k], message: `unknown tsig setting "${k}" (allowed: name, algorithm, secretEnv, secretFile)` });
  }
  if (!v.secretEnv === !v.secretFile) ctx.addIssue({ code: 'custom', message: 'tsig needs exactly one of secretEnv (an environment variable name) or secretFile' });
});

const schemaFor = (where: string, shape: z.ZodRawShape) => z.looseObject(shape).superRefine(noInlineSecrets(where));

export const ProviderConfigSchema: z.ZodType<ProviderConfig> = z.discriminatedUnion('type', [
  schemaFor('tsig', { type: z.literal('rfc2136'), server: nonEmpty, zone: nonEmpty, tsig: TsigSchema.optional() }),
  schemaFor('cloudflare', { type: z.literal('cloudflare'), zoneId: nonEmpty, tokenEnv: nonEmpty.optional(), tokenFile: nonEmpty.optional(), baseUrl: z.url().optional() }),
  schemaFor('route53', { type: z.literal('route53'), hostedZoneId: nonEmpty, region: nonEmpty.optional(), endpoint: z.url().optional() }),
  schemaFor('manual', { type: z.literal('manual'), resolver: nonEmpty.optional() }),
]).superRefine((v, ctx) => {
  // Unknown keys are refused (a typo must not silently drop a setting); inline secrets got their own message above.
  const allowed: Record<string, string[]> = {
    rfc2136: ['type', 'server', 'zone', 'tsig'], cloudflare: ['type', 'zoneId', 'tokenEnv', 'tokenFile', 'baseUrl'],
    route53: ['type', 'hostedZoneId', 'region', 'endpoint'], manual: ['type', 'resolver'],
  };
  const type = String((v as { type: unknown }).type);
  for (const k of Object.keys(v)) {
    if (!allowed[type]!.includes(k) && !INLINE_SECRET_KEYS.includes(k)) ctx.addIssue({ code: 'custom', path: [k], message: `unknown setting "${k}" for a ${type} provider (allowed: ${allowed[type]!.join(', ')})` });
  }
}) as unknown as z.ZodType<ProviderConfig>;

export interface ProviderIo {
  env: NodeJS.ProcessEnv;
  confirm(message: string): Promise<boolean>;
  log(message: string): void;
}

/** Knobs tests and callers may turn; the defaults suit real providers. */
export interface ProviderTuning {
  retry?: Partial<RetryPolicy>;
  /** Per request (DNS message or API call). Default 10 s. */
  timeoutMs?: number;
  /** Route 53: GetChange polling interval (default 5 s) and how long to wait for INSYNC (default 10 min). */
  pollIntervalMs?: number;
  changeTimeoutMs?: number;
}

/** A secret from an environment variable or a file; registered for masking before anything can print it. */
function readSecret(what: string, env: NodeJS.ProcessEnv, envName: string | undefined, file: string | undefined, hint: string): string {
  let value: string | undefined;
  if (file) {
    try {
      value = readFileSync(file, 'utf8');
    } catch (error) {
      throw new DnsError('credentials-missing', `cannot read the ${what} file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { hint, cause: error });
    }
  } else if (envName) {
    value = env[envName];
    if (!value) throw new DnsError('credentials-missing', `the environment variable ${envName} (${what}) is not set`, { hint });
  }
  const trimmed = value?.trim() ?? '';
  if (!trimmed) throw new DnsError('credentials-missing', `the ${what} is empty`, { hint });
  registerSecret(trimmed);
  return trimmed;
}

/** A TSIG secret file may be a BIND key statement (`key "n" { algorithm …; secret "…"; };`) or the bare base64 secret. */
function tsigSecretFrom(text: string): string {
  const statement = /secret\s+"([^"]+)"/.exec(text);
  const secret = statement ? statement[1]! : text.trim();
  registerSecret(secret);
  return secret;
}

export function makeProvider(config: ProviderConfig, io: ProviderIo, tuning: ProviderTuning = {}): DnsProvider {
  const parsed = ProviderConfigSchema.safeParse(config);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `provider.${i.path.join('.') || 'type'}: ${i.message}`), {
      hint: 'see README "offramp watch and DNS providers" for the settings of each provider type',
    });
  }
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...tuning.retry };
  const timeoutMs = tuning.timeoutMs ?? 10_000;
  switch (config.type) {
    case 'rfc2136': {
      let key: TsigKey | undefined;
      if (config.tsig) {
        const raw = readSecret(`TSIG secret of key "${config.tsig.name}"`, io.env, config.tsig.secretEnv, config.tsig.secretFile,
          'give the key\'s base64 secret (as in the server\'s key statement) through tsig.secretEnv or tsig.secretFile');
        const secret = Buffer.from(tsigSecretFrom(raw), 'base64');
        if (secret.length === 0) throw new DnsError('credentials-missing', `the TSIG secret of key "${config.tsig.name}" is not base64`, { hint: 'copy the secret "…" value from the key statement' });
        key = { name: config.tsig.name, algorithm: (config.tsig.algorithm ?? 'hmac-sha256') as TsigAlgorithm, secret };
      }
      return new Rfc2136Provider({ server: config.server, zone: config.zone, key, timeoutMs });
    }
    case 'cloudflare': {
      const tokenEnv = config.tokenFile ? undefined : (config.tokenEnv ?? 'CLOUDFLARE_API_TOKEN');
      const token = readSecret('Cloudflare API token', io.env, tokenEnv, config.tokenFile, 'create an API token with Zone:DNS:Edit and give it through CLOUDFLARE_API_TOKEN, tokenEnv or tokenFile');
      return new CloudflareProvider({ zoneId: config.zoneId, token, baseUrl: config.baseUrl, retry, timeoutMs, log: io.log });
    }
    case 'route53': {
      // The SDK reads process.env itself; io.env is honoured when it carries keys of its own (tests, embedding).
      const accessKeyId = io.env.AWS_ACCESS_KEY_ID;
      const secretAccessKey = io.env.AWS_SECRET_ACCESS_KEY;
      const sessionToken = io.env.AWS_SESSION_TOKEN;
      for (const s of [secretAccessKey, sessionToken, process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN]) registerSecret(s);
      const credentials = accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } : undefined;
      return new Route53Provider({
        hostedZoneId: config.hostedZoneId, region: config.region, endpoint: config.endpoint, credentials, retry, timeoutMs,
        pollIntervalMs: tuning.pollIntervalMs ?? 5_000, changeTimeoutMs: tuning.changeTimeoutMs ?? 600_000, log: io.log,
      });
    }
    case 'manual':
      return new ManualProvider({ resolver: config.resolver, timeoutMs, confirm: io.confirm, log: io.log });
  }
}
