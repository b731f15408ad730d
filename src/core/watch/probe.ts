/** The HTTP probe: one GET per tick; no answer (refused, timeout) counts as an error like a 5xx. */
import type { RequestEvent } from './nginx-log.js';

export async function probeOnce(url: string, timeoutMs: number, now: () => number): Promise<RequestEvent> {
  const started = performance.now();
  const at = now();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual', headers: { 'user-agent': 'offramp-watch' } });
    await response.arrayBuffer().catch(() => undefined);
    return { at, status: response.status, latencyMs: performance.now() - started };
  } catch {
    return { at, status: null, latencyMs: performance.now() - started };
  }
}
