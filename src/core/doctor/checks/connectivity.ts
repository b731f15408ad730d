/**
 * Can we reach each side? The connection is opened once (see context.ts); this check reports the
 * result with the diagnosis and hint from src/db/connect.ts, and the URL masked.
 */
import type { Check, CheckOutcome } from '../../../checks/types.js';
import { isSupabaseDirectHost, isSupabasePoolerHost } from '../../../db/url.js';
import { maskUrl } from '../../../secrets.js';
import { openSide, shortVersion, type DoctorContext, type Side, type SideName } from '../context.js';

function supabaseEndpoint(host: string, port: number): string | undefined {
  if (isSupabaseDirectHost(host)) return 'supabase-direct';
  if (isSupabasePoolerHost(host)) return port === 5432 ? 'supabase-session-pooler' : `supabase-pooler:${port}`;
  return undefined;
}

/** connect.ts's hints speak of Supabase; on the target side a few read better in its own terms. */
function sideHint(side: Side, diagnosis: string, hint: string | undefined): string | undefined {
  if (side.name !== 'target' || (side.info && (isSupabaseDirectHost(side.info.host) || isSupabasePoolerHost(side.info.host)))) return hint;
  switch (diagnosis) {
    case 'bad-password':
      return `the password was rejected: check the target role's password (ALTER ROLE … PASSWORD on the server) and percent-encode special characters in the URL`;
    case 'no-such-database':
      return `create it first (createdb, or CREATE DATABASE … on the target server), or fix the database name in the URL`;
    default:
      return hint;
  }
}

export function describeConnection(side: Side): CheckOutcome {
  if (!side.url) return { status: 'skip', detail: `no ${side.name} given` };
  const url = side.info?.masked ?? maskUrl(side.url);
  if (side.failure || !side.facts || !side.info) {
    const failure = side.failure ?? { diagnosis: 'other' as const, message: 'not connected' };
    return {
      status: 'fail',
      detail: `${failure.message} (${url})`,
      hint: sideHint(side, failure.diagnosis, failure.hint),
      evidence: { url, diagnosis: failure.diagnosis, ...(side.info ? { host: side.info.host, port: side.info.port } : {}) },
    };
  }
  const f = side.facts;
  const endpoint = supabaseEndpoint(side.info.host, side.info.port);
  return {
    status: 'pass',
    detail: `connected to ${url} as ${f.current_user}, PostgreSQL ${shortVersion(f)}`,
    evidence: {
      url,
      host: side.info.host,
      port: side.info.port,
      database: f.database,
      user: f.current_user,
      serverVersion: f.version,
      ...(endpoint ? { endpoint } : {}),
    },
  };
}

/** `source.connect` / `target.connect`. */
export function connectCheck(name: SideName): Check<DoctorContext> {
  return {
    id: `${name}.connect`,
    title: `${name === 'source' ? 'Source' : 'Target'} connection`,
    async run(ctx) {
      const side = await openSide(ctx[name], ctx.settings.connectTimeoutSeconds);
      return describeConnection(side);
    },
  };
}
