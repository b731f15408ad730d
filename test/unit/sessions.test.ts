/**
 * Issue 7, item 4: stopping a run stops the child processes it started (pg_dump) and makes the
 * core's next step throw the interrupt, without the core ever touching process signals.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runTool } from '../../src/db/run-tool.js';
import { resetStop, stopEverything, throwIfStopped } from '../../src/db/sessions.js';
import { InterruptedError } from '../../src/errors.js';

afterEach(() => resetStop());

describe('stopEverything', () => {
  it('stops a running child process (as it would pg_dump) and makes throwIfStopped throw the reason', async () => {
    // `sleep 30` exits 0 if nobody stops it; stopped, it ends by SIGTERM (non-zero).
    const running = runTool('sleep', ['30']);
    expect(() => throwIfStopped()).not.toThrow();
    const reason = new InterruptedError('SIGTERM');
    stopEverything(reason);
    const result = await running;
    expect(result.exitCode).not.toBe(0);
    expect(() => throwIfStopped()).toThrow(reason);
  });
});
