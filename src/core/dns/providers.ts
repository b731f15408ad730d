/**
 * STUB — placeholder from the runbook branch, to be REPLACED by the dns engineer's providers.ts at
 * merge. It holds only the contract's shape (schema, types, makeProvider) so the runbook's
 * dns-update step compiles and validates its `provider:` block; makeProvider refuses to work.
 */
import { z } from 'zod';
import { EnvironmentError } from '../../errors.js';
import type { DnsProvider } from './types.js';

export type ProviderConfig =
  | { type: 'rfc2136'; server: string; zone: string; tsig?: { name: string; algorithm?: string; secretEnv?: string; secretFile?: string } }
  | { type: 'cloudflare'; zoneId: string; tokenEnv?: string; tokenFile?: string; baseUrl?: string }
  | { type: 'route53'; hostedZoneId: string; region?: string; endpoint?: string }
  | { type: 'manual' };

export const ProviderConfigSchema: z.ZodType<ProviderConfig> = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('rfc2136'),
    server: z.string().min(1),
    zone: z.string().min(1),
    tsig: z.strictObject({ name: z.string().min(1), algorithm: z.string().optional(), secretEnv: z.string().optional(), secretFile: z.string().optional() }).optional(),
  }),
  z.strictObject({ type: z.literal('cloudflare'), zoneId: z.string().min(1), tokenEnv: z.string().optional(), tokenFile: z.string().optional(), baseUrl: z.string().optional() }),
  z.strictObject({ type: z.literal('route53'), hostedZoneId: z.string().min(1), region: z.string().optional(), endpoint: z.string().optional() }),
  z.strictObject({ type: z.literal('manual') }),
]);

export function makeProvider(
  config: ProviderConfig,
  _io: { env: NodeJS.ProcessEnv; confirm(message: string): Promise<boolean>; log(message: string): void },
): DnsProvider {
  throw new EnvironmentError(`the DNS provider "${config.type}" is not available in this build`, {
    hint: 'this build carries the stub of src/core/dns/providers.ts; the DNS providers arrive with the dns work',
  });
}
