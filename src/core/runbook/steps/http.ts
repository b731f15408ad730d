/** `http`: GET/HEAD a URL; expect a status, a body match and a latency bound. */
import type { StepParams } from '../schema.js';
import { fail, pass, type StepExecutor } from '../types.js';
import { headersOfInterest, httpCall, readCa } from './request.js';

export const runHttp: StepExecutor = async (ctx) => {
  const p = ctx.params as StepParams<'http'>;
  const res = await httpCall(p.url, { method: p.method, headers: p.headers, ca: readCa(p.ca), signal: ctx.signal, now: () => performance.now() });
  const latencyMs = Math.round(res.latencyMs);
  const statuses = Array.isArray(p.expectStatus) ? p.expectStatus : [p.expectStatus];
  const evidence = { url: p.url, method: p.method, status: res.status, latencyMs, headers: headersOfInterest(res.headers) } as Record<string, unknown>;
  const problems: string[] = [];
  if (!statuses.includes(res.status)) problems.push(`status ${res.status}, expected ${statuses.join(' or ')}`);
  if (p.bodyMatch !== undefined) {
    const matched = new RegExp(p.bodyMatch).test(res.body);
    evidence.bodyMatched = matched;
    if (!matched) problems.push(`body does not match /${p.bodyMatch}/`);
  }
  if (p.maxLatency !== undefined && latencyMs > p.maxLatency) problems.push(`latency ${latencyMs} ms above ${p.maxLatency} ms`);
  return problems.length ? fail(problems.join('; '), evidence) : pass(`${res.status} in ${latencyMs} ms`, evidence);
};
