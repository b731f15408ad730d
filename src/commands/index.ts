import type { Command } from 'commander';
import { defineAuthMigrate } from './auth-migrate.js';
import { defineAuthVerify } from './auth-verify.js';
import { type CommandRunner, examples } from './context.js';
import { defineCopy } from './copy.js';
import { defineCutover } from './cutover.js';
import { defineDemo } from './demo.js';
import { defineDoctor } from './doctor.js';
import { defineDump } from './dump.js';
import { defineInit } from './init.js';
import { defineInspect } from './inspect.js';
import { defineRestore } from './restore.js';
import { defineRlsTranslate } from './rls-translate.js';
import { defineRollback } from './rollback.js';
import { defineRlsVerify } from './rls-verify.js';
import { defineValidate } from './validate.js';
import { defineWatch } from './watch.js';

export type Run = (runner: CommandRunner, options: Record<string, unknown>, command: Command) => Promise<void>;

/** Every offramp command, in the order of a migration. */
export function defineCommands(program: Command, run: Run): void {
  defineInit(program, run);
  defineInspect(program, run);
  defineDoctor(program, run);
  defineCopy(program, run);
  defineDump(program, run);
  defineRestore(program, run);
  defineValidate(program, run);
  const auth = program.command('auth').description('Supabase Auth users into local tables (migrate), and proof nobody is locked out (verify)');
  defineAuthMigrate(auth, run);
  defineAuthVerify(auth, run);
  const rls = program.command('rls').description('row level security: translate the policies (and prove them)')
    .addHelpText('after', examples('offramp rls translate --mode compat --apply', 'offramp rls translate --mode app --markdown predicates.md'));
  defineRlsTranslate(rls, run);
  defineRlsVerify(rls, run);
  defineWatch(program, run);
  defineCutover(program, run);
  defineRollback(program, run);
  defineDemo(program, run);
}
