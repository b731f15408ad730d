/**
 * The queries of sql steps, read with PostgreSQL's own parser before anything runs: a syntax error,
 * or a statement that writes in a step without `write: true`, is a runbook problem (exit 2) — found
 * at plan time, not halfway through a cutover. At run time the READ ONLY transaction still guards.
 */
import { parse } from 'libpg-query';
import { RunbookError } from './load.js';
import type { Runbook } from './schema.js';

/** Statements that only read. SELECT … INTO creates a table, so it is a write. */
function readOnlyStatement(node: Record<string, unknown>): boolean {
  const [type, body] = Object.entries(node)[0] ?? [];
  if (type === 'SelectStmt') return !(body as { intoClause?: unknown }).intoClause;
  if (type === 'ExplainStmt') {
    const explain = body as { query?: Record<string, unknown>; options?: Array<{ DefElem?: { defname?: string } }> };
    const analyze = (explain.options ?? []).some((o) => o.DefElem?.defname === 'analyze');
    return !analyze || (explain.query ? readOnlyStatement(explain.query) : true);
  }
  return type === 'VariableShowStmt';
}

export async function checkSqlSteps(rb: Runbook): Promise<void> {
  const problems: string[] = [];
  for (const step of rb.phases.flatMap((p) => p.steps)) {
    if (step.kind !== 'sql') continue;
    const query = String(step.params.query);
    if (/\$\{[A-Za-z_]\w*\}/.test(query) && rb.unset.length) continue; // not resolvable yet: the plan lists the variable
    const where = `${rb.file}:${step.line}: step "${step.id}"`;
    try {
      const tree = await parse(query);
      if (step.params.write !== true) {
        const writes = (tree.stmts ?? []).map((s) => s.stmt as Record<string, unknown>).filter((s) => !readOnlyStatement(s)).map((s) => Object.keys(s)[0]);
        if (writes.length) problems.push(`${where}: the query changes data (${writes.join(', ')}) but the step is read-only; add write: true (target only) if that is intended`);
      }
    } catch (error) {
      const e = error as { message?: string; sqlDetails?: { cursorPosition?: number } };
      const at = e.sqlDetails?.cursorPosition !== undefined ? ` (at character ${e.sqlDetails.cursorPosition + 1} of the query)` : '';
      problems.push(`${where}: the query is not valid SQL: ${e.message ?? String(error)}${at}`);
    }
  }
  if (problems.length) throw new RunbookError(rb.file, problems);
}
