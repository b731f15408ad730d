/**
 * Throwaway PostgreSQL servers on free loopback ports, made with the machine's own PostgreSQL
 * binaries (initdb + pg_ctl). Used by `offramp demo` and by the test bed. When running as root the
 * servers run as an unprivileged OS user, because postgres refuses to run as root.
 *
 * "Flavours" are installations that differ only in which extensions they offer: `system` is the
 * machine's installation as it is; `supabase` adds the stand-ins for platform-only extensions from
 * fixtures/extensions (so the source can have an extension a plain target lacks); `bare` hides
 * PostGIS (a target that lacks it). A flavour is a directory of hard links to the real binaries
 * and symbolic links to the real share and library files: postgres finds its share directory
 * relative to its own executable, so no file of the system installation is touched.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError, ExternalToolError } from '../errors.js';
import { registerSecret } from '../secrets.js';
import { PACKAGE_ROOT } from '../version.js';

export type Flavour = 'system' | 'supabase' | 'bare';

export const SERVER_OS_USER = 'offramp-pg';

export interface StartClusterOptions {
  flavour?: Flavour;
  /** Extra postgresql.conf settings. */
  settings?: Record<string, string | number>;
  /** Directory under which the data directory is made (default: the OS temp dir). */
  baseDir?: string;
  /**
   * Name of the bootstrap superuser (initdb -U). Default: `supabase_admin` for the `supabase`
   * flavour (as on the platform, where `postgres` is a non-superuser), `postgres` otherwise.
   */
  superuser?: string;
}

export interface LocalCluster {
  flavour: Flavour;
  port: number;
  dataDir: string;
  /** Bootstrap superuser's URL of the `postgres` database (password included: register it as a secret). */
  url: string;
  /** The bootstrap superuser's name (see StartClusterOptions.superuser). */
  superuser: string;
  password: string;
  /** URL of another database on the same server. */
  urlFor(database: string): string;
  createDatabase(name: string): Promise<string>;
  /** Restart the server on the same port (fault tests): `fast` ends sessions politely, `immediate` as a crash would. */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  stop(): Promise<void>;
}

interface Installation {
  bin: string;
  share: string;
  lib: string;
  major: number;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** The newest PostgreSQL server installation on this machine (or OFFRAMP_PG_BIN). */
export function findSystemInstallation(): Installation {
  const candidates: string[] = [];
  if (process.env.OFFRAMP_PG_BIN) candidates.push(process.env.OFFRAMP_PG_BIN);
  if (existsSync('/usr/lib/postgresql')) {
    for (const v of readdirSync('/usr/lib/postgresql').filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a))) {
      candidates.push(`/usr/lib/postgresql/${v}/bin`);
    }
  }
  candidates.push('/usr/local/pgsql/bin');
  const bin = candidates.find((c) => existsSync(join(c, 'initdb')) && existsSync(join(c, 'postgres')));
  if (!bin) {
    throw new EnvironmentError('no PostgreSQL server binaries (initdb, postgres) found on this machine', {
      hint: 'install them (Debian: apt-get install postgresql-15 postgresql-15-postgis-3) or set OFFRAMP_PG_BIN to their bin directory',
    });
  }
  const version = execFileSync(join(bin, 'postgres'), ['-V'], { encoding: 'utf8' });
  const major = Number(/(\d+)(?:\.\d+)?/.exec(version)?.[1] ?? '0');
  const root = dirname(dirname(dirname(dirname(bin)))); // /usr/lib/postgresql/15/bin → /usr
  const debianShare = join(root, 'share', 'postgresql', String(major));
  const share = existsSync(join(debianShare, 'postgres.bki')) ? debianShare : join(dirname(bin), 'share');
  const debianLib = join(dirname(bin), 'lib');
  const lib = existsSync(debianLib) ? debianLib : join(dirname(dirname(bin)), 'lib');
  return { bin, share, lib, major };
}

/** Whether an extension is available to a server of this flavour. */
export function flavourHasExtension(flavour: Flavour, name: string): boolean {
  const inst = prepareInstallation(flavour);
  return existsSync(join(inst.share, 'extension', `${name}.control`));
}

function standInExtensionFiles(): string[] {
  const dir = join(PACKAGE_ROOT, 'fixtures', 'extensions');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.control') || f.endsWith('.sql')).map((f) => join(dir, f)) : [];
}

