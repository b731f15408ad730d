/**
 * `manual`: a checklist item a person confirms. Confirmed up front with --confirmed ID, or at an
 * interactive prompt naming the step; refused (the run stops, exit 4) when nobody can answer.
 */
import type { StepParams } from '../schema.js';
import type { StepExecutor } from '../types.js';

export const runManual: StepExecutor = async (ctx) => {
  const p = ctx.params as StepParams<'manual'>;
  const by = ctx.io.operator;
  if (ctx.io.confirmed.includes(ctx.step.id)) {
    return { ok: true, detail: `confirmed by ${by} (--confirmed)`, evidence: { confirmedBy: by, via: '--confirmed' }, confirmed: { by, via: '--confirmed' } };
  }
  if (!ctx.io.interactive) {
    return {
      ok: false, final: true,
      detail: `needs a person: confirm "${ctx.step.title}" with --confirmed ${ctx.step.id} (or run in a terminal)`,
      evidence: { confirmedBy: null },
    };
  }
  const question = `[${ctx.step.id}] ${ctx.step.title}${p.instructions ? `\n  ${p.instructions.trim().replace(/\n/g, '\n  ')}` : ''}\n  Done and confirmed by ${by}?`;
  if (await ctx.io.confirm(question)) {
    return { ok: true, detail: `confirmed by ${by} at the prompt`, evidence: { confirmedBy: by, via: 'prompt' }, confirmed: { by, via: 'prompt' } };
  }
  return { ok: false, final: true, detail: `not confirmed by ${by}`, evidence: { confirmedBy: null, declinedBy: by } };
};
