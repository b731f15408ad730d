/**
 * `sql`: one query on the source or the target with an expectation on the rows, the first value,
 * or a comparison. It runs in a read-only transaction unless the step says `write: true` (target
 * only; the loader refuses a writing source step). Evidence: the row count and the first rows.
 */
import type pg from 'pg';
import { connect } from '../../../db/connect.js';
import { UsageError } from '../../../errors.js';
import type { StepParams } from '../schema.js';
import { fail, pass, type StepExecutor } from '../types.js';

function compare(actual: unknown, op: string, expected: number | string): boolean {
  const a = Number(actual);
  const e = Number(expected);
  const numeric = actual !== null && actual !== '' && !Number.isNaN(a) && !Number.isNaN(e);
  const [x, y] = numeric ? [a, e] : [String(actual), String(expected)];
  switch (op) {
    case '=': return x === y;
    case '!=': return x !== y;
    case '<': return x < y;
    case '<=': return x <= y;
    case '>': return x > y;
    default: return x >= y;
  }
}

export const runSql: StepExecutor = async (ctx) => {
  const p = ctx.params as StepParams<'sql'>;
  const url = ctx.databases[p.on];
  if (!url) throw new UsageError(`step ${ctx.step.id} queries the ${p.on}, but no ${p.on} database is configured`, { hint: `pass --${p.on} or set OFFRAMP_${p.on.toUpperCase()}_URL` });
  const client = await connect(url, { role: p.on === 'source' ? 'source' : 'target', timeoutSeconds: ctx.databases.connectTimeoutSeconds, applicationName: 'offramp runbook' });
  const abort = (): void => void client.end().catch(() => {});
  ctx.signal.addEventListener('abort', abort, { once: true });
  let rows: Array<Record<string, unknown>>;
  try {
    await client.query(p.write ? 'BEGIN' : 'BEGIN READ ONLY');
    // Several statements come back as one result each; the expectation is about the last one.
    const result = (await client.query(p.query)) as unknown as pg.QueryResult | pg.QueryResult[];
    const last = Array.isArray(result) ? result.at(-1) : result;
    rows = (last?.rows ?? []) as Array<Record<string, unknown>>;
    await client.query('COMMIT');
  } finally {
    ctx.signal.removeEventListener('abort', abort);
    await client.end().catch(() => {});
  }
  const first = rows[0] ? Object.values(rows[0])[0] : undefined;
  const evidence = { on: p.on, write: p.write, rows: rows.length, ...(rows.length ? { value: first ?? null, firstRows: rows.slice(0, 5) } : {}) };
  const problems: string[] = [];
  const e = p.expect ?? {};
  if (typeof e.rows === 'number' && rows.length !== e.rows) problems.push(`${rows.length} rows, expected ${e.rows}`);
  if (typeof e.rows === 'object') {
    if (e.rows.min !== undefined && rows.length < e.rows.min) problems.push(`${rows.length} rows, expected at least ${e.rows.min}`);
    if (e.rows.max !== undefined && rows.length > e.rows.max) problems.push(`${rows.length} rows, expected at most ${e.rows.max}`);
  }
  if (e.value !== undefined && String(first ?? null) !== String(e.value)) problems.push(`value ${String(first ?? null)}, expected ${String(e.value)}`);
  if (e.compare && (first === undefined || !compare(first, e.compare.op, e.compare.value))) problems.push(`value ${String(first ?? 'none')} is not ${e.compare.op} ${e.compare.value}`);
  return problems.length ? fail(problems.join('; '), evidence) : pass(`${rows.length} row${rows.length === 1 ? '' : 's'}${first !== undefined ? `, value ${String(first)}` : ''}`, evidence);
};
