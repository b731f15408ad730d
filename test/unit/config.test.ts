import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { redact } from '../../src/secrets.js';

function dir(files: Record<string, string> = {}): string {
  const d = mkdtempSync(join(tmpdir(), 'offramp-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

describe('loadConfig', () => {
  it('applies defaults < file < environment < flags', () => {
    const cwd = dir({ 'offramp.config.yaml': 'jobs: 3\nworkDir: from-file\nplatform: supabase\n' });
    const { config, file } = loadConfig({
      cwd,
      env: { OFFRAMP_WORK_DIR: 'from-env', OFFRAMP_SOURCE_URL: 'postgresql://u@h/db' },
      flags: { jobs: 5, source: undefined },
    });
    expect(file).toBe(join(cwd, 'offramp.config.yaml'));
    expect(config.jobs).toBe(5); // flag beats file
    expect(config.workDir).toBe('from-env'); // env beats file
    expect(config.platform).toBe('supabase'); // file beats default
    expect(config.source).toBe('postgresql://u@h/db');
    expect(config.extensionsSchema).toBe('extensions'); // default
  });

  it('reads JSON config files and interpolates ${VAR} from the environment', () => {
    const cwd = dir({ 'offramp.config.json': JSON.stringify({ target: '${TGT}' }) });
    const { config } = loadConfig({ cwd, env: { TGT: 'postgresql://app@db:5432/app' } });
    expect(config.target).toBe('postgresql://app@db:5432/app');
  });

  it('rejects unknown keys and reports every problem at once', () => {
    const cwd = dir({ 'offramp.config.yaml': 'sourse: postgresql://x\njobs: -1\nplatform: mysql\ntarget: ${NOPE}\n' });
    let error: unknown;
    try {
      loadConfig({ cwd, env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/unknown setting "sourse"/);
    expect(problems).toMatch(/jobs/);
    expect(problems).toMatch(/platform/);
    expect(problems).toMatch(/NOPE is not set/);
    expect((error as ConfigError).exitCode).toBe(2);
  });

  it('names a malformed YAML file and a missing --config file', () => {
    const cwd = dir({ 'bad.yaml': 'jobs: [1,\n' });
    expect(() => loadConfig({ cwd, configPath: 'bad.yaml', env: {} })).toThrow(/bad.yaml: is not valid YAML/);
    expect(() => loadConfig({ cwd, configPath: 'missing.yaml', env: {} })).toThrow(/missing.yaml does not exist/);
  });

  it('registers passwords from URLs so they are masked everywhere afterwards', () => {
    loadConfig({ cwd: dir(), env: {}, flags: { source: 'postgresql://postgres:s3cr3t-pw!@db.example.invalid:5432/postgres' } });
    expect(redact('connecting with s3cr3t-pw! now')).toBe('connecting with **** now');
  });
});
