/**
 * The corruption trigger's check: offramp's validation, in process, reduced to "did the target
 * lose or damage data". After the cutover the target takes writes the source never sees, so by
 * default (policy lost-rows) rows only on the target, and row counts that grew, are not failures.
 */
import type { ValidateReport } from '../validate/types.js';
import type { WatchConfig } from './config.js';
import type { ValidationOutcome } from './triggers.js';

export interface ValidationSides { source: string; target: string }

export function judgeValidation(report: ValidateReport, policy: WatchConfig['validation']['policy'], at: number): ValidationOutcome {
  if (policy === 'exact') {
    const s = report.summary;
    return { at, failed: !s.ok, summary: `${s.tablesDiffering} of ${s.tables} tables differ, ${s.rowDifferences} row differences` };
  }
  const problems: string[] = [];
  for (const t of report.tables) {
    if (t.status === 'missing_on_target') problems.push(`${t.table} missing on the target`);
    else if (t.status === 'error') problems.push(`${t.table}: ${t.note ?? 'could not be compared'}`);
    else if (t.rows.source !== null && t.rows.target !== null && t.rows.target < t.rows.source) problems.push(`${t.table}: ${t.rows.source - t.rows.target} fewer rows on the target`);
    else {
      const lost = t.differences.filter((d) => d.kind === 'missing').length;
      if (lost > 0) problems.push(`${t.table}: ${lost}${t.differencesTruncated ? '+' : ''} rows missing on the target`);
    }
  }
  return { at, failed: problems.length > 0, summary: problems.length > 0 ? problems.slice(0, 5).join('; ') + (problems.length > 5 ? ` (+${problems.length - 5} more)` : '') : `${report.tables.length} tables, nothing lost` };
}

export async function runValidation(sides: ValidationSides, config: WatchConfig['validation'], at: number): Promise<ValidationOutcome> {
  try {
    const { validate } = await import('../validate/index.js');
    const report = await validate({ source: sides.source, target: sides.target, mode: config.mode, tables: config.tables, skipSchema: true, jobs: 1 });
    return judgeValidation(report, config.policy, at);
  } catch (error) {
    return { at, failed: false, summary: '', error: error instanceof Error ? error.message : String(error) };
  }
}
