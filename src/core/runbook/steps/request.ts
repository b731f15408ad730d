/**
 * One HTTP(S) request with what the http and cors steps need and fetch cannot give without extra
 * dependencies: a private CA per request, the exact response headers, and the latency.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { UsageError } from '../../../errors.js';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** At most the first 64 KiB, as text. */
  body: string;
  latencyMs: number;
}

const BODY_LIMIT = 64 * 1024;

export function readCa(file: string | undefined): Buffer | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`cannot read the CA file ${file}: ${(error as Error).message}`);
  }
}

export function httpCall(url: string, init: { method: string; headers?: Record<string, string>; ca?: Buffer; signal: AbortSignal; now: () => number }): Promise<HttpResponse> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const started = init.now();
  return new Promise((resolve, reject) => {
    const req = send(u, { method: init.method, headers: init.headers, signal: init.signal, ...(init.ca ? { ca: init.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < BODY_LIMIT) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: Buffer.concat(chunks).subarray(0, BODY_LIMIT).toString('utf8'),
        latencyMs: init.now() - started,
      }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Response headers worth keeping as evidence (never cookies or auth). */
export function headersOfInterest(headers: IncomingHttpHeaders): Record<string, string> {
  const keep = /^(content-type|content-length|server|cache-control|location|strict-transport-security|access-control-.*|vary|x-request-id)$/;
  return Object.fromEntries(Object.entries(headers).filter(([k, v]) => keep.test(k) && v !== undefined).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
}
