import { lookup } from 'node:dns/promises';
import pg from 'pg';
import { ConnectionError, type ConnectionDiagnosis } from '../errors.js';
import { registerSecret } from '../secrets.js';
import { destroyClient, endClient, stopSignal, throwIfStopped, trackClient, untrackClient } from './sessions.js';
import { isLoopbackHost, isSupabaseDirectHost, isSupabasePoolerHost, parseConnectionUrl, type ConnectionInfo } from './url.js';

// name[] (oid 1003) arrives as the string '{a,b}' by default: parse it like text[] (oid 1009), so a
// catalog query that aggregates names gets an array without remembering to cast to text[].
type TypeId = Parameters<typeof pg.types.getTypeParser>[0];
pg.types.setTypeParser(1003 as TypeId, pg.types.getTypeParser(1009 as TypeId));

export interface ConnectOptions {
  /** Seconds before a connection attempt counts as a timeout. */
  timeoutSeconds?: number;
  /** `source` connections are made read-only for their whole life. */
  role?: 'source' | 'target' | 'admin';
  applicationName?: string;
  /** Refuse Supabase's transaction pooler (port 6543). Default true. */
  refuseTransactionPooler?: boolean;
}

const HINTS: Record<ConnectionDiagnosis, string> = {
  'invalid-url': 'use postgresql://USER:PASSWORD@HOST:5432/DBNAME',
  'unknown-host': 'check the host name for typos; copy the connection string again from the Supabase dashboard (Project Settings → Database)',
  refused: 'nothing listens on that host and port: is the server running, and is the port right (5432 for Postgres and the session pooler)?',
  timeout: 'the host did not answer in time: check firewalls, network restrictions in the Supabase dashboard, and the host and port',
  'bad-password': 'the password was rejected: reset the database password in the Supabase dashboard or check the target role; percent-encode special characters in the URL',
  'no-such-role': 'the user name does not exist on that server; on the Supabase session pooler the user is postgres.<project-ref>',
  'no-such-database': 'the database does not exist on that server; Supabase projects use the database "postgres"',
  'ssl-required': 'the server only accepts encrypted connections: add ?sslmode=require to the URL',
  'ipv6-unreachable': 'db.<ref>.supabase.co is IPv6-only and this machine has no IPv6 route: use the session pooler (aws-0-<region>.pooler.supabase.com:5432, user postgres.<ref>) or buy the IPv4 add-on',
  'transaction-pooler': 'port 6543 is Supabase\'s transaction pooler, which breaks snapshots, SET and prepared statements: use port 5432 (direct or session pooler)',
  'too-many-connections': 'the server is out of connection slots: lower --jobs or close other clients',
  'not-postgres': 'something else listens on that port (a web server?): check the port in the URL; PostgreSQL and the Supabase session pooler listen on 5432',
  other: 'rerun with --verbose for the driver error',
};

export function connectionHint(diagnosis: ConnectionDiagnosis): string {
  return HINTS[diagnosis];
}

interface DriverError extends Error {
  code?: string;
  address?: string;
  errno?: number;
}

/**
 * Classify a driver/socket error. Pure, so it can be unit-tested with the errors Node produces.
 * `addresses` are the resolved addresses of the host, used to recognise the IPv6-only case.
 */
