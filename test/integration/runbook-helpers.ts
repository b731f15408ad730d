/**
 * Local parts for runbook tests: a private CA and a server certificate made with the openssl CLI,
 * and an HTTPS server that answers a health check (behind a bearer token) and CORS requests
 * correctly on /rest/v1/ and wrongly on /bad-cors/ (the reference migration's "Failed to fetch").
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  caFile: string;
  key: Buffer;
  cert: Buffer;
}

/** A CA and a certificate for api.offramp.test / localhost / 127.0.0.1 valid for `days`. */
export function makeCertificates(days = 5): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'offramp-ca-'));
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=offramp test CA');
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=api.offramp.test');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:api.offramp.test,DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', String(days), '-extfile', 'ext.cnf');
  return { dir, caFile: join(dir, 'ca.pem'), key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) };
}

export interface TestApi {
  port: number;
  base: string;
  /** Authorization headers the server has seen (the token test checks it arrived). */
  seenAuth: string[];
  close(): Promise<void>;
}

export async function startApi(ca: TestCa, token: string): Promise<TestApi> {
  const seenAuth: string[] = [];
  const server: Server = createServer({ key: ca.key, cert: ca.cert }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://x');
    const origin = req.headers.origin;
    if (url.pathname === '/health') {
      seenAuth.push(String(req.headers.authorization ?? ''));
      if (req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', server: 'offramp-test' }).end('{"status":"ok","db":"up"}');
      return;
    }
    if (url.pathname === '/rest/v1/') {
      const cors = origin ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' } : {};
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST, PATCH, DELETE', 'access-control-allow-headers': 'authorization, apikey, content-type, prefer' }).end();
        return;
      }
      res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end('[]');
      return;
    }
    if (url.pathname === '/bad-cors/') {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET', 'access-control-allow-headers': 'content-type' }).end();
        return;
      }
      res.writeHead(200, { 'access-control-allow-origin': '*' }).end('[]');
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port, base: `https://localhost:${port}`, seenAuth,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
