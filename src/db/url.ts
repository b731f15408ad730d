import { UsageError } from '../errors.js';
import { maskUrl } from '../secrets.js';

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

/** The parts of a connection URL offramp reasons about (hints, checks, pg_dump environment). */
export interface ConnectionInfo {
  url: string;
  masked: string;
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  sslmode?: SslMode;
  sslrootcert?: string;
  /** Query parameters other than the ones above, passed through unchanged. */
  params: Record<string, string>;
}

const SSL_MODES = new Set(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']);

/** Parse and sanity-check a postgres URL; throws a UsageError with a hint when it is malformed. */
export function parseConnectionUrl(url: string, label = 'connection URL'): ConnectionInfo {
  let parsed: URL;
  try {
    if (!/^postgres(ql)?:\/\//i.test(url)) throw new Error('scheme');
    parsed = new URL(url);
  } catch {
    throw new UsageError(`the ${label} is not a valid postgresql:// URL: ${maskUrl(url)}`, {
      hint: 'use postgresql://USER:PASSWORD@HOST:5432/DBNAME (percent-encode special characters in the password)',
    });
  }
  const params: Record<string, string> = {};
  let sslmode: SslMode | undefined;
  let sslrootcert: string | undefined;
  for (const [k, v] of parsed.searchParams) {
    if (k === 'sslmode') {
      if (!SSL_MODES.has(v)) {
        throw new UsageError(`the ${label} has an unknown sslmode "${v}"`, {
          hint: `use one of ${[...SSL_MODES].join(', ')}`,
        });
      }
      sslmode = v as SslMode;
    } else if (k === 'sslrootcert') sslrootcert = v;
    else params[k] = v;
  }
  // A stray % (an unencoded % in a password) makes decodeURIComponent throw "URI malformed":
  // that is bad input, reported as such, with the URL masked (the password never shown, even in part).
  const decode = (part: string, what: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new UsageError(`the ${label} has a malformed percent-encoding in its ${what}: ${maskUrl(url)}`, {
        hint: 'percent-encode special characters: % as %25, @ as %40, : as %3A, / as %2F (e.g. encodeURIComponent in Node, urllib.parse.quote in Python)',
      });
    }
  };
  const port = parsed.port ? Number(parsed.port) : 5432;
  const host = decode(parsed.hostname.replace(/^\[|\]$/g, ''), 'host') || params.host || 'localhost';
  return {
    url,
    masked: maskUrl(url),
    host,
    port,
    database: decode(parsed.pathname.replace(/^\//, ''), 'database name') || 'postgres',
    user: decode(parsed.username, 'user name') || params.user || 'postgres',
    password: parsed.password ? decode(parsed.password, 'password') : params.password,
    sslmode,
    sslrootcert,
    params,
  };
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.') || host.startsWith('/');
}

/** db.<ref>.supabase.co: Supabase's direct host, IPv6-only unless the IPv4 add-on is bought. */
export function isSupabaseDirectHost(host: string): boolean {
  return /^db\.[a-z0-9]+\.supabase\.co$/i.test(host);
}

/** *.pooler.supabase.com: Supavisor (5432 session mode, 6543 transaction mode). */
export function isSupabasePoolerHost(host: string): boolean {
  return /\.pooler\.supabase\.com$/i.test(host);
}

/**
 * libpq environment for a child process (pg_dump, psql): the password travels in PGPASSWORD,
 * never in argv where `ps` would show it.
 */
export function libpqEnv(info: ConnectionInfo): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: info.host,
    PGPORT: String(info.port),
    PGDATABASE: info.database,
    PGUSER: info.user,
  };
  if (info.password) env.PGPASSWORD = info.password;
  if (info.sslmode) env.PGSSLMODE = info.sslmode;
  if (info.sslrootcert) env.PGSSLROOTCERT = info.sslrootcert;
  return env;
}
