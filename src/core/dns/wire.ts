/**
 * DNS on the wire: one request, one response, over UDP (TCP when the answer is truncated or asked
 * for). dns-packet decodes responses and encodes record data; what it lacks for RFC 2136 (class
 * NONE, empty RDATA for "delete an RRset", the TSIG record) is written here, per RFC 1035 §4.1.
 */
import { createSocket } from 'node:dgram';
import { isIP, createConnection } from 'node:net';
import dnsPacket from 'dns-packet';
import { DnsError } from '../../errors.js';
import type { DnsRecordType } from './types.js';

export interface DnsServer { host: string; port: number }

/** 'host', 'host:port', '[v6]:port' or a bare IPv6 address → host and port (default 53). */
export function parseServer(spec: string, defaultPort = 53): DnsServer {
  const s = spec.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? Number(bracketed[2]) : defaultPort };
  if (isIP(s) === 6) return { host: s, port: defaultPort };
  const at = s.lastIndexOf(':');
  if (at > 0 && /^\d+$/.test(s.slice(at + 1))) return { host: s.slice(0, at), port: Number(s.slice(at + 1)) };
  return { host: s, port: defaultPort };
}

export const TYPE_CODES: Record<DnsRecordType | 'SOA' | 'TSIG' | 'ANY', number> = {
  A: 1, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28, TSIG: 250, ANY: 255,
};
export const CLASS_IN = 1;
export const CLASS_NONE = 254;
export const CLASS_ANY = 255;
export const OPCODE_UPDATE = 5;

