/**
 * Is a post-data entry already on the target? A resume replays post-data from the start, and
 * part of it may have committed before the kill. Catching "already exists" is not enough: a
 * constraint attached USING INDEX fails on replay with "index ... is already associated with a
 * constraint", a different error. So each statement is read with the PostgreSQL parser and the
 * object it creates is looked up in the catalog (sql/move/post-data-exists.sql).
 */
import { parse } from 'libpg-query';
import type pg from 'pg';
import { loadSql, query } from '../../db/sql.js';

interface RangeVar { schemaname?: string; relname: string }
type Node = Record<string, unknown>;

/** What a statement creates, as the catalog query's arguments; undefined when it creates nothing nameable. */
type Lookup = [kind: string, schema: string, relname: string, name: string, childSchema: string | null];

// pg_dump qualifies every name in post-data (it runs with an empty search_path); 'public' only as a fallback.
const schemaOf = (r: RangeVar): string => r.schemaname ?? 'public';
const strings = (list: unknown): string[] => ((list as Array<{ String?: { sval: string } }> | undefined) ?? []).map((n) => n.String?.sval ?? '');

function lookupFor(stmt: Node): Lookup | undefined {
  const [kind, body] = Object.entries(stmt)[0] as [string, Node];
  switch (kind) {
    case 'IndexStmt': {
      const rel = body.relation as RangeVar;
      return body.idxname ? ['index', schemaOf(rel), rel.relname, body.idxname as string, null] : undefined;
    }
    case 'CreateTrigStmt': {
      const rel = body.relation as RangeVar;
      return ['trigger', schemaOf(rel), rel.relname, body.trigname as string, null];
    }
    case 'CreatePolicyStmt': {
      const rel = body.table as RangeVar;
      return ['policy', schemaOf(rel), rel.relname, body.policy_name as string, null];
    }
    case 'RuleStmt': {
      const rel = body.relation as RangeVar;
      return ['rule', schemaOf(rel), rel.relname, body.rulename as string, null];
    }
    case 'CreateStatsStmt': {
      const names = strings(body.defnames);
      return names.length > 0 ? ['statistics', names.length > 1 ? names[0]! : 'public', '', names.at(-1)!, null] : undefined;
    }
    case 'AlterTableStmt': {
      const rel = body.relation as RangeVar;
      const cmd = ((body.cmds as Array<{ AlterTableCmd?: Node }> | undefined) ?? [])[0]?.AlterTableCmd;
      if (!cmd) return undefined;
      if (cmd.subtype === 'AT_AddConstraint') {
        const name = ((cmd.def as Node | undefined)?.Constraint as Node | undefined)?.conname as string | undefined;
        return name ? ['constraint', schemaOf(rel), rel.relname, name, null] : undefined;
      }
      if (cmd.subtype === 'AT_AttachPartition' && body.objtype === 'OBJECT_INDEX') {
        const child = ((cmd.def as Node).PartitionCmd as Node).name as RangeVar;
        return ['index-attach', schemaOf(rel), rel.relname, child.relname, schemaOf(child)];
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * true when every object the entry's SQL creates is already on the target; false when one is
 * missing, or when it creates nothing the catalog can name (comments, CLUSTER ON, REPLICA
 * IDENTITY, REFRESH MATERIALIZED VIEW: those are safe to run again).
 */
export async function alreadyOnTarget(client: pg.ClientBase, sql: string): Promise<boolean> {
  const lookups = ((await parse(sql)).stmts ?? []).map((s) => lookupFor(s.stmt as unknown as Node)).filter((l): l is Lookup => l !== undefined);
  if (lookups.length === 0) return false;
  for (const args of lookups) {
    const [row] = await query<{ present: boolean }>(client, loadSql('move/post-data-exists.sql'), args, 'look for an object of post-data');
    if (!row?.present) return false;
  }
  return true;
}
