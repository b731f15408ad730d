/**
 * A real BIND 9 (Debian package bind9) for DNS tests: one primary zone on a free loopback port,
 * a generated TSIG key allowed to update it, recursion off. named runs in the foreground (-g);
 * as root it drops to the `bind` user (-u), which owns the temporary directory so it can write
 * the zone's journal. Stopped by stop(), and on exit/^C/kill like the PostgreSQL test servers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/db/local-cluster.js';
import { resolveRecord } from '../../src/core/dns/resolve.js';
import type { DnsRecordSet } from '../../src/core/dns/types.js';

export interface StartBindOptions {
  /** The zone, e.g. `example.test`. */
  zone: string;
  /** Record sets loaded with the zone (names fully qualified, without the trailing dot). */
  records?: DnsRecordSet[];
  /** TSIG key name and algorithm (default `offramp-test-key`, hmac-sha256); its secret is generated. */
  tsig?: { name?: string; algorithm?: string };
}

export interface BindServer {
  port: number;
  /** '127.0.0.1:PORT' */
  server: string;
  zone: string;
  tsigName: string;
  tsigAlgorithm: string;
  /** Base64 secret of the generated key. */
  tsigSecret: string;
  /** named's output so far (for failed assertions). */
  log(): string;
  stop(): Promise<void>;
}

const NAMED = ['/usr/sbin/named', '/usr/bin/named'].find((p) => existsSync(p));
const isRoot = (): boolean => process.getuid?.() === 0;
const children = new Set<{ child: ChildProcess; dir: string }>();
let hooked = false;

function stopAllNow(): void {
  for (const c of children) {
    c.child.kill('SIGKILL');
    rmSync(c.dir, { recursive: true, force: true });
  }
  children.clear();
}

function installExitHook(): void {
  if (hooked) return;
  hooked = true;
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

export const bindAvailable = (): boolean => NAMED !== undefined;

function zoneFile(zone: string, records: DnsRecordSet[]): string {
  const lines = [
    `$ORIGIN ${zone}.`,
    '$TTL 3600',
    `@ IN SOA ns.${zone}. hostmaster.${zone}. 1 3600 600 86400 60`,
    `@ IN NS ns.${zone}.`,
    'ns IN A 127.0.0.1',
  ];
  for (const r of records) {
    for (const v of r.values) {
      const value = r.type === 'TXT' ? `"${v.replace(/(["\\])/g, '\\$1')}"` : r.type === 'CNAME' ? `${v.replace(/\.$/, '')}.` : v;
      lines.push(`${r.name}. ${r.ttl} IN ${r.type} ${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function startBind(options: StartBindOptions): Promise<BindServer> {
  if (!NAMED) throw new Error('BIND 9 (named) is not installed: apt-get install bind9 bind9-dnsutils (scripts/ensure-setup.mjs does this)');
  const zone = options.zone.replace(/\.$/, '').toLowerCase();
  const tsigName = options.tsig?.name ?? 'offramp-test-key';
  const tsigAlgorithm = options.tsig?.algorithm ?? 'hmac-sha256';
  const tsigSecret = randomBytes(32).toString('base64');
  const dir = mkdtempSync(join(tmpdir(), 'offramp-bind-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'zone.db'), zoneFile(zone, options.records ?? []));
  installExitHook();

  let lastLog = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, 'named.conf'), `
options {
  directory "${dir}";
  pid-file none;
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  allow-transfer { none; };
  dnssec-validation no;
  notify no;
  session-keyfile none;
  managed-keys-directory "${dir}";
};
controls { };
key "${tsigName}" { algorithm ${tsigAlgorithm}; secret "${tsigSecret}"; };
zone "${zone}" { type primary; file "${join(dir, 'zone.db')}"; allow-update { key "${tsigName}"; }; };
`);
    if (isRoot()) {
      // named as root drops to `bind` after binding: that user writes the zone journal here.
      const ids = spawnSync('id', ['bind'], { encoding: 'utf8' });
      if (ids.status === 0) {
        const uid = Number(/uid=(\d+)/.exec(ids.stdout)![1]);
        const gid = Number(/gid=(\d+)/.exec(ids.stdout)![1]);
        for (const f of ['', 'zone.db', 'named.conf']) chownSync(join(dir, f), uid, gid);
      }
    }
    const args = ['-g', '-4', '-c', join(dir, 'named.conf'), ...(isRoot() ? ['-u', 'bind'] : [])];
    const child = spawn(NAMED, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const entry = { child, dir };
    children.add(entry);
    let log = '';
    child.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
    let exited = false;
    child.on('exit', () => { exited = true; });

    const ready = await waitReady(zone, `127.0.0.1:${port}`, () => exited);
    if (ready) {
      return {
        port, server: `127.0.0.1:${port}`, zone, tsigName, tsigAlgorithm, tsigSecret,
        log: () => log,
        async stop(): Promise<void> {
          if (!children.has(entry)) return;
          children.delete(entry);
          if (!exited) {
            const gone = new Promise<void>((r) => child.once('exit', () => r()));
            child.kill('SIGTERM');
            await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
            if (!exited) child.kill('SIGKILL');
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    lastLog = log;
    child.kill('SIGKILL');
    children.delete(entry);
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`BIND 9 did not start:\n${lastLog.slice(-3000)}`);
}

/** Up to 30 s: until the server answers the zone's SOA, or named exits (port taken, bad config). */
async function waitReady(zone: string, server: string, exited: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !exited()) {
    try {
      const r = await resolveRecord(`ns.${zone}`, 'A', server, 500);
      if (r.rcode === 'NOERROR' && r.values.length > 0) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
