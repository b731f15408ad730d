/**
 * What core code may tell the user while it works. Core never prints: it calls these, and the
 * command's reporter decides how (spinner, plain line, NDJSON event, or nothing).
 */
export interface StepHandle {
  update(message: string, progress?: { current: number; total?: number; unit?: string }): void;
  succeed(message?: string): void;
  warn(message: string): void;
  fail(message?: string): void;
}

export interface Progress {
  step(title: string): StepHandle;
  log(level: 'debug' | 'info' | 'warn', message: string): void;
}

const silentStep: StepHandle = { update() {}, succeed() {}, warn() {}, fail() {} };

/** A Progress that drops everything: the default for library callers and tests. */
export const silentProgress: Progress = {
  step: () => silentStep,
  log: () => {},
};

/** Run `fn` as a named step: succeed on return, fail (and rethrow) on error. */
export async function inStep<T>(progress: Progress, title: string, fn: (step: StepHandle) => Promise<T>): Promise<T> {
  const step = progress.step(title);
  try {
    const value = await fn(step);
    step.succeed();
    return value;
  } catch (error) {
    step.fail();
    throw error;
  }
}
