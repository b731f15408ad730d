/**
 * Versions: the target server must be at least the source's major version (a schema dumped from
 * a newer server may use syntax and settings an older one rejects), and pg_dump / pg_restore must
 * be at least the source server's major version (pg_dump refuses newer servers).
 */
import type { Check } from '../../../checks/types.js';
import { majorOf, shortVersion, unavailable, type DoctorContext } from '../context.js';
import type { ClientToolName } from '../../../db/pg-tools.js';

/** `server.versions`: target major ≥ source major. */
export const serverVersionsCheck: Check<DoctorContext> = {
  id: 'server.versions',
  title: 'Server versions',
  async run(ctx) {
    const s = ctx.source.facts;
    const t = ctx.target.facts;
    if (!s || !t) {
      const missing = unavailable(ctx.source) ?? unavailable(ctx.target);
      const one = s ?? t;
      return {
        status: 'skip',
        detail: `${missing?.detail ?? 'a side is not reachable'}${one ? ` (${s ? 'source' : 'target'} is PostgreSQL ${shortVersion(one)})` : ''}`,
        evidence: { source: s?.version, target: t?.version },
      };
    }
    const sMajor = majorOf(s.version_num);
    const tMajor = majorOf(t.version_num);
    const evidence = { source: s.version, target: t.version, sourceMajor: sMajor, targetMajor: tMajor };
    if (tMajor < sMajor) {
      return {
        status: 'fail',
        detail: `target is PostgreSQL ${shortVersion(t)}, older than the source's ${shortVersion(s)}`,
        hint: `a dump of PostgreSQL ${sMajor} may not load into ${tMajor} (e.g. transaction_timeout, new syntax): run PostgreSQL ${sMajor} or newer on the target`,
        evidence,
      };
    }
    if (tMajor > sMajor) {
      return {
        status: 'warn',
        detail: `target is PostgreSQL ${shortVersion(t)}, source ${shortVersion(s)}: an upgrade during the move`,
        hint: 'supported, but data moves in text format (not binary) and extension versions may differ; test the application against the new major',
        evidence,
      };
    }
    if (s.version_num !== t.version_num) {
      return { status: 'pass', detail: `same major version ${sMajor} (source ${shortVersion(s)}, target ${shortVersion(t)})`, evidence };
    }
    return { status: 'pass', detail: `both PostgreSQL ${shortVersion(s)}`, evidence };
  },
};

const LATER_USE: Record<ClientToolName, string> = {
  pg_dump: 'dumps the schema for `dump` and `copy`',
  pg_restore: 'loads the schema for `restore` and `copy`',
};

/** `client.pg-dump` / `client.pg-restore`: the newest binary on this machine vs the source server. */
export function clientToolCheck(name: ClientToolName): Check<DoctorContext> {
  return {
    id: `client.${name.replace('_', '-')}`,
    title: `${name} version`,
    async run(ctx) {
      const tools = await ctx.clientTools();
      const best = tools.best[name];
      const sourceMajor = ctx.source.facts ? majorOf(ctx.source.facts.version_num) : undefined;
      const pkg = `postgresql-client-${sourceMajor ?? 15}`;
      const all = tools.found[name].map((t) => `${t.version} at ${t.path}`);
      if (!best) {
        return {
          status: 'warn',
          detail: `${name} not found (searched PATH and /usr/lib/postgresql/*/bin); only needed later: it ${LATER_USE[name]}`,
          hint: `install it before dump/copy: apt-get install ${pkg} (or set OFFRAMP_PG_BIN to its bin directory)`,
          evidence: { searched: tools.searched },
        };
      }
      const evidence = { chosen: best.path, version: best.version, found: all, sourceServer: ctx.source.facts?.version };
      const missing = unavailable(ctx.source);
      if (missing || sourceMajor === undefined) {
        return { status: 'skip', detail: `${missing?.detail ?? 'source not reachable'} (found ${name} ${best.version} at ${best.path})`, evidence };
      }
      if (best.major < sourceMajor) {
        return {
          status: 'fail',
          detail: `newest ${name} is ${best.version} (${best.path}), older than the source server's major ${sourceMajor}`,
          hint: `${name} must be at least as new as the server: apt-get install ${pkg} (PGDG repository: apt.postgresql.org), or set OFFRAMP_PG_BIN`,
          evidence,
        };
      }
      return { status: 'pass', detail: `${name} ${best.version} (${best.path}) can handle a PostgreSQL ${sourceMajor} source`, evidence };
    },
  };
}
