/**
 * Bounded retry with exponential backoff for provider APIs that rate-limit (Cloudflare 429,
 * Route 53 Throttling). The SDKs' own retries are switched off so that every provider retries the
 * same, bounded way and ends with the same clear error.
 */
import { DnsError } from '../../errors.js';

export interface RetryPolicy {
  /** Attempts in all (the first one included). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 1_000, maxDelayMs: 30_000 };

export interface RetryVerdict {
  retryable: boolean;
  /** What the server asked for (Retry-After), when it said. */
  retryAfterMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Run `fn`; while it fails in a way `classify` calls retryable, wait (backoff, or the server's
 * Retry-After when longer, capped) and try again. After the last attempt: a DnsError 'rate-limited'.
 */
export async function withRetry<T>(what: string, policy: RetryPolicy, fn: () => Promise<T>, classify: (error: unknown) => RetryVerdict, onRetry?: (message: string) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const verdict = classify(error);
      if (!verdict.retryable) throw error;
      if (attempt >= policy.attempts) {
        throw new DnsError('rate-limited', `${what}: the provider still limits requests after ${policy.attempts} attempts`, {
          hint: 'wait a few minutes and run the step again; check for other clients using the same API token or account',
          cause: error,
        });
      }
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.min(policy.maxDelayMs, Math.max(backoff, verdict.retryAfterMs ?? 0));
      onRetry?.(`${what}: rate limited, attempt ${attempt} of ${policy.attempts}; retrying in ${delay} ms`);
      await sleep(delay);
    }
  }
}
