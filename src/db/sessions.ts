/**
 * Everything this process holds open on servers and in child processes, so that it can all be
 * stopped at once: on ^C or kill (src/cli.ts calls stopEverything), and when one worker of a
 * pipeline fails (its partners are torn down instead of waiting for streams that will never end).
 *
 * Stopping a session means destroying its socket, not a polite end(): a client in the middle of a
 * COPY cannot run another statement, and its server backend notices the closed socket at once when
 * it reads or writes, or within client_connection_check_interval (set by connect.ts) when it is
 * busy computing (an index build). Either way the backend rolls back and leaves pg_stat_activity.
 *
 * The core never touches process signals: it calls `throwIfStopped()` between steps, or simply
 * sees its sessions fail.
 */
import type { ChildProcess } from 'node:child_process';
import type pg from 'pg';
import type { ServerSide } from '../errors.js';

/** Open clients, and which server each talks to (named in a lost-connection error). */
const sessions = new Map<pg.Client, ServerSide | undefined>();
const children = new Set<ChildProcess>();
let stopController = new AbortController();

/**
 * Register a client from before it connects (a stop must also end a connection attempt that is
 * still waiting for a slow or silent host); it is forgotten when it ends or `untrackClient` is called.
 */
export function trackClient(client: pg.Client, side?: ServerSide): void {
  sessions.set(client, side);
  client.once('end', () => {
    sessions.delete(client);
  });
}

/** Forget a client that never connected. */
export function untrackClient(client: pg.Client): void {
  sessions.delete(client);
}

/** Register a child process (pg_dump) until it exits. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Which server a client talks to, when connect() was told. */
export function sideOf(client: pg.Client): ServerSide | undefined {
  return sessions.get(client);
}

/** Close a client's socket at once, whatever it is doing; its pending queries fail. */
export function destroyClient(client: pg.Client): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  stream?.destroy();
}

/** End a client politely, but never wait more than `ms` for it: a dead peer cannot answer. */
export async function endClient(client: pg.Client, ms = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.end().catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        destroyClient(client);
        resolve();
      }, ms);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Stop everything this process started: every session's socket is destroyed and every child
 * process gets SIGTERM. `reason` becomes the stop signal's reason (what throwIfStopped throws).
 */
export function stopEverything(reason: Error): void {
  if (!stopController.signal.aborted) stopController.abort(reason);
  for (const client of [...sessions.keys()]) destroyClient(client);
  for (const child of [...children]) child.kill('SIGTERM');
}

/** Aborted once stopEverything ran; long loops in the core check it between steps. */
export function stopSignal(): AbortSignal {
  return stopController.signal;
}

export function throwIfStopped(): void {
  stopController.signal.throwIfAborted();
}

/** Tests and library callers that run several commands in one process start afresh. */
export function resetStop(): void {
  stopController = new AbortController();
}
