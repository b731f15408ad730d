/**
 * `cors`: what a browser does before the real request. A preflight OPTIONS with Origin and
 * Access-Control-Request-Method/Headers, then the request itself from that origin. Passes when the
 * origin is echoed (never `*` with credentials), credentials are allowed when asked, and the
 * method and headers the client needs are allowed — the "Failed to fetch" of the reference migration.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { StepParams } from '../schema.js';
import { fail, pass, type StepExecutor } from '../types.js';
import { headersOfInterest, httpCall, readCa } from './request.js';

const SIMPLE_METHODS = ['GET', 'HEAD', 'POST'];

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
}

/** Problems with the origin/credentials headers of one response. */
function originProblems(h: IncomingHttpHeaders, origin: string, credentials: boolean, which: string): string[] {
  const allowOrigin = header(h, 'access-control-allow-origin');
  const problems: string[] = [];
  if (allowOrigin === undefined) problems.push(`${which}: no Access-Control-Allow-Origin`);
  else if (allowOrigin === '*' && credentials) problems.push(`${which}: Access-Control-Allow-Origin is "*", which browsers reject with credentials`);
  else if (allowOrigin !== '*' && allowOrigin !== origin) problems.push(`${which}: Access-Control-Allow-Origin is "${allowOrigin}", not "${origin}"`);
  if (credentials && header(h, 'access-control-allow-credentials') !== 'true') problems.push(`${which}: Access-Control-Allow-Credentials is not "true"`);
  return problems;
}

export const runCors: StepExecutor = async (ctx) => {
  const p = ctx.params as StepParams<'cors'>;
  const ca = readCa(p.ca);
  const method = p.method.toUpperCase();
  const now = (): number => performance.now();
  const preflight = await httpCall(p.url, {
    method: 'OPTIONS',
    headers: {
      Origin: p.origin,
      'Access-Control-Request-Method': method,
      ...(p.requestHeaders.length ? { 'Access-Control-Request-Headers': p.requestHeaders.join(', ').toLowerCase() } : {}),
    },
    ca, signal: ctx.signal, now,
  });
  const problems: string[] = [];
  if (preflight.status < 200 || preflight.status > 299) problems.push(`preflight: status ${preflight.status}`);
  problems.push(...originProblems(preflight.headers, p.origin, p.credentials, 'preflight'));
  const methods = list(header(preflight.headers, 'access-control-allow-methods'));
  const methodAllowed = SIMPLE_METHODS.includes(method) || methods.includes(method.toLowerCase()) || (!p.credentials && methods.includes('*'));
  if (!methodAllowed) problems.push(`preflight: method ${method} not in Access-Control-Allow-Methods (${methods.join(', ') || 'none'})`);
  const allowedHeaders = list(header(preflight.headers, 'access-control-allow-headers'));
  // "*" never covers Authorization, and covers nothing with credentials (Fetch standard).
  const missing = p.requestHeaders.filter((h) => {
    const name = h.toLowerCase();
    return !allowedHeaders.includes(name) && !(allowedHeaders.includes('*') && !p.credentials && name !== 'authorization');
  });
  if (missing.length) problems.push(`preflight: header${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not in Access-Control-Allow-Headers (${allowedHeaders.join(', ') || 'none'})`);

  const actual = await httpCall(p.url, { method, headers: { ...p.headers, Origin: p.origin }, ca, signal: ctx.signal, now });
  problems.push(...originProblems(actual.headers, p.origin, p.credentials, 'request'));
  const evidence = {
    url: p.url, origin: p.origin, method, credentials: p.credentials, requestHeaders: p.requestHeaders,
    preflight: { status: preflight.status, headers: headersOfInterest(preflight.headers) },
    request: { status: actual.status, headers: headersOfInterest(actual.headers) },
  };
  return problems.length ? fail(problems.join('; '), evidence) : pass(`${p.origin} may ${method} ${p.url}${p.credentials ? ' with credentials' : ''}`, evidence);
};
