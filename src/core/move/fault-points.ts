/**
 * TEST-ONLY fault points, so that a fault test can kill `copy` inside a given phase without racing
 * the clock on a loaded machine. Inert unless the environment asks for a pause:
 *
 *   OFFRAMP_FAULT_PAUSE=<point>[:<n>]   pause the n-th time (default 1st) <point> is reached
 *   OFFRAMP_FAULT_MARKER=<file>         where to write "<point>:<n> <pid>" once paused
 *
 * Once paused, the process stays paused: every later fault point (they also sit in front of each
 * unit, index build and foreign key) waits too, so no new work starts while the test kills it.
 * The event loop keeps running, so a signal handler still runs when the test sends SIGTERM, and the
 * interrupt ends the pause.
 * Users never set these variables; nothing else reads them.
 */
import { writeFileSync } from 'node:fs';
import { stopSignal } from '../../db/sessions.js';

export type FaultPoint = 'pre-data' | 'unit-done' | 'table-done' | 'index' | 'constraints' | 'foreign-keys' | 'sequences';

const hits = new Map<string, number>();
let paused: Promise<never> | undefined;

function wanted(): { point: string; n: number } | undefined {
  const spec = process.env.OFFRAMP_FAULT_PAUSE;
  if (!spec) return undefined;
  const [point, n] = spec.split(':');
  return { point: point!, n: n ? Number(n) : 1 };
}

/**
 * Never resolves: the test kills the process. Its timer keeps the process alive meanwhile, and
 * gives up after 10 minutes so that a copy whose test died does not hold its sessions for ever.
 */
function pauseForever(): Promise<never> {
  paused ??= new Promise<never>((_, reject) => {
    const timer = setTimeout(() => reject(new Error('test fault pause (OFFRAMP_FAULT_PAUSE) was never ended by a kill')), 10 * 60_000);
    // An interrupt (SIGTERM, ^C) ends the pause like any other wait, so the run winds down and
    // exits as an interrupted run does.
    const stop = stopSignal();
    const onStop = (): void => {
      clearTimeout(timer);
      reject(stop.reason);
    };
    if (stop.aborted) onStop();
    else stop.addEventListener('abort', onStop, { once: true });
  });
  return paused;
}

/** Wait forever if a fault pause has begun (in front of new work). */
export async function faultGate(): Promise<void> {
  if (paused) await paused;
}

/** Count a pass through `point`; pause for good when it is the one (and the pass) the test asked for. */
export async function faultPoint(point: FaultPoint): Promise<void> {
  if (paused) await paused;
  const want = wanted();
  if (!want || want.point !== point) return;
  const n = (hits.get(point) ?? 0) + 1;
  hits.set(point, n);
  if (n !== want.n) return;
  if (process.env.OFFRAMP_FAULT_MARKER) writeFileSync(process.env.OFFRAMP_FAULT_MARKER, `${point}:${n} ${process.pid}\n`);
  await pauseForever();
}
