import { UsageError } from '../errors.js';
import type { GlobalOptions } from './context.js';

const isConnectionUrl = (value: string): boolean => /^postgres(ql)?:\/\//i.test(value);

/**
 * The backup files given as --source (inspect and doctor read a file as they read a database),
 * or undefined when --source is a connection URL or absent. Anything that is not a URL is taken
 * as a path; what it holds is told from its content later (detectBackup).
 */
export function sourceFiles(globals: GlobalOptions): string[] | undefined {
  const given = globals.sources ?? [];
  const files = given.filter((v) => !isConnectionUrl(v));
  if (files.length === 0) return undefined;
  if (files.length < given.length) {
    throw new UsageError('--source is either a connection URL or backup files, not both', {
      hint: 'inspect a database with --source postgresql://…, or a backup with --source FILE (repeatable for the supabase db dump trio)',
    });
  }
  return files;
}
