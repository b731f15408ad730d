/**
 * The load pipeline shared by copy and restore. One pool of workers takes, in priority order:
 * data units (largest first), then the index builds of tables whose data is complete, then
 * ANALYZE of tables whose indexes are built. So the indexes of small tables are built while the
 * big ones are still copying, and no core idles at the phase boundaries. (PRIMARY KEY and UNIQUE
 * constraints are attached, and foreign keys added, afterwards: they need every index.)
 *
 * When one task fails the whole pipeline comes down at once: every other worker's resource is
 * aborted (its sessions destroyed), so no worker keeps streaming into a run that has already failed,
 * and no stream waits on a peer that is gone.
 */
import { throwIfStopped } from '../../db/sessions.js';

export type TaskKind = 'data' | 'index' | 'analyze';

export interface PipelineTask<R> {
  kind: TaskKind;
  /** The table the task belongs to ("schema"."name"). */
  table: string;
  /** Bigger first within a kind. */
  weight: number;
  /** What the task is, for timings ("index posts_pkey", "copy public.posts#1/6"). */
  label: string;
  run(resource: R): Promise<void>;
}

export interface PipelineInput<R> {
  jobs: number;
  open(): Promise<R>;
  close(resource: R): Promise<void>;
  /** Make a resource's in-flight task fail now (destroy its sessions); called on the first failure. */
  abort?(resource: R): void;
  data: Array<PipelineTask<R>>;
  indexes: Array<PipelineTask<R>>;
  analyze: Array<PipelineTask<R>>;
  /** Called with each finished task and how long it ran. */
  onDone?: (task: PipelineTask<R>, seconds: number) => void;
}

const RANK: Record<TaskKind, number> = { data: 0, index: 1, analyze: 2 };

export async function runLoadPipeline<R>(input: PipelineInput<R>): Promise<void> {
  const count = (tasks: Array<PipelineTask<R>>): Map<string, number> => {
    const m = new Map<string, number>();
    for (const t of tasks) m.set(t.table, (m.get(t.table) ?? 0) + 1);
    return m;
  };
  const dataLeft = count(input.data);
  const indexLeft = count(input.indexes);
  const indexesOf = new Map<string, Array<PipelineTask<R>>>();
  for (const t of input.indexes) indexesOf.set(t.table, [...(indexesOf.get(t.table) ?? []), t]);
  const analyzeOf = new Map(input.analyze.map((t) => [t.table, t]));

  const ready: Array<PipelineTask<R>> = [...input.data];
  const release = (table: string, after: 'data' | 'index'): void => {
    if (after === 'data' && (indexesOf.get(table)?.length ?? 0) > 0) {
      ready.push(...indexesOf.get(table)!);
      return;
    }
    const analyze = analyzeOf.get(table);
    if (analyze) ready.push(analyze);
  };
  // Tables with nothing to copy (finished before a resume) start at their indexes.
  for (const table of new Set([...indexesOf.keys(), ...analyzeOf.keys()])) if (!dataLeft.has(table)) release(table, 'data');
  const total = input.data.length + input.indexes.length + input.analyze.length;
  let finished = 0;
  let failure: unknown;
  const open = new Set<R>();
  const fail = (error: unknown): void => {
    if (failure !== undefined) return;
    failure = error;
    for (const r of open) input.abort?.(r);
  };
  let wake: (() => void) | undefined;
  const changed = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  // Kind first, then size (measured against "whole table first": data first wins on 2 cores).
  const next = (): PipelineTask<R> | undefined => {
    ready.sort((a, b) => RANK[a.kind] - RANK[b.kind] || b.weight - a.weight);
    return ready.shift();
  };

  const worker = async (): Promise<void> => {
    let resource: R | undefined;
    try {
      resource = await input.open();
      open.add(resource);
      while (failure === undefined && finished < total) {
        throwIfStopped();
        const task = next();
        if (!task) {
          // Nothing ready yet: wait until another worker finishes something.
          await new Promise<void>((resolve) => {
            const previous = wake;
            wake = () => {
              previous?.();
              resolve();
            };
          });
          continue;
        }
        const started = performance.now();
        await task.run(resource);
        input.onDone?.(task, (performance.now() - started) / 1000);
        finished++;
        if (task.kind === 'data') {
          const left = dataLeft.get(task.table)! - 1;
          dataLeft.set(task.table, left);
          if (left === 0) release(task.table, 'data');
        } else if (task.kind === 'index') {
          const left = indexLeft.get(task.table)! - 1;
          indexLeft.set(task.table, left);
          if (left === 0) release(task.table, 'index');
        }
        changed();
      }
    } catch (error) {
      fail(error);
    } finally {
      changed();
      if (resource !== undefined) {
        open.delete(resource);
        await input.close(resource).catch(() => {});
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(input.jobs, total)) }, worker));
  if (failure !== undefined) throw failure;
}
