/**
 * `validate`: offramp's own validation, in-process, with a mode and thresholds. The evidence is
 * its JSON result (summary and per-table verdicts; row values are never included).
 */
import { UsageError } from '../../../errors.js';
import type { StepParams } from '../schema.js';
import { fail, pass, type StepExecutor } from '../types.js';

export const runValidate: StepExecutor = async (ctx) => {
  const p = ctx.params as StepParams<'validate'>;
  const { source, target, connectTimeoutSeconds } = ctx.databases;
  if (!source || !target) throw new UsageError(`step ${ctx.step.id} validates the data, but the source or the target is not configured`, { hint: 'pass --source and --target, or set OFFRAMP_SOURCE_URL / OFFRAMP_TARGET_URL' });
  const { validate } = await import('../../validate/index.js');
  const report = await validate({
    source, target, mode: p.mode, connectTimeoutSeconds, tables: p.tables, schemas: p.schemas, excludeTables: p.excludeTables,
    skipSchema: p.skipSchema, showValues: false,
  });
  const s = report.summary;
  const evidence = {
    mode: report.mode, summary: s,
    tables: report.tables.map((t) => ({ table: t.table, status: t.status, rows: t.rows })),
  };
  const problems: string[] = [];
  if (s.tablesDiffering > p.maxDifferingTables) problems.push(`${s.tablesDiffering} tables differ (at most ${p.maxDifferingTables} allowed)`);
  if (s.schemaFailures > p.maxSchemaFailures) problems.push(`${s.schemaFailures} schema checks fail (at most ${p.maxSchemaFailures} allowed)`);
  const line = `${s.tablesOk}/${s.tables} tables equal, ${s.rowsTarget} rows on the target, ${s.schemaFailures} schema failures`;
  return problems.length ? fail(`${problems.join('; ')} — ${line}`, evidence) : pass(line, evidence);
};