/** A name in uncompressed, lower-case wire form (the canonical form TSIG digests use). */
export function encodeName(name: string): Buffer {
  const trimmed = name.replace(/\.$/, '').toLowerCase();
  const parts: Buffer[] = [];
  for (const label of trimmed === '' ? [] : trimmed.split('.')) {
    const bytes = Buffer.from(label, 'utf8');
    if (bytes.length === 0 || bytes.length > 63) throw new DnsError('bad-response', `"${name}" is not a valid DNS name (label "${label}")`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** RDATA of one value, encoded by dns-packet (an answer named "." is 11 bytes before its RDATA). */
export function encodeRdata(type: DnsRecordType, value: string): Buffer {
  const data = type === 'TXT' ? splitTxt(value) : value;
  const packet = dnsPacket.encode({ type: 'query', id: 0, answers: [{ type, name: '.', data } as dnsPacket.Answer] });
  return packet.subarray(12 + 1 + 10);
}

/** A TXT value longer than 255 bytes is sent as several character-strings (RFC 1035 §3.3.14). */
function splitTxt(value: string): Buffer[] {
  const bytes = Buffer.from(value, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 255) chunks.push(bytes.subarray(i, i + 255));
  return chunks.length > 0 ? chunks : [Buffer.alloc(0)];
}

/** One resource record in wire form; `rdata` undefined means RDLENGTH 0 (the RFC 2136 deletes). */
export function encodeRecord(name: string, type: number, klass: number, ttl: number, rdata?: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(klass, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(rdata?.length ?? 0, 8);
  return Buffer.concat([encodeName(name), fixed, rdata ?? Buffer.alloc(0)]);
}

export interface MessageParts {
  id: number;
  flags: number;
  /** Question section (the zone section of an UPDATE). */
  questions: Buffer[];
  /** Answer section (prerequisites of an UPDATE). */
  answers?: Buffer[];
  /** Authority section (the updates of an UPDATE). */
  authorities?: Buffer[];
  additionals?: Buffer[];
}

export function encodeQuestion(name: string, type: number, klass = CLASS_IN): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(klass, 2);
  return Buffer.concat([encodeName(name), tail]);
}

export function encodeMessage(parts: MessageParts): Buffer {
  const header = Buffer.alloc(12);
  const sections = [parts.questions, parts.answers ?? [], parts.authorities ?? [], parts.additionals ?? []];
  header.writeUInt16BE(parts.id, 0);
  header.writeUInt16BE(parts.flags, 2);
  sections.forEach((s, i) => header.writeUInt16BE(s.length, 4 + 2 * i));
  return Buffer.concat([header, ...sections.flat()]);
}

/** Skip a (possibly compressed) name; returns the offset after it. */
export function skipName(buf: Buffer, offset: number): number {
  let at = offset;
  for (;;) {
    if (at >= buf.length) throw new DnsError('bad-response', 'malformed DNS response (name runs past the end)');
    const len = buf[at]!;
    if (len === 0) return at + 1;
    if ((len & 0xc0) === 0xc0) return at + 2;
    at += len + 1;
  }
}

/** Byte offset where each record of the response starts, section by section, and where the message ends. */
export function recordOffsets(buf: Buffer): { additionalStarts: number[]; end: number } {
  if (buf.length < 12) throw new DnsError('bad-response', 'malformed DNS response (shorter than a header)');
  const counts = [0, 1, 2, 3].map((i) => buf.readUInt16BE(4 + 2 * i));
  let at = 12;
  for (let i = 0; i < counts[0]!; i++) at = skipName(buf, at) + 4;
  const additionalStarts: number[] = [];
  for (let section = 1; section <= 3; section++) {
    for (let i = 0; i < counts[section]!; i++) {
      if (section === 3) additionalStarts.push(at);
      at = skipName(buf, at);
      at += 10 + buf.readUInt16BE(at + 8);
    }
  }
  return { additionalStarts, end: at };
}

export interface ExchangeOptions {
  timeoutMs: number;
  /** Use TCP from the start (otherwise UDP, and TCP when the answer comes back truncated). */
  tcp?: boolean;
}

/** Send one message and wait for the response with the same ID. */
export async function exchange(server: DnsServer, message: Buffer, options: ExchangeOptions): Promise<Buffer> {
  if (!options.tcp) {
    const answer = await exchangeUdp(server, message, options.timeoutMs);
    if ((answer.readUInt16BE(2) & dnsPacket.TRUNCATED_RESPONSE) === 0) return answer;
  }
  return exchangeTcp(server, message, options.timeoutMs);
}

const where = (s: DnsServer): string => `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;

function exchangeUdp(server: DnsServer, message: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    const id = message.readUInt16BE(0);
    const done = (error: Error | null, answer?: Buffer): void => {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error); else resolvePromise(answer!);
    };
    const timer = setTimeout(() => done(new DnsError('timeout', `no answer from DNS server ${where(server)} within ${timeoutMs} ms (UDP)`, {
      hint: 'check the server address and port, and that a firewall lets DNS through',
    })), timeoutMs);
    socket.on('message', (answer) => {
      if (answer.length >= 12 && answer.readUInt16BE(0) === id) done(null, answer);
    });
    socket.on('error', (error) => done(new DnsError('unreachable', `DNS server ${where(server)}: ${error.message}`, { cause: error })));
    socket.send(message, server.port, server.host);
  });
}

function exchangeTcp(server: DnsServer, message: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const socket = createConnection({ host: server.host, port: server.port });
    let received = Buffer.alloc(0);
    const done = (error: Error | null, answer?: Buffer): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error); else resolvePromise(answer!);
    };
    const timer = setTimeout(() => done(new DnsError('timeout', `no answer from DNS server ${where(server)} within ${timeoutMs} ms (TCP)`, {
      hint: 'check the server address and port, and that a firewall lets DNS (TCP too) through',
    })), timeoutMs);
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(message.length, 0);
    socket.on('connect', () => socket.write(Buffer.concat([prefix, message])));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        done(null, received.subarray(2, 2 + received.readUInt16BE(0)));
      }
    });
    socket.on('error', (error) => done(new DnsError('unreachable', `DNS server ${where(server)}: ${error.message}`, { cause: error })));
    socket.on('end', () => done(new DnsError('bad-response', `DNS server ${where(server)} closed the TCP connection without a full answer`)));
  });
}

export const RCODES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED',
  6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE',
};
export const rcodeOf = (buf: Buffer): string => RCODES[buf.readUInt16BE(2) & 0xf] ?? `RCODE${buf.readUInt16BE(2) & 0xf}`;
