/**
 * Running a request as a principal, on one side, the way PostgREST does (facts sheet §7): inside a
 * transaction, `SET LOCAL ROLE`, the claims in `request.jwt.claims` (and the legacy
 * `request.jwt.claim.<name>` settings older helper functions read), `search_path = public, extensions`.
 *
 * This is the ONE place where rls verify writes to the source: `inProbeTransaction` opens a READ
 * WRITE transaction on the otherwise read-only source session and always ends it with ROLLBACK.
 * Each probe runs under a savepoint that is rolled back too, so a refused write does not end the
 * transaction and an allowed one is undone at once. Keys are given explicitly, so sequences do not
 * advance; tables with triggers that could reach outside the transaction are not write-probed.
 */
import type pg from 'pg';
import { OfframpError } from '../../errors.js';
import { quoteIdent } from '../../db/sql-parse.js';
import { toQueryError } from '../../db/sql.js';
import type { Principal } from './principals.js';

export type Command = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

/** What one probe saw: rows (visible, or written), or a refusal with its SQLSTATE. */
export type Outcome =
  | { kind: 'rows'; count: number; hash: string }
  | { kind: 'refused'; sqlstate: string; message: string }
  | { kind: 'inconclusive'; reason: string };

/** SQLSTATEs that say nothing about the policies: the probe could not run (a lock, a timeout). */
const INCONCLUSIVE = new Set(['55P03', '57014', '40001', '40P01']);

/**
 * Output settings pinned for both sides, so key texts compare byte for byte; and the setting the
 * storage server makes before it deletes objects (storage.protect_delete refuses a plain DELETE on
 * storage tables without it), so DELETE probes there test the policies, not the guard.
 */
const PINNED = `SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres';
  SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex'; SET LOCAL lock_timeout = '5s'; SET LOCAL statement_timeout = '120s';
  SET LOCAL storage.allow_delete_query = 'true'`;

/** What the source session is told before its probe transaction, and what verify reports. */
export const SOURCE_WRITE_NOTE = 'the source is only read: write probes run in transactions that are rolled back';

/**
 * Run `fn` in a transaction that is always rolled back. `write` opens it READ WRITE (the source
 * session is read-only by default); the caller never commits: there is no COMMIT anywhere in rls verify.
 */
export async function inProbeTransaction<T>(client: pg.Client, write: boolean, fn: () => Promise<T>): Promise<T> {
  await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ ${write ? 'READ WRITE' : 'READ ONLY'}`);
  try {
    await client.query(PINNED);
    return await fn();
  } finally {
    await client.query('ROLLBACK').catch(() => {});
  }
}

/** The settings PostgREST makes for a request, as one statement of `set_config(…, true)` calls. */
function impersonation(principal: Principal): { text: string; values: string[] } {
  const values: string[] = [JSON.stringify(principal.claims)];
  const calls = [`set_config('search_path', 'public, extensions', true)`, `set_config('request.jwt.claims', $1, true)`];
  for (const [name, value] of Object.entries(principal.claims)) {
    values.push(`request.jwt.claim.${name}`, typeof value === 'string' ? value : JSON.stringify(value));
    calls.push(`set_config($${values.length - 1}, $${values.length}, true)`);
  }
  return { text: `SELECT ${calls.join(', ')}`, values };
}

interface PgError extends Error { code?: string }

/**
 * Run one statement as the principal (or, when `principal` is undefined, as the session's own
 * role: app mode's owner queries), under a savepoint that is always rolled back.
 */
export async function probe(client: pg.Client, principal: Principal | undefined, statement: string, values: unknown[], read: (r: pg.QueryResult) => Outcome): Promise<Outcome> {
  await client.query('SAVEPOINT offramp_probe');
  let propagating = false;
  try {
    if (principal) {
      try {
        await client.query(`SET LOCAL ROLE ${quoteIdent(principal.role)}`);
      } catch (error) {
        if (!(error as PgError).code) throw error;
        throw new OfframpError('PERMISSION_DENIED', `cannot act as role ${principal.role} (${principal.name}): ${(error as Error).message}`, {
          hint: 'the connecting role must be a member of the API roles: GRANT anon, authenticated, service_role TO <the role in the URL>',
        });
      }
      const { text, values: settings } = impersonation(principal);
      await client.query(text, settings);
    }
    return read(await client.query(statement, values));
  } catch (error) {
    const code = (error as PgError).code;
    if (error instanceof OfframpError || !code) {
      propagating = true;
      throw error instanceof OfframpError ? error : toQueryError(error, 'an rls verify probe');
    }
    if (INCONCLUSIVE.has(code)) return { kind: 'inconclusive', reason: `${code}: ${(error as Error).message}` };
    return { kind: 'refused', sqlstate: code, message: (error as Error).message };
  } finally {
    // Undo the probe (its write, its role, its settings). After a lost connection this fails too:
    // the first error is the one to report.
    await client.query('ROLLBACK TO SAVEPOINT offramp_probe; RELEASE SAVEPOINT offramp_probe').catch((error: unknown) => {
      if (!propagating) throw toQueryError(error, 'rolling back an rls verify probe');
    });
  }
}

/**
 * An integrity-constraint error (SQLSTATE class 23: foreign key, unique, not null, check) comes
 * after the policies let the row through: PostgreSQL checks RLS before constraints (and foreign
 * keys at the end of the statement). For a policy proof it is "allowed"; a foreign key copy left
 * behind (to auth.users) is validate's business, not a policy difference.
 */
const passedPolicies = (o: Outcome): boolean => (o.kind === 'rows' && o.count > 0) || (o.kind === 'refused' && o.sqlstate.startsWith('23'));

/** Two outcomes agree: the same rows, refused with the same SQLSTATE, or both past the policies. */
export function sameOutcome(a: Outcome, b: Outcome): boolean {
  if (a.kind === 'rows' && b.kind === 'rows') return a.count === b.count && (a.count === 0 || a.hash === b.hash);
  if (a.kind === 'refused' && b.kind === 'refused' && a.sqlstate === b.sqlstate) return true;
  if (a.kind !== 'inconclusive' && b.kind !== 'inconclusive' && (a.kind === 'refused' || b.kind === 'refused')) {
    return passedPolicies(a) && passedPolicies(b);
  }
  return a.kind === b.kind;
}

export function describeOutcome(o: Outcome, command: Command): string {
  if (o.kind === 'inconclusive') return `could not probe (${o.reason})`;
  if (o.kind === 'refused' && o.sqlstate.startsWith('23')) return `allowed by the policies, then refused by a constraint (${o.sqlstate}: ${o.message})`;
  if (o.kind === 'refused') return `refused (${o.sqlstate}: ${o.message})`;
  if (command === 'SELECT') return `${o.count} rows visible`;
  return o.count > 0 ? `allowed (${o.count} row${o.count === 1 ? '' : 's'})` : 'no row matched (filtered by USING)';
}