/** Longest common directory of some absolute paths. */
function commonPrefix(paths: string[]): string {
  const split = paths.map((p) => p.split('/'));
  const out: string[] = [];
  for (let i = 0; split.every((s) => s[i] !== undefined && s[i] === split[0]![i]); i++) out.push(split[0]![i]!);
  return out.join('/') || '/';
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
    chmodSync(to, 0o755);
  }
}

/** Build (once, cached in the temp dir) the installation directory of a flavour. */
export function prepareInstallation(flavour: Flavour): Installation {
  const system = findSystemInstallation();
  if (flavour === 'system') return system;
  const extras = flavour === 'supabase' ? standInExtensionFiles() : [];
  const key = createHash('sha256')
    // The system's extension files are part of the key: installing PostGIS later must not leave a stale flavour.
    .update([flavour, system.bin, ...readdirSync(join(system.share, 'extension')), ...extras.map((f) => `${f}:${readFileSync(f, 'utf8')}`)].join('\n'))
    .digest('hex')
    .slice(0, 12);
  const root = join(tmpdir(), 'offramp-pg-installs', `pg${system.major}-${flavour}-${key}`);
  // Mirror the system layout under root so postgres' relative path logic finds share/ and lib/.
  const prefix = commonPrefix([system.bin, system.share, system.lib]);
  const at = (p: string): string => join(root, relative(prefix, p));
  const inst: Installation = { bin: at(system.bin), share: at(system.share), lib: at(system.lib), major: system.major };
  if (existsSync(join(inst.bin, 'postgres'))) return inst;

  mkdirSync(dirname(root), { recursive: true, mode: 0o755 });
  chmodSync(dirname(root), 0o755);
  const staging = mkdtempSync(`${root}.tmp-`);
  try {
    buildInstallation(staging, prefix, system, flavour, extras);
    renameSync(staging, root);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another process may have won the race to build the same flavour.
    if (!existsSync(join(inst.bin, 'postgres'))) throw error;
  }
  return inst;
}

function buildInstallation(staging: string, prefix: string, system: Installation, flavour: Flavour, extras: string[]): void {
  const st = (p: string): string => join(staging, relative(prefix, p));
  mkdirSync(st(system.bin), { recursive: true });
  for (const f of readdirSync(system.bin)) linkOrCopy(join(system.bin, f), join(st(system.bin), f));
  mkdirSync(dirname(st(system.lib)), { recursive: true });
  if (!existsSync(st(system.lib))) symlinkSync(system.lib, st(system.lib));
  mkdirSync(join(st(system.share), 'extension'), { recursive: true });
  for (const entry of readdirSync(system.share)) {
    if (entry !== 'extension') symlinkSync(join(system.share, entry), join(st(system.share), entry));
  }
  for (const f of readdirSync(join(system.share, 'extension'))) {
    if (flavour === 'bare' && /^postgis/.test(f)) continue;
    symlinkSync(join(system.share, 'extension', f), join(st(system.share), 'extension', f));
  }
  for (const f of extras) copyFileSync(f, join(st(system.share), 'extension', f.split('/').pop()!));
  // Every level must be traversable by the unprivileged server user.
  execFileSync('chmod', ['-R', 'a+rX', staging]);
}

function ensureServerUser(): void {
  if (!isRoot()) return;
  const probe = spawnSync('id', ['-u', SERVER_OS_USER]);
  if (probe.status === 0) return;
  const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_OS_USER], { encoding: 'utf8' });
  if (made.status !== 0 && spawnSync('id', ['-u', SERVER_OS_USER]).status !== 0) {
    throw new EnvironmentError(`cannot create the OS user ${SERVER_OS_USER} to run PostgreSQL as: ${made.stderr}`, {
      hint: 'run as a non-root user, or as root with useradd available',
    });
  }
}

