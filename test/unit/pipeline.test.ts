import { describe, expect, it } from 'vitest';
import { runLoadPipeline, type PipelineTask, type TaskKind } from '../../src/core/move/pipeline.js';

/** Tasks that record when they start and end, with a small delay so workers overlap. */
function tasks(log: string[], kind: TaskKind, specs: Array<[table: string, weight: number, ms: number]>): Array<PipelineTask<number>> {
  return specs.map(([table, weight, ms], i) => ({
    kind, table, weight, label: `${kind} ${table}#${i}`,
    run: async (worker: number) => {
      log.push(`start ${kind} ${table}#${i} w${worker}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${kind} ${table}#${i}`);
    },
  }));
}

describe('runLoadPipeline', () => {
  it('builds a table\'s indexes only after all of its data, and ANALYZEs after its indexes', async () => {
    const log: string[] = [];
    let next = 0;
    await runLoadPipeline<number>({
      jobs: 2,
      open: async () => next++,
      close: async () => {},
      data: tasks(log, 'data', [['big', 100, 40], ['big', 100, 40], ['big', 100, 40], ['small', 1, 5]]),
      indexes: tasks(log, 'index', [['big', 100, 5], ['small', 1, 5], ['small', 1, 5]]),
      analyze: tasks(log, 'analyze', [['big', 100, 1], ['small', 1, 1], ['untouched', 0, 1]]),
    });
    const at = (s: string): number => log.findIndex((l) => l.startsWith(s));
    const lastEnd = (kind: string, table: string): number => Math.max(...log.map((l, i) => (l.startsWith(`end ${kind} ${table}`) ? i : -1)));
    expect(log.filter((l) => l.startsWith('start'))).toHaveLength(10);
    // dependencies
    expect(at('start index big')).toBeGreaterThan(lastEnd('data', 'big'));
    expect(at('start index small')).toBeGreaterThan(lastEnd('data', 'small'));
    expect(at('start analyze big')).toBeGreaterThan(lastEnd('index', 'big'));
    expect(at('start analyze small')).toBeGreaterThan(lastEnd('index', 'small'));
    // the small table's indexes are built while the big table is still copying
    expect(at('start index small')).toBeLessThan(lastEnd('data', 'big'));
    // a table without data or indexes is analyzed without waiting for anything
    expect(at('start analyze untouched')).toBeGreaterThanOrEqual(0);
  });

  it('stops every worker after the first failure and rethrows it', async () => {
    let ran = 0;
    const failing: PipelineTask<null> = { kind: 'data', table: 't', weight: 9, label: 'fails', run: async () => { throw new Error('boom'); } };
    const others = Array.from({ length: 20 }, (_, i): PipelineTask<null> => ({
      kind: 'data', table: `u${i}`, weight: 1, label: `u${i}`, run: async () => { ran++; await new Promise((r) => setTimeout(r, 5)); },
    }));
    await expect(runLoadPipeline<null>({ jobs: 2, open: async () => null, close: async () => {}, data: [failing, ...others], indexes: [], analyze: [] })).rejects.toThrow('boom');
    expect(ran).toBeLessThan(20);
  });
});

describe('runLoadPipeline when a task fails', () => {
  it('aborts the other workers\' in-flight tasks at once instead of waiting for them, and rethrows the first failure', async () => {
    // Worker 1's task never ends unless its resource is aborted: without the teardown this test
    // would hang until its timeout (what a COPY into a restarted target did).
    const aborts = new Map<number, () => void>();
    const aborted: number[] = [];
    const closed: number[] = [];
    let next = 0;
    let started = 0;
    let bothStarted: () => void = () => {};
    const running = new Promise<void>((resolve) => (bothStarted = resolve));
    const run = runLoadPipeline<number>({
      jobs: 2,
      open: async () => next++,
      close: async (w) => void closed.push(w),
      abort: (w) => {
        aborted.push(w);
        aborts.get(w)?.();
      },
      data: [
        { kind: 'data', table: 'big', weight: 2, label: 'copy big', run: (w) => new Promise<void>((_resolve, reject) => {
          aborts.set(w, () => reject(new Error('session destroyed')));
          if (++started === 2) bothStarted();
        }) },
        { kind: 'data', table: 'small', weight: 1, label: 'copy small', run: async () => {
          if (++started === 2) bothStarted();
          await running;
          throw new Error('the target restarted');
        } },
      ],
      indexes: [],
      analyze: [],
    });
    await expect(run).rejects.toThrow('the target restarted');
    expect(aborted.sort()).toEqual([0, 1]);
    expect(closed.sort()).toEqual([0, 1]);
  });
});
