/**
 * A fixed number of workers taking items from one queue, each with its own resources (usually
 * connections). The first failure stops every worker after its current item and is rethrown.
 */
export async function runPool<T, R>(
  items: T[],
  jobs: number,
  open: () => Promise<R>,
  work: (resource: R, item: T) => Promise<void>,
  close: (resource: R) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  let failure: unknown;
  const worker = async (): Promise<void> => {
    let resource: R | undefined;
    try {
      resource = await open();
      for (let item = queue.shift(); item !== undefined && failure === undefined; item = queue.shift()) {
        await work(resource, item);
      }
    } catch (error) {
      failure ??= error;
    } finally {
      if (resource !== undefined) await close(resource).catch(() => {});
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  if (failure !== undefined) throw failure;
}