/** Run a server binary, as the unprivileged server user when we are root. */
async function runAsServerUser(binary: string, args: string[]): Promise<void> {
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', SERVER_OS_USER, '--', binary, ...args]] : [binary, args];
  const result = await execa(cmd, argv, { reject: false, all: true, env: { LC_ALL: 'C.UTF-8' } });
  if (result.exitCode !== 0) {
    throw new ExternalToolError(`${binary.split('/').pop()} failed (exit ${result.exitCode}): ${String(result.all ?? '').trim().slice(-2000)}`, {
      hint: 'see the server log in the data directory',
    });
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const running = new Set<{ bin: string; dataDir: string; base: string }>();
let exitHookInstalled = false;

function stopAllNow(): void {
  for (const c of running) {
    const args = ['-D', c.dataDir, '-m', 'immediate', 'stop'];
    if (isRoot()) spawnSync('runuser', ['-u', SERVER_OS_USER, '--', join(c.bin, 'pg_ctl'), ...args]);
    else spawnSync(join(c.bin, 'pg_ctl'), args);
    rmSync(c.base, { recursive: true, force: true });
  }
  running.clear();
}

/**
 * Servers left running when the process ends are stopped synchronously: on a normal exit or a
 * crash ('exit'), and on ^C / kill (the signal is re-raised afterwards, so the exit status stays
 * what the signal makes it).
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', stopAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      stopAllNow();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** initdb + start a new server; resolves when it accepts connections. */
export async function startCluster(options: StartClusterOptions = {}): Promise<LocalCluster> {
  const flavour = options.flavour ?? 'system';
  const superuser = options.superuser ?? (flavour === 'supabase' ? 'supabase_admin' : 'postgres');
  const inst = prepareInstallation(flavour);
  ensureServerUser();
  const parent = options.baseDir ?? tmpdir();
  const base = mkdtempSync(join(parent, 'offramp-pg-'));
  chmodSync(base, 0o755);
  const dataDir = join(base, 'data');
  const password = randomBytes(12).toString('hex');
  registerSecret(password);
  const pwfile = join(base, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', SERVER_OS_USER], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', SERVER_OS_USER], { encoding: 'utf8' }).trim());
    chownSync(base, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  await runAsServerUser(join(inst.bin, 'initdb'), [
    '-D', dataDir, '-U', superuser, `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256',
    '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync',
  ]);
  rmSync(pwfile, { force: true });

  const handle = { bin: inst.bin, dataDir, base };
  running.add(handle);
  installExitHook();
  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    port = await freePort();
    const settings: Record<string, string | number> = {
      listen_addresses: "'127.0.0.1'",
      port,
      unix_socket_directories: `'${dataDir}'`,
      // Throwaway servers: durability is not needed, speed is.
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      shared_buffers: "'128MB'",
      max_connections: 60,
      wal_level: 'logical',
      max_wal_senders: 4,
      max_replication_slots: 4,
      timezone: "'UTC'",
      log_min_messages: 'warning',
      ...options.settings,
    };
    const conf = Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join('\n');
    await runAsServerUser('/bin/sh', ['-c', `cat > '${dataDir}/offramp.conf' <<'EOF'\n${conf}\nEOF\ngrep -q offramp.conf '${dataDir}/postgresql.conf' || echo "include 'offramp.conf'" >> '${dataDir}/postgresql.conf'`]);
    try {
      await runAsServerUser(join(inst.bin, 'pg_ctl'), ['-D', dataDir, '-l', join(dataDir, 'server.log'), '-w', '-t', '60', 'start']);
      lastError = undefined;
      break;
    } catch (error) {
      lastError = error; // most likely the port was taken between probe and start: try another
    }
  }
  if (lastError) {
    running.delete(handle);
    rmSync(base, { recursive: true, force: true });
    throw lastError;
  }
  const urlFor = (database: string): string => `postgresql://${superuser}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  const cluster: LocalCluster = {
    flavour,
    port,
    dataDir,
    password,
    superuser,
    url: urlFor('postgres'),
    urlFor,
    async createDatabase(name: string): Promise<string> {
      const { withClient } = await import('./connect.js');
      await withClient(urlFor('postgres'), { role: 'admin' }, (c) => c.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`));
      return urlFor(name);
    },
    async restart(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
      await runAsServerUser(join(inst.bin, 'pg_ctl'), ['-D', dataDir, '-l', join(dataDir, 'server.log'), '-m', mode, '-w', '-t', '60', 'restart']);
    },
    async stop(): Promise<void> {
      if (!running.has(handle)) return;
      running.delete(handle);
      await runAsServerUser(join(inst.bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', 'stop']).catch(() => {});
      rmSync(base, { recursive: true, force: true });
    },
  };
  return cluster;
}
