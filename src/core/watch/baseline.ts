/**
 * The latency baseline, recorded before the cutover: from probes of a URL, from an nginx log
 * that carries $request_time, or given by hand. Stored in the work directory for `watch`.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { parseCombinedLine } from './nginx-log.js';
import { probeOnce } from './probe.js';
import { saveBaseline } from './signals.js';
import { percentileOf, type Baseline } from './triggers.js';
import type { Clock } from './run.js';

export interface BaselineOptions {
  workDir: string;
  probeUrl?: string;
  samples?: number;
  /** ms between two probes. */
  spacingMs?: number;
  probeTimeoutMs?: number;
  logFile?: string;
  /** A baseline given by hand: percentile → ms. */
  given?: Record<string, number>;
}

const PERCENTILES = [50, 90, 95, 99];

function fromSamples(source: string, samples: number[], at: number): Baseline {
  return { recordedAt: new Date(at).toISOString(), source, samples: samples.length, percentiles: Object.fromEntries(PERCENTILES.map((p) => [`p${p}`, Math.round(percentileOf(samples, p) * 10) / 10])) };
}

export async function recordBaseline(options: BaselineOptions, clock: Clock): Promise<{ baseline: Baseline; path: string }> {
  let baseline: Baseline;
  if (options.given && Object.keys(options.given).length > 0) {
    baseline = { recordedAt: new Date(clock.now()).toISOString(), source: 'given', samples: 0, percentiles: options.given };
  } else if (options.probeUrl) {
    const samples: number[] = [];
    let failures = 0;
    for (let i = 0; i < (options.samples ?? 20); i++) {
      const e = await probeOnce(options.probeUrl, options.probeTimeoutMs ?? 5_000, () => clock.now());
      if (e.status !== null && e.status < 500 && e.latencyMs !== undefined) samples.push(e.latencyMs); else failures++;
      if (options.spacingMs) await clock.sleep(options.spacingMs);
    }
    if (samples.length === 0) throw new UsageError(`no probe of ${options.probeUrl} succeeded (${failures} failed): nothing to record`, { hint: 'the baseline is recorded while the service is healthy, before the cutover' });
    baseline = fromSamples(options.probeUrl, samples, clock.now());
  } else if (options.logFile) {
    let text: string;
    try {
      text = readFileSync(options.logFile, 'utf8');
    } catch (error) {
      // A log path that is not there or not readable is the user's input: a usage error, not a bug.
      throw new UsageError(`cannot read --log ${options.logFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
        hint: 'give the nginx access log path (combined format followed by $request_time), use --probe URL, or give --p95 MS',
      });
    }
    const samples = text.split('\n').map(parseCombinedLine)
      .filter((e) => e !== null && e.status !== null && e.status < 500 && e.latencyMs !== undefined).map((e) => e!.latencyMs!);
    if (samples.length === 0) {
      throw new UsageError(`${options.logFile} has no timed requests (combined format followed by $request_time)`, {
        hint: 'add $request_time at the end of the nginx log_format, use --probe URL, or give --p95 MS',
      });
    }
    baseline = fromSamples(options.logFile, samples, clock.now());
  } else {
    throw new UsageError('a baseline needs --probe URL, --log FILE or --p95 MS', { hint: 'record it while the old service is healthy, before the cutover' });
  }
  return { baseline, path: saveBaseline(options.workDir, baseline) };
}
