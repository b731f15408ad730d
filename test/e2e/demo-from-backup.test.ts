/**
 * Issue 9: `offramp demo --from-backup` moves the fixture through a dashboard-style backup file
 * (pg_dumpall | gzip, made by the real tool) and `restore --from` instead of a live copy, then
 * validates. The demo's servers are gone afterwards, so its own validate stage (server-computed
 * counts and hashes on both sides) is the independent check of what the restore wrote; the file,
 * which holds role password hashes, is removed with them.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/** Every file name under dir, recursively (symbolic links not followed). */
function namesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() && !e.isSymbolicLink() ? [e.name, ...namesUnder(join(dir, e.name))] : [e.name]);
}

describe('offramp demo --from-backup', () => {
  it('backs the source up as the dashboard does, restores the file into the target, validates; nothing left behind', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'offramp-e9-demo-'));
    chmodSync(tmp, 0o755);
    const report = join(tmp, 'report.md');
    const r = await runCli(['demo', '--from-backup', '--report', report, '--json'], { env: { TMPDIR: tmp } });
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    const stages = doc.result.stages as Array<{ name: string; ok: boolean }>;
    // The backup and restore --from stages replace the live copy.
    expect(stages.map((s) => s.name)).toEqual(['fixture', 'inspect', 'doctor', 'backup', 'restore --from', 'auth', 'rls translate', 'validate', 'rls verify', 'cutover']);
    expect(stages.every((s) => s.ok)).toBe(true);
    expect(doc.result.backup.file).toMatch(/db_cluster-\d{2}-\d{2}-\d{4}@\d{2}-\d{2}-\d{2}\.backup$/);
    expect(doc.result.backup.restore).toMatchObject({ ok: true, kind: 'dashboard' });
    expect(doc.result.backup.restore.load.roles.passwordsFound).toBeGreaterThanOrEqual(1);
    expect(doc.result.validate.summary).toMatchObject({ ok: true, tablesDiffering: 0 });
    expect(doc.result.validate.tables.find((t: { table: string }) => t.table === 'public.posts'))
      .toMatchObject({ status: 'ok', rows: { source: 298, target: 298 }, hash: { equal: true } });

    // The backup file and the scratch server are gone; no server of this run is still up.
    expect(namesUnder(tmp).filter((n) => n.startsWith('db_cluster-'))).toEqual([]);
    const ps = await execa('ps', ['-eo', 'args='], { reject: false });
    expect(String(ps.stdout).split('\n').filter((l) => l.includes(tmp) && !l.includes('ps -eo'))).toEqual([]);

    const md = readFileSync(report, 'utf8');
    expect(md).toMatch(/## Backup file \(offramp demo --from-backup\)/);
    expect(`${r.stdout}${r.stderr}${md}`).not.toMatch(/SCRAM-SHA-256\$|postgresql:\/\/[^:\s]+:[0-9a-f]{16,}@/);
  }, 300_000);
});
