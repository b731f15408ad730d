/**
 * What `auth verify` is given to check, read and validated before any database is touched: sample
 * passwords (flag pairs or a file), tokens (a file or a variable), the JWKS (file or URL). Every
 * password and token is registered as a secret the moment it is read.
 */
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { UsageError } from '../../errors.js';
import { registerSecret } from '../../secrets.js';
import { parseJwks } from './verify-tokens.js';

export interface PasswordPair {
  email: string;
  password: string;
}

function readInput(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { hint: 'check the path' });
  }
}

/** `email:password` (split at the first colon: a password may hold colons, an e-mail may not). */
export function parsePasswordPair(spec: string): PasswordPair {
  const at = spec.indexOf(':');
  const email = at > 0 ? spec.slice(0, at).trim() : '';
  const password = at > 0 ? spec.slice(at + 1) : '';
  registerSecret(password);
  if (!email || !password) throw new UsageError('--check-password needs email:password', { hint: 'e.g. --check-password ana@example.com:their-password (or a file with --check-password-file)' });
  return { email, password };
}

/** A file of `email<TAB>password` lines, or JSON: [{"email", "password"}] or {"email": "password"}. */
export function readPasswordFile(file: string): PasswordPair[] {
  const text = readInput(file, 'password file');
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch {
      throw new UsageError(`the password file ${file} starts like JSON but is not JSON`, { hint: 'use [{"email": …, "password": …}] or lines of email<TAB>password' });
    }
    const pairs = Array.isArray(doc)
      ? doc.map((x) => ({ email: String((x as PasswordPair)?.email ?? ''), password: String((x as PasswordPair)?.password ?? '') }))
      : Object.entries(doc as Record<string, unknown>).map(([email, password]) => ({ email, password: String(password ?? '') }));
    for (const p of pairs) registerSecret(p.password);
    const bad = pairs.findIndex((p) => !p.email || !p.password);
    if (bad >= 0) throw new UsageError(`entry ${bad + 1} of the password file ${file} lacks an email or a password`);
    return pairs;
  }
  const pairs: PasswordPair[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (!line.trim()) continue;
    const tab = line.indexOf('\t');
    const pair = { email: tab > 0 ? line.slice(0, tab).trim() : '', password: tab > 0 ? line.slice(tab + 1) : '' };
    registerSecret(pair.password);
    if (!pair.email || !pair.password) throw new UsageError(`line ${i + 1} of the password file ${file} is not email<TAB>password`);
    pairs.push(pair);
  }
  return pairs;
}

/** One token per line (blank lines skipped); each registered as a secret. */
export function splitTokens(text: string): string[] {
  const tokens = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  for (const t of tokens) registerSecret(t);
  return tokens;
}

export function readTokenFile(file: string): string[] {
  return splitTokens(readInput(file, 'token file'));
}

/** The JWKS from a file or an http(s) URL (fetched once, bounded in time). */
export async function loadJwks(spec: string): Promise<JSONWebKeySet> {
  if (/^https?:\/\//i.test(spec)) {
    let body: string;
    try {
      const res = await fetch(spec, { signal: AbortSignal.timeout(15_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = await res.text();
    } catch (error) {
      throw new UsageError(`cannot fetch the JWKS from ${spec}: ${(error as Error).message}`, { hint: 'Supabase publishes it at https://<project>.supabase.co/auth/v1/.well-known/jwks.json; or save it and pass the file' });
    }
    return parseJwks(body, `from ${spec}`);
  }
  return parseJwks(readInput(spec, 'JWKS file'), spec);
}
