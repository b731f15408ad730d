/**
 * Running pg_dump for the schema sections and reading its plain-SQL output as a list of entries.
 * Every plain-format entry starts with a header comment naming it
 * ("-- Name: posts; Type: TABLE; Schema: public; Owner: -"); that is what offramp filters on,
 * the same unit pg_restore's TOC lists would give, without a custom-format round trip.
 */
import { runTool } from '../../db/run-tool.js';
import { ExternalToolError, UsageError } from '../../errors.js';
import { redact } from '../../secrets.js';
import { libpqEnv, type ConnectionInfo } from '../../db/url.js';
import { loadSqlParser, parseStatements, quoteIdent, type SqlStatement } from '../../db/sql-parse.js';

export interface DumpEntry {
  /** Position in the dump: pg_dump orders entries by dependency. */
  seq: number;
  name: string;
  type: string;
  schema: string | null;
  sql: string;
  /**
   * The entry's statements, parsed by the PostgreSQL parser on first use and then kept (always in
   * step with `sql`): most pre-data entries (functions, tables, types) are only ever run, never
   * read, and a cold parser costs real time at the start of every run.
   */
  readonly statements: SqlStatement[];
}

/** An entry whose `statements` are parsed once, when first asked for. */
export function dumpEntry(fields: Omit<DumpEntry, 'statements'>): DumpEntry {
  let parsed: SqlStatement[] | undefined;
  return {
    ...fields,
    get statements(): SqlStatement[] {
      parsed ??= parseStatements(fields.sql);
      return parsed;
    },
  };
}

/** The same entry with new SQL (the new text is parsed when needed). */
export function withSql(entry: DumpEntry, sql: string): DumpEntry {
  return sql === entry.sql ? entry : dumpEntry({ seq: entry.seq, name: entry.name, type: entry.type, schema: entry.schema, sql });
}

/** Statements joined back into one entry's SQL, each ending with exactly one `;`. */
export function joinStatements(statements: SqlStatement[]): string {
  return statements.map((s) => `${s.text};`).join('\n');
}

export interface ParsedDump {
  /** SET statements that precede the entries; every session that runs entries runs them first. */
  preamble: string;
  entries: DumpEntry[];
}

export interface PgDumpOptions {
  pgDump: string;
  source: ConnectionInfo;
  snapshot?: string;
  section: 'pre-data' | 'post-data';
  excludeSchemas: string[];
  includeSchemas: string[];
  /** Exact relations (tables and the sequences they own) to leave out. */
  excludeTables: Array<{ schema: string; name: string }>;
}

/** psql meta-commands newer pg_dumps write on lines of their own (not SQL: the server cannot run them). */
const META_COMMAND_LINE = /^\\(restrict|unrestrict)\b/;

/** Preamble settings a restore must not run: ones older target servers do not know. */
const UNKNOWN_SETTINGS = new Set(['transaction_timeout']);

export async function runPgDump(options: PgDumpOptions): Promise<string> {
  // The post-data section is dumped without --schema-only: then pg_dump adds a REFRESH MATERIALIZED
  // VIEW for each materialized view populated on the source (none for an unpopulated one), after
  // the indexes and in dependency order. Table data stays out: it is its own (data) section.
  const args = [
    ...(options.section === 'pre-data' ? ['--schema-only'] : []), `--section=${options.section}`, '--no-owner', '--no-publications', '--no-subscriptions',
    '--no-security-labels', '--no-tablespaces', '--quote-all-identifiers',
  ];
  if (options.snapshot) args.push(`--snapshot=${options.snapshot}`);
  // pg_dump reads these as patterns; a double-quoted name is literal and case-sensitive (a `"`
  // inside is doubled), so `Mixed Case`, `a*b` or `a.b` mean exactly that schema.
  if (options.includeSchemas.length === 0) {
    // No --schema at all would make pg_dump dump every schema, the platform's included.
    throw new UsageError('nothing to dump: the selection holds no schema', { hint: 'check --schema and --exclude-schema' });
  }
  for (const s of options.includeSchemas) args.push(`--schema=${quoteIdent(s)}`);
  for (const s of options.excludeSchemas) args.push(`--exclude-schema=${quoteIdent(s)}`);
  for (const t of options.excludeTables) args.push(`--exclude-table=${quoteIdent(t.schema)}.${quoteIdent(t.name)}`);
  const run = await runTool(options.pgDump, args, {
    env: { ...process.env, ...libpqEnv(options.source), PGAPPNAME: 'offramp-pg_dump', PGCONNECT_TIMEOUT: '15' },
    maxBuffer: 512 * 1024 * 1024,
  });
  if (run.exitCode !== 0) {
    const stderr = redact(String(run.stderr).trim());
    const mismatch = /server version mismatch/.test(stderr);
    throw new ExternalToolError(`pg_dump (${options.section}) failed: ${stderr.split('\n').slice(-3).join(' ')}`, {
      hint: mismatch
        ? 'pg_dump must be at least as new as the source server: install the matching postgresql-client package (offramp doctor shows the versions)'
        : 'run offramp doctor; rerun with --verbose for pg_dump\'s full error',
      detail: stderr,
    });
  }
  return String(run.stdout);
}

const HEADER = /^-- (?:Data for )?Name: (.*); Type: (.*); Schema: (.*); Owner: (.*?)(?:; Tablespace: .*)?$/;

/**
 * The last dumps parsed: copy reads the same pre-data and post-data text on the source side (roles)
 * and on the target side (apply), and each entry is parsed once. Entries are never changed in
 * place (withSql makes new ones), so sharing them is safe.
 */
const recent = new Map<string, ParsedDump>();

/** pg_dump's plain output as entries, each parsed (at most) once by the PostgreSQL parser. */
export async function parseDump(text: string): Promise<ParsedDump> {
  await loadSqlParser();
  const known = recent.get(text);
  if (known) return known;
  const parsed = parseDumpText(text);
  if (recent.size >= 2) recent.delete(recent.keys().next().value!);
  recent.set(text, parsed);
  return parsed;
}

function parseDumpText(text: string): ParsedDump {
  const lines = text.split('\n').filter((l) => !META_COMMAND_LINE.test(l));
  const preamble: string[] = [];
  const entries: DumpEntry[] = [];
  let current: { name: string; type: string; schema: string | null; body: string[] } | undefined;
  const flush = (): void => {
    if (!current) return;
    const sql = current.body.join('\n').trim();
    if (sql) entries.push(dumpEntry({ seq: entries.length, name: current.name, type: current.type, schema: current.schema, sql }));
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const header = HEADER.exec(line);
    if (header && lines[i - 1] === '--' && lines[i + 1] === '--') {
      // The "--" line before the header was pushed as body of the previous entry; drop it (the
      // preamble never takes comment lines, so there is nothing to drop from it).
      if (current) current.body.pop();
      flush();
      current = { name: header[1]!, type: header[2]!, schema: header[3] === '-' ? null : header[3]!, body: [] };
      i++; // skip the closing "--"
      continue;
    }
    if (current) current.body.push(line);
    else if (!line.startsWith('--')) preamble.push(line);
  }
  flush();
  const settings = parseStatements(preamble.join('\n'))
    .filter((st) => !(st.kind === 'VariableSetStmt' && UNKNOWN_SETTINGS.has(st.node.name as string)));
  return { preamble: joinStatements(settings), entries };
}
