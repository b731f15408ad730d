/**
 * What `offramp watch` watches and when a trigger fires. Defaults are the reference migration's
 * four rollback triggers: error rate above 5 % for more than 10 minutes, database corruption
 * detected, a critical security vulnerability (a person says so), performance degraded by more
 * than 50 %. A small YAML file (`--watch-config`) or flags change thresholds and windows.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';

const seconds = z.number().nonnegative();
const percent = z.number().positive().max(10_000);

export const WatchConfigSchema = z.strictObject({
  /** Seconds between two evaluations. */
  interval: z.number().positive().default(10),
  errorRate: z.strictObject({
    enabled: z.boolean().default(true),
    /** Percent of requests answered 5xx (or not at all, for the probe). */
    threshold: percent.default(5),
    /** The rate is computed over the requests of the last `window` seconds. */
    window: z.number().positive().default(60),
    /** …and must stay above the threshold for `for` seconds before the trigger fires. */
    for: seconds.default(600),
    /** Fewer requests than this in the window: not enough to judge (no data). */
    minRequests: z.number().int().positive().default(20),
  }).prefault({}),
  latency: z.strictObject({
    enabled: z.boolean().default(true),
    /** Percent slower than the baseline at the same percentile. */
    threshold: percent.default(50),
    percentile: z.number().min(1).max(100).default(95),
    window: z.number().positive().default(60),
    for: seconds.default(600),
    minSamples: z.number().int().positive().default(10),
  }).prefault({}),
  validation: z.strictObject({
    enabled: z.boolean().default(true),
    /** Seconds between two validations. */
    every: z.number().positive().default(300),
    mode: z.enum(['counts', 'hash', 'full']).default('counts'),
    /**
     * lost-rows: fire on rows or tables the target lost (fewer rows, rows missing), not on rows
     * written since the cutover; exact: fire on any difference (for a window with no writes).
     */
    policy: z.enum(['lost-rows', 'exact']).default('lost-rows'),
    tables: z.array(z.string()).default([]),
    for: seconds.default(0),
  }).prefault({}),
  manual: z.strictObject({
    /** Names a person may fire with `offramp watch trigger NAME --reason …`. */
    names: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes')).default(['security']),
  }).prefault({}),
});

export type WatchConfig = z.output<typeof WatchConfigSchema>;
export type WatchConfigInput = z.input<typeof WatchConfigSchema>;

export function defaultWatchConfig(): WatchConfig {
  return WatchConfigSchema.parse({});
}

/** Merge a YAML file (optional) and flag overrides; every problem is reported at once. */
export function loadWatchConfig(file: string | undefined, overrides: WatchConfigInput = {}): WatchConfig {
  let fromFile: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError([`${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`], { hint: 'pass an existing watch config file, or none for the defaults' });
    }
    fromFile = parseYaml(text) ?? {};
  }
  const merged = deepMerge(fromFile, overrides);
  const parsed = WatchConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${file ?? 'watch settings'}: ${i.path.join('.') || '(top)'}: ${i.message}`), {
      hint: 'see README "offramp watch" for the settings and their defaults',
    });
  }
  return parsed.data;
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlain(base) || !isPlain(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) if (v !== undefined) out[k] = deepMerge(out[k], v);
  return out;
}
const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
