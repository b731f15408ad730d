/**
 * Connection slots: a parallel copy holds `jobs` workers plus one coordinator on each side (the
 * source's coordinator holds the exported snapshot). max_connections, the role's and the
 * database's CONNECTION LIMIT, and the connections already in use all bound it.
 */
import type { Check, CheckOutcome } from '../../../checks/types.js';
import { isSupabasePoolerHost } from '../../../db/url.js';
import { unavailable, type DoctorContext, type ReadySide, type ServerFacts, type SideName } from '../context.js';

export interface ConnectionBudget {
  /** Connections the copy needs. */
  need: number;
  /** Most connections this role could ever open here (ignoring current use). */
  capacity: number;
  /** Connections free right now (doctor's own connection counted as free). */
  free: number;
  limitedBy: string;
}

export function connectionBudget(f: ServerFacts, jobs: number): ConnectionBudget {
  const need = jobs + 1;
  // Superusers may use the reserved slots; everybody else may not.
  const serverCap = f.max_connections - (f.is_superuser ? 0 : f.reserved_connections);
  const limits: Array<{ by: string; cap: number; used: number }> = [
    { by: `max_connections = ${f.max_connections}${f.is_superuser ? '' : ` (${f.reserved_connections} reserved for superusers)`}`, cap: serverCap, used: f.connections_in_use },
  ];
  if (f.role_conn_limit >= 0) limits.push({ by: `CONNECTION LIMIT ${f.role_conn_limit} on role ${f.current_user}`, cap: f.role_conn_limit, used: f.role_connections_in_use });
  if (f.database_conn_limit >= 0) limits.push({ by: `CONNECTION LIMIT ${f.database_conn_limit} on database ${f.database}`, cap: f.database_conn_limit, used: f.database_connections_in_use });
  // doctor's own connection is counted in `used` but will be closed before the copy.
  const tightest = limits.reduce((a, b) => (b.cap - b.used < a.cap - a.used ? b : a));
  const capacity = Math.min(...limits.map((l) => l.cap));
  const free = Math.min(...limits.map((l) => l.cap - l.used + 1));
  return { need, capacity, free, limitedBy: tightest.by };
}

const jobsNeed = (jobs: number): string => `${jobs} parallel job${jobs === 1 ? ' needs' : 's need'}`;

/** `source.connections` / `target.connections`. */
export function connectionsCheck(name: SideName): Check<DoctorContext> {
  return {
    id: `${name}.connections`,
    title: `${name === 'source' ? 'Source' : 'Target'} connection slots`,
    async run(ctx): Promise<CheckOutcome> {
      const skip = unavailable(ctx[name]);
      if (skip) return skip;
      const side = ctx[name] as ReadySide;
      const jobs = ctx.settings.jobs;
      const b = connectionBudget(side.facts, jobs);
      const evidence = { jobs, ...b, inUse: side.facts.connections_in_use };
      const pooler = isSupabasePoolerHost(side.info.host) ? '; the session pooler\'s pool size (dashboard → Database → Connection pooling) also limits this' : '';
      if (b.capacity < b.need) {
        const fit = Math.max(1, b.capacity - 1);
        return {
          status: 'fail',
          detail: `${jobsNeed(jobs)} ${b.need} connections, but at most ${b.capacity} are possible (${b.limitedBy})`,
          hint: `run with --jobs ${fit}, or raise the limit${name === 'target' ? ' (max_connections needs a restart)' : ''}${pooler}`,
          evidence,
        };
      }
      if (b.free < b.need) {
        return {
          status: 'warn',
          detail: `${jobsNeed(jobs)} ${b.need} connections, ${b.free} free right now (${side.facts.connections_in_use} in use; ${b.limitedBy})`,
          hint: `close other clients before the copy or run with --jobs ${Math.max(1, b.free - 1)}${pooler}`,
          evidence,
        };
      }
      return { status: 'pass', detail: `${b.free} free for the ${b.need} that ${jobs} parallel job${jobs === 1 ? '' : 's'} need${pooler ? ' (pool size of the session pooler not visible from here)' : ''}`, evidence };
    },
  };
}
