/**
 * App mode of rls verify: the target has no policies to run; the backend will apply the rule
 * `rls translate --mode app` emitted per table and command (a SQL boolean over $1..$n, the request's
 * claims). Verify imitates that backend: it queries the target as its owner with the USING
 * predicate as the WHERE clause, and gates each write on the predicates before running it as the
 * owner (so constraint errors still show as on the source). A command without a rule is refused,
 * except for service_role, which bypasses RLS on Supabase.
 */
import type pg from 'pg';
import { UsageError } from '../../errors.js';
import type { Principal } from './principals.js';
import { probe, type Command, type Outcome } from './probe.js';
import { fromTable, keyMatch, rowRef, type TableShape, type WriteProbe } from './write-probes.js';

interface Predicate { sql: string }

/** What `rls translate --mode app --json` writes (its `result`), as far as verify reads it. */
export interface AppPredicates {
  parameters: Array<{ name: string; type?: string; meaning?: string }>;
  tables: Array<{
    schema: string;
    table: string;
    using: Partial<Record<'SELECT' | 'UPDATE' | 'DELETE', Predicate>>;
    withCheck: Partial<Record<'INSERT' | 'UPDATE', Predicate>>;
  }>;
}

export type AppRule = { kind: 'predicate'; sql: string; values: unknown[] } | { kind: 'all' } | { kind: 'none' };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Read predicates from parsed JSON: the translate result itself, or the whole `--json` document. */
export function parseAppPredicates(data: unknown, origin: string): AppPredicates {
  const doc = isObject(data) && isObject(data.result) ? data.result : data;
  if (!isObject(doc) || !Array.isArray(doc.tables) || !Array.isArray(doc.parameters)) {
    throw new UsageError(`${origin} does not hold app-mode predicates (no "tables" and "parameters")`, {
      hint: 'write it with: offramp rls translate --mode app --json > predicates.json',
    });
  }
  return doc as unknown as AppPredicates;
}

/**
 * The value of one predicate parameter for a principal, by its documented type and meaning
 * (rls translate: $1 uuid the user id, $2 jsonb the claims, $3 text the request role).
 */
function parameterValue(param: { name: string; type?: string; meaning?: string }, p: Principal): unknown {
  const type = (param.type ?? '').toLowerCase();
  const words = `${param.name} ${param.meaning ?? ''}`.toLowerCase();
  if (type === 'uuid') return p.id ?? null;
  if (type === 'jsonb' || type === 'json') return JSON.stringify(p.claims);
  if (/\brole\b/.test(words)) return p.role;
  if (/email/.test(words)) return typeof p.claims.email === 'string' ? p.claims.email : null;
  if (/user id|\bsub\b|\buid\b/.test(words)) return p.id ?? null;
  throw new UsageError(`app-mode predicate parameter ${param.name} (${param.meaning ?? param.type ?? 'undocumented'}) is not one verify knows how to fill`, {
    hint: 'parameters must be the user id (uuid), the claims (jsonb), the request role or the email',
  });
}

function predicateFor(predicates: AppPredicates | undefined, table: string, command: Command, part: 'using' | 'withCheck'): Predicate | undefined {
  const t = predicates?.tables.find((x) => `"${x.schema}"."${x.table}"` === table || `${x.schema}.${x.table}` === table);
  const side = t?.[part] as Record<string, Predicate | undefined> | undefined;
  return side?.[command];
}

/** The rule a principal's request gets for one command: a predicate, everything (service_role), or nothing. */
export function appRuleFor(predicates: AppPredicates | undefined, table: string, command: Command, p: Principal, part: 'using' | 'withCheck' = 'using'): AppRule {
  const pred = predicateFor(predicates, table, command, part);
  // No rule for the command: nobody may, except service_role, which bypasses RLS on Supabase.
  if (!pred) return p.role === 'service_role' ? { kind: 'all' } : { kind: 'none' };
  return { kind: 'predicate', sql: pred.sql, values: parameterValues(predicates, p) };
}

