import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';

export interface InitResult {
  file: string;
}

/** The commented starting config. Connection URLs are left to the environment on purpose. */
export const INIT_TEMPLATE = `# offramp configuration. Precedence: defaults < this file < OFFRAMP_* environment < flags.
# Unknown keys are rejected. \${VAR} is replaced from the environment, so keep passwords out of this file.

# The Supabase database (read only, ever). Prefer the environment variable OFFRAMP_SOURCE_URL,
# or reference one here. Use the direct connection or the session pooler (port 5432), not 6543.
# source: \${SUPABASE_DB_URL}

# The self-hosted PostgreSQL + PostGIS database. Or set OFFRAMP_TARGET_URL.
# target: \${TARGET_DB_URL}

# auto detects Supabase by its roles and schemas; postgres copies a plain database whole.
platform: auto

# Journals, dumps and reports go here.
workDir: .offramp

# Parallel workers for data movement and validation (default: number of CPU cores).
# jobs: 4

# Seconds before a connection attempt is diagnosed as a timeout.
connectTimeoutSeconds: 10

# Supabase keeps extensions in the schema "extensions"; keep it on the target so that
# extensions.geography and extensions.uuid_generate_v4() keep working.
extensionsSchema: extensions

# Source owner -> target owner. Unmapped owners become the target's connecting role.
ownerMap: {}
#   postgres: app_owner

# Limit or trim what moves.
schemas: []
excludeSchemas: []
excludeTables: []
`;

export function writeInitConfig(options: { file: string; force: boolean; cwd?: string }): InitResult {
  const file = resolve(options.cwd ?? process.cwd(), options.file);
  if (existsSync(file) && !options.force) {
    throw new UsageError(`${options.file} already exists`, { hint: 'pass --force to overwrite it' });
  }
  writeFileSync(file, INIT_TEMPLATE, { flag: options.force ? 'w' : 'wx' });
  return { file };
}
