/**
 * diagnoseConnectionError against the error objects Node and node-postgres really produce: socket
 * errors are provoked for real where that is deterministic (ECONNREFUSED, DNS failure), server
 * errors are pg's own DatabaseError class with the SQLSTATE and message a server sends.
 */
import { lookup } from 'node:dns/promises';
import { connect as netConnect } from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { connect, connectionHint, diagnoseConnectionError } from '../../src/db/connect.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { ConnectionError } from '../../src/errors.js';
import { freePort } from '../../src/db/local-cluster.js';

const direct = parseConnectionUrl('postgresql://postgres:pw@db.abcdefghijklmnop.supabase.co:5432/postgres');
const local = parseConnectionUrl('postgresql://postgres:pw@127.0.0.1:5432/postgres');

/** A server error as pg's parser builds it (pg-protocol DatabaseError). */
function serverError(code: string, message: string): Error {
  const e = new pg.DatabaseError(message, message.length, 'error');
  e.severity = 'FATAL';
  e.code = code;
  return e;
}

/** Node's error for a failed connect(2), shaped like lib/net.js builds it (errnoException + address). */
function socketError(code: string, errno: number, address: string, port: number): Error {
  return Object.assign(new Error(`connect ${code} ${address}:${port} - Local (:::0)`), { errno, code, syscall: 'connect', address, port });
}

describe('diagnoseConnectionError', () => {
  it('ECONNREFUSED from a real connect to a closed port → refused', async () => {
    const port = await freePort();
    const error = await new Promise<Error>((resolve) => {
      const socket = netConnect({ host: '127.0.0.1', port });
      socket.on('error', resolve);
    });
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(diagnoseConnectionError(error, local)).toBe('refused');
  });

  it('a real DNS failure (reserved .invalid TLD) → unknown-host', async () => {
    const error = await lookup('no-such-host.offramp.invalid').then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME']).toContain((error as NodeJS.ErrnoException).code);
    expect(diagnoseConnectionError(error, parseConnectionUrl('postgresql://u:p@no-such-host.offramp.invalid/db'))).toBe('unknown-host');
  });

  it('getaddrinfo ENOTFOUND (the shape pg passes through) → unknown-host', () => {
    const e = Object.assign(new Error('getaddrinfo ENOTFOUND db.abcdefghijklmnop.supabase.co'), {
      errno: -3008, code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'db.abcdefghijklmnop.supabase.co',
    });
    expect(diagnoseConnectionError(e, direct)).toBe('unknown-host');
  });

  it('ENETUNREACH to the IPv6 address of db.<ref>.supabase.co → ipv6-unreachable', () => {
    const e = socketError('ENETUNREACH', -101, '2600:1f18:2e13:9d02:6ee3:3aa1:4a3c:1d12', 5432);
    expect(diagnoseConnectionError(e, direct, ['2600:1f18:2e13:9d02:6ee3:3aa1:4a3c:1d12'])).toBe('ipv6-unreachable');
    // Even when the lookup is not repeated, the address on the error and the host name tell.
    expect(diagnoseConnectionError(e, direct)).toBe('ipv6-unreachable');
    expect(connectionHint('ipv6-unreachable')).toMatch(/session pooler/);
  });

  it('EHOSTUNREACH on an IPv4 address of an ordinary host is not called an IPv6 problem', () => {
    const e = socketError('EHOSTUNREACH', -113, '10.1.2.3', 5432);
    expect(diagnoseConnectionError(e, parseConnectionUrl('postgresql://u:p@db.internal:5432/app'), ['10.1.2.3'])).toBe('timeout');
  });

  it('ETIMEDOUT and pg\'s own connection timeout → timeout', () => {
    expect(diagnoseConnectionError(socketError('ETIMEDOUT', -110, '203.0.113.7', 5432), local)).toBe('timeout');
    expect(diagnoseConnectionError(new Error('Connection terminated due to connection timeout'), local)).toBe('timeout');
  });

  it('28P01 → bad-password', () => {
    expect(diagnoseConnectionError(serverError('28P01', 'password authentication failed for user "postgres"'), local)).toBe('bad-password');
  });

  it('3D000 → no-such-database', () => {
    expect(diagnoseConnectionError(serverError('3D000', 'database "app" does not exist'), local)).toBe('no-such-database');
  });

  it('28000 "no pg_hba.conf entry … no encryption" → ssl-required', () => {
    const e = serverError('28000', 'no pg_hba.conf entry for host "203.0.113.5", user "postgres", database "postgres", no encryption');
    expect(diagnoseConnectionError(e, direct)).toBe('ssl-required');
    expect(connectionHint('ssl-required')).toMatch(/sslmode=require/);
  });

  it('28000 "role … does not exist" → no-such-role', () => {
    expect(diagnoseConnectionError(serverError('28000', 'role "postgres.abc" does not exist'), local)).toBe('no-such-role');
  });

  it('53300 → too-many-connections', () => {
    expect(diagnoseConnectionError(serverError('53300', 'sorry, too many clients already'), local)).toBe('too-many-connections');
  });

  it('anything else → other', () => {
    expect(diagnoseConnectionError(new Error('something odd'), local)).toBe('other');
  });
});

