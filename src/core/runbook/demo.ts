/**
 * The cutover stage of `offramp demo`: `cutover plan` of the shipped runbook, and a
 * `cutover run --dry-run` of a small runbook over local endpoints (an HTTP server started here and
 * the demo's databases). Checks run for real; DNS changes, waits and confirmations are only described.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Progress } from '../../output/progress.js';
import { PACKAGE_ROOT } from '../../version.js';
import { cutoverPlan, cutoverRun, type PlanResult } from './cutover.js';
import { DEFAULT_RUNBOOKS, type RunbookRunResult } from './session.js';

export interface CutoverDemoResult {
  plan: PlanResult;
  dryRun: RunbookRunResult;
  /** The dry run's Markdown report. */
  markdown: string;
}

const DEMO_RUNBOOK = `name: demo-cutover
description: The default runbook's shape over local parts.
phases:
  - id: pre-cutover
    title: Pre-cutover checklist
    steps:
      - { id: monitoring-active, title: Monitoring active, kind: manual }
      - id: new-server-health
        title: The new server answers its health check
        kind: http
        params: { url: "\${BASE}/health", bodyMatch: '"status":"ok"', maxLatency: 5s }
      - id: new-server-cors
        title: Browsers on the app's origin may call the API
        kind: cors
        params: { url: "\${BASE}/rest/v1/", origin: "https://app.example.com", method: GET, requestHeaders: [authorization, apikey] }
  - id: lower-ttl
    title: Lower the TTL and wait out the old one
    steps:
      - { id: lower-ttl, kind: dns-update, params: { provider: { type: manual }, name: api.example.com, ttl: 300 }, undo: auto }
      - { id: old-ttl-expired, kind: wait, params: { ttlOf: lower-ttl } }
  - id: final-validation
    title: Final validation
    steps:
      - { id: final-validation, title: Source and target hold the same rows, kind: validate, params: { mode: counts } }
      - id: posts-copied
        title: The posts are on the target
        kind: sql
        params: { on: target, query: "SELECT count(*) FROM public.posts", expect: { compare: { op: ">", value: 0 } } }
  - id: switch
    title: Switch the API name
    steps:
      - { id: switch-dns, kind: dns-update, requires: [final-validation, lower-ttl], params: { provider: { type: manual }, name: api.example.com, ttl: 300, values: [127.0.0.1] }, undo: auto }
`;

export async function runCutoverDemo(options: { source: string; target: string }, progress: Progress): Promise<CutoverDemoResult> {
  const server = createServer((req, res) => {
    const origin = req.headers.origin;
    const cors = origin ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
    if (req.url === '/health') res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    else if (req.url === '/rest/v1/' && req.method === 'OPTIONS') res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'authorization, apikey, content-type' }).end();
    else if (req.url === '/rest/v1/') res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end('[]');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const dir = mkdtempSync(join(tmpdir(), 'offramp-demo-cutover-'));
    const file = join(dir, 'cutover.yaml');
    writeFileSync(file, DEMO_RUNBOOK);
    const plan = await cutoverPlan({ runbook: join(PACKAGE_ROOT, DEFAULT_RUNBOOKS.cutover), workDir: join(dir, '.offramp') });
    const dryRun = await cutoverRun(
      { runbook: file, workDir: join(dir, '.offramp'), dryRun: true, rerun: false, yes: false, confirmed: [], interactive: false },
      progress,
      { io: { env: { ...process.env, BASE: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } }, databases: { source: options.source, target: options.target } },
    );
    return { plan, dryRun, markdown: readFileSync(dryRun.report, 'utf8') };
  } finally {
    server.close();
  }
}