/**
 * Every parameter typed once, whether the predicate uses it or not (the server cannot guess the
 * type of a parameter nobody uses): joined into every app-mode query.
 */
export function parameterJoin(predicates: AppPredicates | undefined): string {
  const params = predicates?.parameters ?? [];
  if (params.length === 0) return '';
  return ` CROSS JOIN (SELECT ${params.map((x, i) => `$${i + 1}::${x.type ?? 'text'}`).join(', ')}) AS offramp_parameters`;
}

/** The parameter values of a principal's request. */
export function parameterValues(predicates: AppPredicates | undefined, p: Principal): unknown[] {
  return (predicates?.parameters ?? []).map((param) => parameterValue(param, p));
}

function gate(rule: AppRule): string {
  return rule.kind === 'all' ? 'true' : rule.kind === 'none' ? 'false' : `(${rule.sql})`;
}

const denied: Outcome = { kind: 'refused', sqlstate: '42501', message: 'refused by the app-mode predicate' };

/**
 * One write as the backend would make it: the predicates decide (USING: which row; WITH CHECK: the
 * new row), then the statement runs as the owner. Predicate parameters are $1..$n; the probe's own
 * value (the key or the candidate row) is passed as the next parameter.
 */
export async function appStatement(client: pg.Client, predicates: AppPredicates | undefined, t: TableShape, w: WriteProbe, p: Principal): Promise<Outcome> {
  const values = (_rule: AppRule): unknown[] => parameterValues(predicates, p);
  const join = parameterJoin(predicates);
  const n = (predicates?.parameters ?? []).length;
  const count = async (sql: string, vals: unknown[]): Promise<number | Outcome> => {
    const o = await probe(client, undefined, sql, vals, (r) => ({ kind: 'rows', count: Number(r.rows[0]?.n ?? 0), hash: '' }));
    return o.kind === 'rows' ? o.count : o;
  };
  if (w.command === 'INSERT') {
    const check = appRuleFor(predicates, t.qualified, 'INSERT', p, 'withCheck');
    const ok = await count(`SELECT count(*) AS n FROM jsonb_populate_record(NULL::${fromTable(t)}, $${n + 1}::jsonb) AS ${rowRef(t)}${join} WHERE ${gate(check)}`, [...values(check), ...w.values]);
    if (typeof ok !== 'number') return ok;
    if (ok === 0) return denied;
  } else {
    const using = appRuleFor(predicates, t.qualified, w.command, p, 'using');
    const seen = await count(`SELECT count(*) AS n FROM ${fromTable(t)}${join} WHERE ${keyMatch(t, n + 1)} AND ${gate(using)}`, [...values(using), ...w.values]);
    if (typeof seen !== 'number') return seen;
    if (seen === 0) return { kind: 'rows', count: 0, hash: '' };
    if (w.command === 'UPDATE') {
      const check = appRuleFor(predicates, t.qualified, 'UPDATE', p, 'withCheck');
      // The UPDATE probe sets a column to itself: the new row is the old one.
      const ok = await count(`SELECT count(*) AS n FROM ${fromTable(t)}${join} WHERE ${keyMatch(t, n + 1)} AND ${gate(check)}`, [...values(check), ...w.values]);
      if (typeof ok !== 'number') return ok;
      if (ok === 0) return denied;
    }
  }
  return probe(client, undefined, w.statement, w.values, (r) => ({ kind: 'rows', count: r.rowCount ?? 0, hash: '' }));
}

/** App mode compares allowed/denied: a refusal by privilege or policy (42501) and "no row matched" are both "denied". */
export function appClass(o: Outcome): Outcome {
  if ((o.kind === 'refused' && o.sqlstate === '42501') || (o.kind === 'rows' && o.count === 0)) return { kind: 'refused', sqlstate: '42501', message: 'denied' };
  return o;
}
