/** `tls`: the certificate of host:port chains to a trusted CA, matches the name, and is valid for N more days. */
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import type { StepParams } from '../schema.js';
import { fail, pass, type StepExecutor } from '../types.js';
import { readCa } from './request.js';

const DAY_MS = 86_400_000;

function peerCertificate(host: string, port: number, servername: string, ca: Buffer | undefined, signal: AbortSignal): Promise<{ cert: PeerCertificate; authorized: boolean; error?: string }> {
  return new Promise((resolve, reject) => {
    // rejectUnauthorized off so that an untrusted chain is reported as evidence, not as a socket error.
    const socket = connect({ host, port, servername, ca, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      const error = socket.authorizationError ? String(socket.authorizationError) : undefined;
      resolve({ cert, authorized: socket.authorized, error });
      socket.end();
    });
    socket.on('error', reject);
    signal.addEventListener('abort', () => socket.destroy(signal.reason instanceof Error ? signal.reason : new Error('cancelled')), { once: true });
  });
}

function dn(value: unknown): string {
  if (!value || typeof value !== 'object') return String(value ?? '');
  return Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join(', ');
}

export const runTls: StepExecutor = async (ctx) => {
  const p = ctx.params as StepParams<'tls'>;
  const servername = p.servername ?? p.host;
  const { cert, authorized, error } = await peerCertificate(p.host, p.port, servername, readCa(p.ca), ctx.signal);
  if (!cert || !cert.valid_to) return fail(`${p.host}:${p.port} presented no certificate`, { host: p.host, port: p.port });
  const notAfter = new Date(cert.valid_to);
  const daysLeft = Math.floor((notAfter.getTime() - ctx.clock.now()) / DAY_MS);
  const identityError = checkServerIdentity(servername, cert);
  const evidence = {
    host: p.host, port: p.port, servername,
    subject: dn(cert.subject), issuer: dn(cert.issuer), subjectAltName: cert.subjectaltname ?? null,
    notBefore: new Date(cert.valid_from).toISOString(), notAfter: notAfter.toISOString(), daysLeft,
    trusted: authorized, ...(error ? { trustError: error } : {}), fingerprint256: cert.fingerprint256,
  };
  const problems: string[] = [];
  if (!authorized) problems.push(`certificate not trusted (${error ?? 'unknown reason'})${p.ca ? '' : '; a private CA needs params.ca'}`);
  if (identityError) problems.push(`certificate does not match ${servername}: ${identityError.message}`);
  if (daysLeft < p.minDaysValid) problems.push(`certificate expires in ${daysLeft} days (${notAfter.toISOString().slice(0, 10)}), fewer than ${p.minDaysValid}`);
  return problems.length ? fail(problems.join('; '), evidence) : pass(`valid for ${daysLeft} more days, issued by ${dn(cert.issuer)}`, evidence);
};
