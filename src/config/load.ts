import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { registerUrlSecrets } from '../secrets.js';
import { ConfigSchema, ENV_KEYS, type Config } from './schema.js';

export const CONFIG_FILE_NAMES = ['offramp.config.yaml', 'offramp.config.yml', 'offramp.config.json'];

export interface LoadConfigOptions {
  /** Explicit --config path; when absent the current directory is searched. */
  configPath?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags (undefined entries are ignored). */
  flags?: Record<string, unknown>;
}

export interface LoadedConfig {
  config: Config;
  /** The config file that was read, if any. */
  file?: string;
}

/** `${VAR}` in config strings is replaced from the environment, so files can stay secret-free. */
function interpolate(value: unknown, env: NodeJS.ProcessEnv, problems: string[], path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const v = env[name];
      if (v === undefined) problems.push(`${path}: environment variable ${name} is not set`);
      return v ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, problems, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, env, problems, path ? `${path}.${k}` : k)]),
    );
  }
  return value;
}

function readConfigFile(file: string, problems: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`${file}: cannot be read (${(error as Error).message})`);
    return {};
  }
  try {
    // yaml is loaded only when a YAML file is there to read (it costs ~20 ms at every start).
    const parsed: unknown = file.endsWith('.json') ? JSON.parse(text) : (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`${file}: must contain a mapping of settings`);
      return {};
    }
    return parsed as Record<string, unknown>;
  } catch (error) {
    problems.push(`${file}: is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'} (${(error as Error).message.split('\n')[0]})`);
    return {};
  }
}

function formatIssues(issues: z.core.$ZodIssue[], origin: (key: string) => string): string[] {
  return issues.map((issue) => {
    const key = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return `unknown setting${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}${key ? ` in ${key}` : ''}`;
    }
    return `${key || '(root)'}: ${issue.message}${key ? ` (from ${origin(key.split('.')[0] ?? key)})` : ''}`;
  });
}

/**
 * Merge defaults < file < environment < flags, validate once, and report every problem together.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const origins = new Map<string, string>();

  let file: string | undefined;
  if (options.configPath) {
    file = resolve(cwd, options.configPath);
    if (!existsSync(file)) problems.push(`config file ${options.configPath} does not exist`);
  } else {
    file = CONFIG_FILE_NAMES.map((n) => resolve(cwd, n)).find((p) => existsSync(p));
  }
  let fromFile: Record<string, unknown> = {};
  if (file && existsSync(file)) {
    fromFile = interpolate(readConfigFile(file, problems), env, problems, '') as Record<string, unknown>;
    for (const k of Object.keys(fromFile)) origins.set(k, file);
  }

  const fromEnv: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v !== undefined && v !== '') {
      fromEnv[key] = v;
      origins.set(key, `environment ${name}`);
    }
  }

  const fromFlags: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options.flags ?? {})) {
    if (v !== undefined) {
      fromFlags[k] = v;
      origins.set(k, `flag --${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    }
  }

  const merged = { ...fromFile, ...fromEnv, ...fromFlags };
  registerUrlSecrets(typeof merged.source === 'string' ? merged.source : undefined);
  registerUrlSecrets(typeof merged.target === 'string' ? merged.target : undefined);

  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) problems.push(...formatIssues(parsed.error.issues, (k) => origins.get(k) ?? 'defaults'));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return { config: parsed.data, file };
}
