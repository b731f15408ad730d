#!/usr/bin/env node
// Installs what `npm test` and `npm run demo` need on a fresh machine, and says clearly what is
// missing where it cannot: npm dependencies, then (Debian, as root) the PostgreSQL server and the
// PostGIS package matching its major version, and BIND 9 with dig for the DNS tests.
// Idempotent: does nothing when all is present.
// --no-system: npm dependencies only (for `npm run fixture` against a server of your own).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const say = (m) => process.stderr.write(`[setup] ${m}\n`);
const isRoot = process.getuid?.() === 0;

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root, ...opts });
  if (r.status !== 0) {
    say(`${cmd} ${argv.join(' ')} failed (exit ${r.status})`);
    process.exit(1);
  }
}

// 1. npm dependencies (a fresh clone has no node_modules; a changed lock file needs a new install).
const lock = join(root, 'package-lock.json');
const marker = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000)) {
  say('installing npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

if (args.has('--no-system')) process.exit(0);

// 2. PostgreSQL server binaries and PostGIS for the same major version.
function pgMajors() {
  if (!existsSync('/usr/lib/postgresql')) return [];
  return readdirSync('/usr/lib/postgresql')
    .filter((d) => /^\d+$/.test(d) && existsSync(`/usr/lib/postgresql/${d}/bin/initdb`))
    .map(Number)
    .sort((a, b) => b - a);
}
const hasPostgis = (major) => existsSync(`/usr/share/postgresql/${major}/extension/postgis.control`);

let majors = pgMajors();
const wanted = [];
if (majors.length === 0 && !process.env.OFFRAMP_PG_BIN) wanted.push('postgresql-15', 'postgresql-15-postgis-3');
else if (majors.length > 0 && !hasPostgis(majors[0])) wanted.push(`postgresql-${majors[0]}-postgis-3`);
// 3. BIND 9 (named, tsig-keygen) and dig: the DNS tests run a real authoritative server.
const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`], { stdio: 'ignore' }).status === 0;
if (!onPath('named')) wanted.push('bind9');
if (!onPath('dig')) wanted.push('bind9-dnsutils');

if (wanted.length > 0) {
  const aptGet = spawnSync('sh', ['-c', 'command -v apt-get']).status === 0;
  if (!isRoot || !aptGet) {
    say(`missing system packages: ${wanted.join(' ')}`);
    say(isRoot ? 'this machine has no apt-get: install PostgreSQL server binaries and PostGIS, then set OFFRAMP_PG_BIN to the bin directory'
      : `run as root, or install them first: sudo apt-get install -y ${wanted.join(' ')}`);
    process.exit(1);
  }
  say(`installing ${wanted.join(' ')} (apt-get)`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...wanted], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  majors = pgMajors();
}
// Debian's postgresql package starts a cluster on 5432 at install; offramp never uses it.
if (majors.length > 0) {
  const v = execFileSync(`/usr/lib/postgresql/${majors[0]}/bin/postgres`, ['-V'], { encoding: 'utf8' }).trim();
  say(`${v}${hasPostgis(majors[0]) ? ' with PostGIS' : ''}: ready`);
}
if (onPath('named')) say('BIND 9 (named) and dig: ready');