describe('connect', () => {
  it('refuses the transaction pooler port before opening a socket, with a 5432 hint and no password', async () => {
    const host = 'aws-0-eu-central-1.pooler.supabase.com';
    const url = `postgresql://postgres.abc:pooler-secret-pw@${host}:6543/postgres`;
    const error = await connect(url, { role: 'source' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    const ce = error as ConnectionError;
    expect(ce.diagnosis).toBe('transaction-pooler');
    expect(ce.hint).toMatch(/5432/);
    expect(`${ce.message} ${ce.target} ${ce.hint}`).not.toContain('pooler-secret-pw');
  });

  it('a closed port is diagnosed as refused', async () => {
    const port = await freePort();
    const error = await connect(`postgresql://postgres:pw@127.0.0.1:${port}/postgres`, { timeoutSeconds: 5 }).then(() => undefined, (e: unknown) => e);
    expect((error as ConnectionError).diagnosis).toBe('refused');
  });
});

describe('a port that answers but is not PostgreSQL', () => {
  // Issue 7, item 15: an HTTP server on the port used to end in "timed out" or a bare driver error.
  it('an HTTP server (node:http): diagnosed as not-postgres at once, well under the connect timeout', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const started = performance.now();
      const error = await connect(`postgresql://u:pw-not-shown@127.0.0.1:${port}/db`, { timeoutSeconds: 10 }).then(() => undefined, (e: unknown) => e);
      const seconds = (performance.now() - started) / 1000;
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as ConnectionError).diagnosis).toBe('not-postgres');
      expect((error as ConnectionError).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} is not a PostgreSQL server \\(it answered "HTTP/1\\.1 400`));
      expect((error as ConnectionError).hint).toMatch(/check the port/);
      expect(seconds).toBeLessThan(5);
    } finally {
      server.close();
    }
  });

  it('a server that replies in another protocol and keeps the socket open: not-postgres, not a timeout', async () => {
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.once('data', () => socket.write('SSH-2.0-OpenSSH_9.2p1\r\n'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const started = performance.now();
      const error = await connect(`postgresql://u:pw@127.0.0.1:${port}/db`, { timeoutSeconds: 10 }).then(() => undefined, (e: unknown) => e);
      expect((error as ConnectionError).diagnosis).toBe('not-postgres');
      expect((error as ConnectionError).message).toMatch(/it answered "SSH-2\.0-OpenSSH/);
      expect((performance.now() - started) / 1000).toBeLessThan(5);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it('foreignReplyStart accepts the first bytes a PostgreSQL server sends', async () => {
    const { foreignReplyStart } = await import('../../src/db/connect.js');
    for (const answer of ['S', 'N']) expect(foreignReplyStart(Buffer.from(answer))).toBeUndefined();
    for (const type of ['R', 'E', 'v', 'N']) expect(foreignReplyStart(Buffer.from(`${type}\0\0\0\x08\0\0\0\0`))).toBeUndefined();
    expect(foreignReplyStart(Buffer.from('SSH-2.0-OpenSSH_9.2p1\r\n'))).toBe('SSH-2.0-OpenSSH_9.2p1..');
    expect(foreignReplyStart(Buffer.from('HTTP/1.1 400 Bad Request\r\n'))).toBe('HTTP/1.1 400 Bad Request');
  });
});
