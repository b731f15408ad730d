/**
 * A fixed number of workers taking items from one queue, each with its own resources (usually
 * connections). The first failure stops every worker after its current item (at once, when
 * `abort` is given: it makes the other workers' current items fail) and is rethrown.
 */
import { throwIfStopped } from '../../db/sessions.js';

export async function runPool<T, R>(
  items: T[],
  jobs: number,
  openResource: () => Promise<R>,
  work: (resource: R, item: T) => Promise<void>,
  close: (resource: R) => Promise<void>,
  abort?: (resource: R) => void,
): Promise<void> {
  const queue = [...items];
  let failure: unknown;
  const open = new Set<R>();
  const worker = async (): Promise<void> => {
    let resource: R | undefined;
    try {
      resource = await openResource();
      open.add(resource);
      for (let item = queue.shift(); item !== undefined && failure === undefined; item = queue.shift()) {
        throwIfStopped();
        await work(resource, item);
      }
    } catch (error) {
      if (failure === undefined) {
        failure = error;
        for (const r of open) abort?.(r);
      }
    } finally {
      if (resource !== undefined) {
        open.delete(resource);
        await close(resource).catch(() => {});
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  if (failure !== undefined) throw failure;
}
