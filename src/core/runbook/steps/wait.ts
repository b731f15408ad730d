/**
 * `wait`: a fixed duration, the old TTL a dns-update step recorded (so caches holding the old
 * answer have expired), or until another step passes (polled). Time comes from the injected clock.
 */
import type { StepParams } from '../schema.js';
import { fail, pass, type StepExecutor } from '../types.js';

function human(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 6000) / 10} min` : `${Math.round(ms / 100) / 10} s`;
}

export const runWait: StepExecutor = async (ctx) => {
  const p = ctx.params as StepParams<'wait'>;
  if (p.until !== undefined) {
    const started = ctx.clock.now();
    let attempts = 0;
    for (;;) {
      attempts++;
      const outcome = await ctx.check(p.until, ctx.signal);
      const waited = ctx.clock.now() - started;
      if (outcome.ok) return pass(`${p.until} passed after ${attempts} attempt${attempts > 1 ? 's' : ''} (${human(waited)})`, { until: p.until, attempts, waitedMs: waited, last: outcome.evidence });
      if (waited + p.interval > p.within) return fail(`${p.until} did not pass within ${human(p.within)}: ${outcome.detail}`, { until: p.until, attempts, waitedMs: waited, last: outcome.evidence });
      ctx.update(`${p.until}: ${outcome.detail} (attempt ${attempts}, next in ${human(p.interval)})`);
      await ctx.clock.sleep(p.interval, ctx.signal);
    }
  }
  let ms = p.duration ?? 0;
  let reason = 'fixed duration';
  if (p.ttlOf !== undefined) {
    const update = ctx.passed.get(p.ttlOf);
    const previous = (update?.evidence as { previous?: { ttl?: number } | null } | undefined)?.previous;
    if (!update) return fail(`${p.ttlOf} has not passed: there is no old TTL to wait out`, { ttlOf: p.ttlOf });
    ms = (previous?.ttl ?? 0) * 1000;
    reason = `old TTL of ${p.ttlOf}`;
  }
  const until = ctx.clock.now() + ms;
  // Sleep in slices so the live view can count down.
  while (ctx.clock.now() < until) {
    ctx.update(`${human(until - ctx.clock.now())} left (${reason})`);
    await ctx.clock.sleep(Math.min(10_000, until - ctx.clock.now()), ctx.signal);
  }
  return pass(`waited ${human(ms)} (${reason})`, { waitedMs: ms, reason });
};
