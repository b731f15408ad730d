/** Shared plumbing of the provider stand-ins: a loopback HTTP server, a request log, injected faults. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface LoggedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Fault {
  status: number;
  /** Body and headers to answer with instead of doing the work. */
  body: string;
  headers?: Record<string, string>;
}

export interface StandinServer {
  url: string;
  requests: LoggedRequest[];
  /** Answer the next `times` requests matching `when` with `fault` (Infinity: always). */
  inject(fault: Fault, times: number, when?: (r: LoggedRequest) => boolean): void;
  close(): Promise<void>;
}

export type Handler = (request: LoggedRequest) => { status: number; body: string; headers?: Record<string, string> };

export async function startStandin(handler: Handler, contentType: string): Promise<StandinServer> {
  const requests: LoggedRequest[] = [];
  const faults: Array<{ fault: Fault; left: number; when?: (r: LoggedRequest) => boolean }> = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://standin');
      const logged: LoggedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(logged);
      const f = faults.find((x) => x.left > 0 && (!x.when || x.when(logged)));
      let answer: { status: number; body: string; headers?: Record<string, string> };
      if (f) {
        f.left--;
        answer = f.fault;
      } else {
        try {
          answer = handler(logged);
        } catch (error) {
          answer = { status: 500, body: String(error) };
        }
      }
      res.writeHead(answer.status, { 'content-type': contentType, ...answer.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    inject: (fault, times, when) => void faults.push({ fault, left: times, when }),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
