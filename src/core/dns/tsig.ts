/**
 * TSIG (RFC 8945): sign a request with a shared HMAC key and verify the server's signed answer.
 * The MAC covers the message as it is without the TSIG record, then the "TSIG variables"
 * (key name, class ANY, TTL 0, algorithm, time signed, fudge, error, other data); a response's MAC
 * also covers the request's MAC first, so an answer cannot be replayed for another request.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DnsError } from '../../errors.js';
import { CLASS_ANY, TYPE_CODES, encodeName, encodeRecord, recordOffsets, skipName } from './wire.js';

export const TSIG_ALGORITHMS = {
  'hmac-sha256': 'sha256',
  'hmac-sha512': 'sha512',
  'hmac-sha384': 'sha384',
  'hmac-sha224': 'sha224',
  'hmac-sha1': 'sha1',
} as const;
export type TsigAlgorithm = keyof typeof TSIG_ALGORITHMS;

export interface TsigKey {
  name: string;
  algorithm: TsigAlgorithm;
  secret: Buffer;
}

/** The TSIG error field (RFC 8945 §5.4). */
export const TSIG_ERRORS: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 22: 'BADTRUNC' };

const FUDGE_SECONDS = 300;

function u16(n: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16BE(n, 0); return b; }
function u48(n: number): Buffer { const b = Buffer.alloc(6); b.writeUIntBE(n, 0, 6); return b; }

interface TsigFields { algorithm: string; timeSigned: number; fudge: number; mac: Buffer; originalId: number; error: number; other: Buffer }

function variables(key: TsigKey, f: Omit<TsigFields, 'mac' | 'originalId'>): Buffer {
  const ttlAndClass = Buffer.alloc(6);
  ttlAndClass.writeUInt16BE(CLASS_ANY, 0);
  return Buffer.concat([encodeName(key.name), ttlAndClass, encodeName(f.algorithm), u48(f.timeSigned), u16(f.fudge), u16(f.error), u16(f.other.length), f.other]);
}

const hmac = (key: TsigKey, ...parts: Buffer[]): Buffer => {
  const h = createHmac(TSIG_ALGORITHMS[key.algorithm], key.secret);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** Append a TSIG record to `message` (which has no TSIG yet); returns the signed message and its MAC. */
export function signMessage(message: Buffer, key: TsigKey, nowSeconds = Math.floor(Date.now() / 1000)): { signed: Buffer; mac: Buffer } {
  const fields = { algorithm: key.algorithm, timeSigned: nowSeconds, fudge: FUDGE_SECONDS, error: 0, other: Buffer.alloc(0) };
  const mac = hmac(key, message, variables(key, fields));
  const rdata = Buffer.concat([encodeName(key.algorithm), u48(fields.timeSigned), u16(fields.fudge), u16(mac.length), mac, message.subarray(0, 2), u16(0), u16(0)]);
  const signed = Buffer.concat([message, encodeRecord(key.name, TYPE_CODES.TSIG, CLASS_ANY, 0, rdata)]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { signed, mac };
}

function readName(buf: Buffer, offset: number): string {
  const labels: string[] = [];
  let at = offset;
  for (let hops = 0; hops < 64; hops++) {
    const len = buf[at]!;
    if (len === 0) return labels.join('.');
    if ((len & 0xc0) === 0xc0) { at = buf.readUInt16BE(at) & 0x3fff; continue; }
    labels.push(buf.toString('latin1', at + 1, at + 1 + len).toLowerCase());
    at += len + 1;
  }
  throw new DnsError('bad-response', 'malformed DNS response (name loop)');
}

/** The TSIG record of a response, if its last additional record is one. */
function findTsig(buf: Buffer): { start: number; keyName: string; fields: TsigFields } | null {
  const { additionalStarts } = recordOffsets(buf);
  const start = additionalStarts.at(-1);
  if (start === undefined) return null;
  let at = skipName(buf, start);
  if (buf.readUInt16BE(at) !== TYPE_CODES.TSIG) return null;
  const keyName = readName(buf, start);
  at += 10;
  const algorithm = readName(buf, at);
  at = skipName(buf, at);
  const timeSigned = buf.readUIntBE(at, 6);
  const fudge = buf.readUInt16BE(at + 6);
  const macSize = buf.readUInt16BE(at + 8);
  const mac = buf.subarray(at + 10, at + 10 + macSize);
  at += 10 + macSize;
  const originalId = buf.readUInt16BE(at);
  const error = buf.readUInt16BE(at + 2);
  const otherLen = buf.readUInt16BE(at + 4);
  const other = buf.subarray(at + 6, at + 6 + otherLen);
  return { start, keyName, fields: { algorithm, timeSigned, fudge, mac, originalId, error, other } };
}

/**
 * Check a response to a signed request. Throws DnsError for a TSIG error the server reported
 * (BADKEY, BADSIG, BADTIME) and for an answer that is unsigned or signed wrongly.
 */
export function verifyResponse(response: Buffer, requestMac: Buffer, key: TsigKey, server: string): void {
  const tsig = findTsig(response);
  const keyHint = `check the key name ("${key.name}"), algorithm (${key.algorithm}) and secret against the server's key statement`;
  if (!tsig) {
    throw new DnsError('tsig-badsig', `DNS server ${server} answered a signed request without a TSIG signature`, {
      hint: `the server may not know the key: ${keyHint}`,
    });
  }
  const { fields } = tsig;
  if (fields.error === 17) throw new DnsError('tsig-badkey', `DNS server ${server} does not know TSIG key "${key.name}" with algorithm ${key.algorithm} (BADKEY)`, { hint: keyHint });
  if (fields.error === 16) throw new DnsError('tsig-badsig', `DNS server ${server} rejected the TSIG signature of key "${key.name}" (BADSIG): the secret does not match`, { hint: keyHint });
  if (fields.error === 18) {
    throw new DnsError('tsig-badtime', `DNS server ${server} rejected the request's time (BADTIME): the clocks differ by more than ${fields.fudge} s`, {
      hint: 'synchronise this machine\'s clock (NTP) with the DNS server\'s',
    });
  }
  if (fields.error !== 0) throw new DnsError('tsig-badsig', `DNS server ${server} reported TSIG error ${TSIG_ERRORS[fields.error] ?? fields.error}`, { hint: keyHint });
  // The digest covers the response as it was before the TSIG record was added, with its original ID.
  const unsigned = Buffer.from(response.subarray(0, tsig.start));
  unsigned.writeUInt16BE(response.readUInt16BE(10) - 1, 10);
  unsigned.writeUInt16BE(fields.originalId, 0);
  const expected = hmac(key, u16(requestMac.length), requestMac, unsigned, variables(key, fields));
  if (fields.mac.length !== expected.length || !timingSafeEqual(fields.mac, expected)) {
    throw new DnsError('tsig-badsig', `the answer of DNS server ${server} carries a TSIG signature that does not verify with key "${key.name}"`, {
      hint: `the answer may have been altered on the way, or ${keyHint}`,
    });
  }
}
