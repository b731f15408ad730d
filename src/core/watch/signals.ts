/**
 * What `watch` keeps in the work directory: the latency baseline recorded before the cutover,
 * and manual triggers (one small JSON file per fired name), written atomically so a watch
 * reading at the same moment never sees half a file.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { redact } from '../../secrets.js';
import type { Baseline, ManualSignal } from './triggers.js';

export const watchDir = (workDir: string): string => join(workDir, 'watch');
export const baselinePath = (workDir: string): string => join(watchDir(workDir), 'baseline.json');
const triggersDir = (workDir: string): string => join(watchDir(workDir), 'triggers');

function writeAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${redact(JSON.stringify(value, null, 2))}\n`);
  renameSync(tmp, path);
}

export function saveBaseline(workDir: string, baseline: Baseline): string {
  mkdirSync(watchDir(workDir), { recursive: true });
  writeAtomic(baselinePath(workDir), baseline);
  return baselinePath(workDir);
}

export function loadBaseline(workDir: string): Baseline | null {
  try {
    return JSON.parse(readFileSync(baselinePath(workDir), 'utf8')) as Baseline;
  } catch {
    return null;
  }
}

export function fireManual(workDir: string, known: string[], signal: ManualSignal): string {
  if (!known.includes(signal.name)) {
    throw new UsageError(`"${signal.name}" is not a manual trigger of this watch (known: ${known.join(', ')})`, {
      hint: 'add it to manual.names in the watch config, or use one of the known names',
    });
  }
  mkdirSync(triggersDir(workDir), { recursive: true });
  const path = join(triggersDir(workDir), `${signal.name}.json`);
  writeAtomic(path, signal);
  return path;
}

export function clearManual(workDir: string, name: string): boolean {
  const path = join(triggersDir(workDir), `${name}.json`);
  try {
    rmSync(path);
    return true;
  } catch {
    return false;
  }
}

export function readManualSignals(workDir: string): ManualSignal[] {
  let files: string[];
  try {
    files = readdirSync(triggersDir(workDir)).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const out: ManualSignal[] = [];
  for (const f of files) {
    try {
      out.push(JSON.parse(readFileSync(join(triggersDir(workDir), f), 'utf8')) as ManualSignal);
    } catch {
      // being replaced right now: read again on the next tick
    }
  }
  return out;
}
