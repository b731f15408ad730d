/**
 * Secret handling. Every string that leaves offramp (terminal, JSON, reports, journals) passes
 * through `redact`, which masks registered secrets and the password part of any connection URL.
 */

const MASK = '****';
const registered = new Set<string>();

/** Remember a secret so that `redact` masks it wherever it appears later. */
export function registerSecret(secret: string | undefined | null): void {
  if (secret && secret.length >= 3) registered.add(secret);
}

/** Register the password carried by a connection URL, if any. */
export function registerUrlSecrets(url: string | undefined): void {
  if (!url) return;
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      registerSecret(parsed.password);
      registerSecret(decodeURIComponent(parsed.password));
    }
    const qp = parsed.searchParams.get('password');
    if (qp) registerSecret(qp);
  } catch {
    // Not a URL: nothing to register; the URL pattern in redact still masks user:pass@.
  }
}

// user:password@host inside postgres URLs, and password=... in keyword/value strings or query params.
const URL_PASSWORD = /(postgres(?:ql)?:\/\/[^:/@\s]*:)([^@\s]*)(@)/gi;
const KV_PASSWORD = /(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)/gi;

/** Mask every registered secret and any password embedded in a connection string. */
export function redact(text: string): string {
  let out = text.replace(URL_PASSWORD, `$1${MASK}$3`).replace(KV_PASSWORD, `$1${MASK}`);
  // Longest first so that a secret containing another is masked whole.
  for (const secret of [...registered].sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join(MASK);
  }
  return out;
}

/** A connection URL for display: password replaced by ****. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = MASK;
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', MASK);
    return redact(parsed.toString().replace('%2A%2A%2A%2A', MASK));
  } catch {
    return redact(url);
  }
}

/** Deep-redact a JSON-able value (used on results before they are printed or written). */
export function redactDeep<T>(value: T): T {
  return JSON.parse(redact(JSON.stringify(value))) as T;
}
