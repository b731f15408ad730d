/** The demo's RLS stage: `rls translate --mode compat --apply` when the target has its users table. */
import { withClient } from '../../db/connect.js';
import type { Progress } from '../../output/progress.js';
import { translateRls } from './translate.js';
import type { RlsTranslation } from './types.js';

export async function runRlsDemo(source: string, target: string, workDir: string, progress: Progress): Promise<RlsTranslation> {
  const hasUsers = await withClient(target, { role: 'target' }, async (c) =>
    (await c.query<{ ok: boolean }>("SELECT to_regclass('auth.users') IS NOT NULL AS ok")).rows[0]!.ok);
  if (!hasUsers) progress.log('info', 'the target has no auth.users yet (the auth stage creates it): policies classified, not installed');
  return translateRls({
    source, target, mode: 'compat', authLayout: { kind: 'keep' }, apply: hasUsers, force: false, disableRls: false, yes: false, workDir,
  }, progress);
}

export function rlsDemoSummary(r: RlsTranslation): { ok: boolean; summary: string } {
  const c = r.counts;
  const classes = `${c.total} policies: ${c.portable} portable, ${c.compat} compat, ${c['auth-translation']} auth translation, ${c['not-translatable']} not translatable`;
  return {
    ok: true,
    summary: r.installed ? `${classes}; ${c.installed} installed with the compatibility functions` : `${classes}; not installed: the target has no auth.users yet`,
  };
}
