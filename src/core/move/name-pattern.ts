/**
 * The names and patterns of the selection flags, read the way psql and pg_dump read them:
 * double quotes make what they enclose literal (`""` inside is one `"`), an unquoted `.`
 * separates schema from table, an unquoted `*` or `?` is a wildcard. One difference, kept
 * from offramp's first release: unquoted letters are matched case-sensitively, not folded to
 * lower case (`app.Sel*` matches `app."Select"`).
 */
import { UsageError } from '../../errors.js';

export interface TablePattern {
  /** The pattern as the user wrote it. */
  text: string;
  matches(schema: string, name: string): boolean;
}

const regexSpecial = /[|*+?()[\]{}.^$\\]/;

/** Split a pattern into dot-separated parts, each a regular expression source. */
function patternParts(text: string, flag: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      if (inQuotes && text[i + 1] === '"') {
        current += '"';
        i++;
      } else {
        inQuotes = !inQuotes;
      }
    } else if (!inQuotes && ch === '.') {
      parts.push(current);
      current = '';
    } else if (!inQuotes && ch === '*') {
      current += '.*';
    } else if (!inQuotes && ch === '?') {
      current += '.';
    } else {
      current += regexSpecial.test(ch) ? `\\${ch}` : ch;
    }
  }
  parts.push(current);
  if (inQuotes) throw new UsageError(`${flag} ${text}: unterminated double quote`, { hint: 'close the quote; inside quotes write "" for a double quote' });
  return parts;
}

/** An --exclude-table pattern: `table` (schema public), `schema.table`, with quotes and wildcards. */
export function parseTablePattern(text: string): TablePattern {
  const parts = patternParts(text, '--exclude-table');
  if (parts.length > 2 || parts.some((p) => p === '')) {
    throw new UsageError(`--exclude-table ${text} is not a table name`, {
      hint: 'write schema.table or table (schema public); quote names holding dots, capitals or spaces, e.g. \'public."Order"\'',
    });
  }
  const [schema, name] = parts.length === 2 ? parts : ['public', parts[0]!];
  const schemaRe = new RegExp(`^(?:${schema})$`, 's');
  const nameRe = new RegExp(`^(?:${name})$`, 's');
  return { text, matches: (s, n) => schemaRe.test(s) && nameRe.test(n) };
}

/**
 * A --schema / --exclude-schema value: the exact schema name, or a double-quoted identifier
 * (`"Mixed Case"`) whose quotes are taken away.
 */
export function exactName(text: string): string {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    const inner = text.slice(1, -1);
    // Only a well-formed quoted identifier (every inner quote doubled) is unquoted.
    if (inner.split('""').every((piece) => !piece.includes('"'))) return inner.replace(/""/g, '"');
  }
  return text;
}