export function diagnoseConnectionError(error: unknown, info: ConnectionInfo, addresses: string[] = [], foreignReply?: string): ConnectionDiagnosis {
  if (foreignReply !== undefined) return 'not-postgres';
  const e = error as DriverError;
  const code = e?.code ?? '';
  const message = e?.message ?? String(error);
  const onlyIpv6 = addresses.length > 0 && addresses.every((a) => a.includes(':'));
  if (code === '28P01' || /password authentication failed/i.test(message)) return 'bad-password';
  if (code === '3D000') return 'no-such-database';
  if (code === '53300' || /too many clients|remaining connection slots/i.test(message)) return 'too-many-connections';
  if (code === '28000' && /no encryption|SSL off/i.test(message)) return 'ssl-required';
  if (code === '28000' && /role .* does not exist/i.test(message)) return 'no-such-role';
  if (/SSL connection is required|requires SSL|SSL required/i.test(message)) return 'ssl-required';
  if (['ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'EAFNOSUPPORT'].includes(code) && (onlyIpv6 || (e.address ?? '').includes(':') || isSupabaseDirectHost(info.host))) {
    return 'ipv6-unreachable';
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return 'unknown-host';
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ETIMEDOUT' || /timeout/i.test(message)) return 'timeout';
  if (code === 'ENETUNREACH' || code === 'EHOSTUNREACH') return 'timeout';
  return 'other';
}

async function resolveAddresses(host: string): Promise<string[]> {
  if (host.startsWith('/')) return [];
  try {
    return (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

/**
 * What a PostgreSQL server sends first: a single S or N answering an SSL request, or a protocol
 * message (R authentication, E error, v protocol negotiation, N notice) whose int32 length is sane.
 * Anything else is another protocol ("HTTP/1.1 400", "SSH-2.0-…" — which starts with S too).
 */
const MESSAGE_TYPES = new Set(['R', 'E', 'v', 'N'].map((c) => c.charCodeAt(0)));
const SSL_ANSWERS = new Set(['S', 'N'].map((c) => c.charCodeAt(0)));

/** The start of a reply that is not PostgreSQL's, printable, or undefined when it is PostgreSQL's. */
export function foreignReplyStart(chunk: Buffer): string | undefined {
  if (chunk.length === 0) return undefined;
  if (chunk.length === 1 && SSL_ANSWERS.has(chunk[0]!)) return undefined;
  // An incomplete message header: wait for the rest rather than guess.
  if (MESSAGE_TYPES.has(chunk[0]!) && (chunk.length < 5 || (chunk.readInt32BE(1) >= 4 && chunk.readInt32BE(1) < 1_000_000))) return undefined;
  const text = chunk.subarray(0, 24).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return text.trim() || 'binary data';
}

/**
 * Watch the first bytes the server sends: when they are not PostgreSQL's (an HTTP server answering
 * the startup packet with "HTTP/1.1 400"), give up at once instead of waiting for the timeout.
 */
function watchFirstReply(client: pg.Client, seen: { reply?: string }): void {
  const stream = (client as unknown as { connection?: { stream?: NodeJS.ReadableStream & { destroy(e?: Error): void } } }).connection?.stream;
  stream?.once('data', (chunk: Buffer) => {
    const foreign = foreignReplyStart(Buffer.from(chunk));
    if (foreign === undefined) return;
    seen.reply = foreign;
    stream.destroy(new Error(`the server's reply is not PostgreSQL's: ${foreign}`));
  });
}

function describe(diagnosis: ConnectionDiagnosis, info: ConnectionInfo, driverMessage: string, foreignReply?: string): string {
  const where = `${info.host}:${info.port}`;
  switch (diagnosis) {
    case 'unknown-host': return `cannot resolve host ${info.host}`;
    case 'refused': return `connection refused by ${where}`;
    case 'timeout': return `connection to ${where} timed out`;
    case 'bad-password': return `password authentication failed for user "${info.user}" at ${where}`;
    case 'no-such-role': return `role "${info.user}" does not exist at ${where}`;
    case 'no-such-database': return `database "${info.database}" does not exist at ${where}`;
    case 'ssl-required': return `${where} requires an SSL connection`;
    case 'ipv6-unreachable': return `${info.host} resolves only to IPv6 addresses, which this machine cannot reach`;
    case 'transaction-pooler': return `${where} is a transaction pooler port`;
    case 'too-many-connections': return `${where} has no free connection slots`;
    case 'not-postgres': return `${where} is not a PostgreSQL server (it answered "${foreignReply ?? ''}")`;
    default: return `cannot connect to ${where}: ${driverMessage}`;
  }
}

function clientConfig(info: ConnectionInfo, options: ConnectOptions, ssl: pg.ClientConfig['ssl']): pg.ClientConfig {
  return {
    host: info.host,
    port: info.port,
    database: info.database,
    user: info.user,
    password: info.password,
    ssl,
    connectionTimeoutMillis: (options.timeoutSeconds ?? 10) * 1000,
    // A peer that vanishes without a word (network cut, host down) is noticed by TCP keepalives
    // instead of leaving a COPY waiting forever.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: options.applicationName ?? `offramp${options.role ? `-${options.role}` : ''}`,
  };
}

/** libpq's sslmode semantics mapped onto node-postgres. */
function sslAttempts(info: ConnectionInfo): Array<pg.ClientConfig['ssl']> {
  switch (info.sslmode) {
    case 'disable': return [false];
    case 'allow': return [false, { rejectUnauthorized: false }];
    case 'require': return [{ rejectUnauthorized: false }];
    case 'verify-ca':
    case 'verify-full': return [{ rejectUnauthorized: true, ...(info.sslrootcert ? { ca: info.sslrootcert } : {}) }];
    case 'prefer':
    default:
      // libpq's default "prefer": try TLS, fall back to plain. Loopback servers rarely have TLS.
      return isLoopbackHost(info.host) ? [false] : [{ rejectUnauthorized: false }, false];
  }
}

/**
 * What every session runs first: source sessions are read-only for their whole life, and (on
 * servers that know it, 14+) a backend checks every second whether offramp is still there, so a
 * long statement (an index build) of a stopped run ends within a second instead of running on.
 */
function sessionSetup(role: ConnectOptions['role']): string {
  const check = `SELECT pg_catalog.set_config('client_connection_check_interval', '1000', false) WHERE pg_catalog.current_setting('server_version_num')::int >= 140000`;
  return role === 'source' ? `SET default_transaction_read_only = on; ${check}` : check;
}

/**
 * Open a connection, turning every failure into a ConnectionError with a diagnosis and a hint.
 * Source connections are switched to read-only before they are handed out.
 */
export async function connect(urlOrInfo: string | ConnectionInfo, options: ConnectOptions = {}): Promise<pg.Client> {
  const info = typeof urlOrInfo === 'string' ? parseConnectionUrl(urlOrInfo, `${options.role ?? ''} URL`.trim()) : urlOrInfo;
  registerSecret(info.password);
  if ((options.refuseTransactionPooler ?? true) && info.port === 6543) {
    throw new ConnectionError('transaction-pooler', info.masked, describe('transaction-pooler', info, ''), {
      hint: HINTS['transaction-pooler'],
    });
  }
  const attempts = sslAttempts(info);
  let lastError: unknown;
  const seen: { reply?: string } = {};
  for (const [i, ssl] of attempts.entries()) {
    const client = new pg.Client(clientConfig(info, options, ssl));
    // An idle connection that the server drops must not crash the process: its next query fails instead.
    client.on('error', () => {});
    watchFirstReply(client, seen);
    trackClient(client, options.role === 'admin' ? undefined : options.role);
    try {
      throwIfStopped();
      await client.connect();
      // A session that finished connecting after the run was stopped must not start work.
      throwIfStopped();
      await client.query(sessionSetup(options.role));
      return client;
    } catch (error) {
      if (stopSignal().aborted) {
        destroyClient(client);
        untrackClient(client);
        throw stopSignal().reason;
      }
      untrackClient(client);
      lastError = error;
      await client.end().catch(() => {});
      const msg = (error as Error).message ?? '';
      const sslRefused = /does not support SSL/i.test(msg);
      if (!(sslRefused && i < attempts.length - 1) || seen.reply !== undefined) break;
    }
  }
  const addresses = seen.reply === undefined ? await resolveAddresses(info.host) : [];
  const diagnosis = diagnoseConnectionError(lastError, info, addresses, seen.reply);
  let hint = HINTS[diagnosis];
  if (diagnosis === 'refused' && isSupabasePoolerHost(info.host)) hint = `${hint}; the Supabase session pooler listens on 5432`;
  throw new ConnectionError(diagnosis, info.masked, describe(diagnosis, info, (lastError as Error)?.message ?? String(lastError), seen.reply), {
    hint,
    detail: (lastError as Error)?.message,
    cause: lastError,
  });
}

/** Run `fn` with a connection that is always closed afterwards. */
export async function withClient<T>(url: string | ConnectionInfo, options: ConnectOptions, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(url, options);
  try {
    return await fn(client);
  } finally {
    await endClient(client);
  }
}
