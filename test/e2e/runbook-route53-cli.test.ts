/**
 * A cutover whose dns-update goes through Route 53 (the official SDK against the local stand-in),
 * run through the built CLI: the record changes, and the AWS SDK's NodeVersionSupportWarning does
 * not reach the user's stderr. A control run with the SDK's own switch explicitly off shows the
 * warning, so the check can see it when it is there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoute53Standin, type Route53Standin } from '../bed/provider-standins/route53.js';
import { runCli } from './run-cli.js';

const SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
let r53: Route53Standin;
const dirs: string[] = [];
let saved: string | undefined;

const RUNBOOK = `name: r53
phases:
  - id: switch
    steps:
      - id: switch-dns
        kind: dns-update
        params:
          provider: { type: route53, hostedZoneId: "\${ZONE_ID}", endpoint: "\${R53_URL}", region: us-east-1 }
          name: api.example.com
          type: A
          ttl: 300
          values: ["\${NEW_ADDRESS}"]
        undo: auto
`;

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'offramp-r53-cli-'));
  writeFileSync(join(dir, 'cutover.yaml'), RUNBOOK);
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  // The child inherits this process's environment: the default case must start without the switch.
  saved = process.env[SWITCH];
  delete process.env[SWITCH];
  r53 = await startRoute53Standin([{ name: 'api.example.com.', type: 'A', ttl: 3600, values: ['192.0.2.10'] }]);
  r53.pendingPolls = 0;
});
afterAll(async () => {
  if (saved !== undefined) process.env[SWITCH] = saved;
  await r53?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('cutover run with the route53 provider (CLI)', () => {
  it('changes the record and prints no NodeVersionSupportWarning; the warning would be seen if the SDK printed it', async () => {
    const started = Date.now();
    const env = { ZONE_ID: r53.hostedZoneId, R53_URL: r53.url, AWS_ACCESS_KEY_ID: r53.accessKeyId, AWS_SECRET_ACCESS_KEY: r53.secretAccessKey };

    const run = await runCli(['cutover', 'run', '--runbook', 'cutover.yaml', '--yes'], { cwd: project(), env: { ...env, NEW_ADDRESS: '198.51.100.7' } });
    expect({ exit: run.exitCode, stderr: run.stderr }).toMatchObject({ exit: 0 });
    expect(r53.sets.get('api.example.com.|A')).toMatchObject({ ttl: 300, values: ['198.51.100.7'] });
    expect(run.stderr).not.toMatch(/NodeVersionSupportWarning|AWS SDK for JavaScript/);
    expect(run.stdout).not.toMatch(/NodeVersionSupportWarning/);

    // Control: the user turned the SDK's switch off explicitly; offramp leaves that choice alone,
    // and on Node < 22 the SDK's warning then shows on stderr.
    const control = await runCli(['cutover', 'run', '--runbook', 'cutover.yaml', '--yes'], { cwd: project(), env: { ...env, NEW_ADDRESS: '198.51.100.8', [SWITCH]: 'false' } });
    expect(control.exitCode).toBe(0);
    expect(r53.sets.get('api.example.com.|A')).toMatchObject({ values: ['198.51.100.8'] });
    expect(/NodeVersionSupportWarning/.test(control.stderr)).toBe(Number(process.versions.node.split('.')[0]) < 22);

    for (const text of [run.stdout, run.stderr, control.stdout, control.stderr]) expect(text).not.toContain(r53.secretAccessKey);
    console.log(`runbook-route53-cli: two route53 cutovers took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 60_000);
});
