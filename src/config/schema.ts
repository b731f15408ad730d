import { z } from 'zod';

/**
 * The configuration every command shares. Precedence (lowest first): these defaults <
 * offramp.config.{yaml,json} < OFFRAMP_* environment < command-line flags. Unknown keys are
 * rejected so that a typo never silently falls back to a default.
 */
const connectionUrl = z
  .string()
  .min(1)
  .refine((v) => /^postgres(ql)?:\/\//i.test(v), {
    message: 'must be a postgresql:// or postgres:// URL',
  });

export const ConfigSchema = z.strictObject({
  /** Connection URL of the Supabase (source) database. Read only, ever. */
  source: connectionUrl.optional().describe('source connection URL (the Supabase database)'),
  /** Connection URL of the self-hosted (target) database. */
  target: connectionUrl.optional().describe('target connection URL (the self-hosted PostgreSQL)'),
  /** What the source is; `auto` detects Supabase by its roles and schemas. */
  platform: z.enum(['auto', 'supabase', 'postgres']).default('auto'),
  /** Directory for journals, dumps and reports. */
  workDir: z.string().min(1).default('.offramp'),
  /** Parallel workers for data movement and validation. */
  jobs: z.coerce.number().int().min(1).max(64).optional(),
  /** Seconds to wait for a connection before diagnosing a timeout. */
  connectTimeoutSeconds: z.coerce.number().int().min(1).max(300).default(10),
  /** Schema on the target that holds extensions (Supabase keeps them in `extensions`). */
  extensionsSchema: z.string().min(1).default('extensions'),
  /** Source owner → target owner; unmapped owners become the target's connecting role. */
  ownerMap: z.record(z.string(), z.string()).default({}),
  /** Only these user schemas (empty: every non-managed schema). */
  schemas: z.array(z.string()).default([]),
  excludeSchemas: z.array(z.string()).default([]),
  excludeTables: z.array(z.string()).default([]),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Environment variables that map onto config keys. */
export const ENV_KEYS: Record<string, keyof ConfigInput> = {
  OFFRAMP_SOURCE_URL: 'source',
  OFFRAMP_TARGET_URL: 'target',
  OFFRAMP_PLATFORM: 'platform',
  OFFRAMP_WORK_DIR: 'workDir',
  OFFRAMP_JOBS: 'jobs',
  OFFRAMP_CONNECT_TIMEOUT: 'connectTimeoutSeconds',
  OFFRAMP_EXTENSIONS_SCHEMA: 'extensionsSchema',
};
