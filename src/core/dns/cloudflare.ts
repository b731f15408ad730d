/**
 * The cloudflare provider, through the official SDK (v4 API). Cloudflare keeps one record per
 * value, so a record set is the records listed by exact name and type; `set` reconciles them:
 * records already right stay, others are overwritten in place, missing ones created, extra ones
 * deleted (in that order, so the name never goes empty while it changes).
 */
import Cloudflare from 'cloudflare';
import { DnsError } from '../../errors.js';
import { withRetry, type RetryPolicy, type RetryVerdict } from './retry.js';
import { normalizeName, normalizeValue, type DnsProvider, type DnsRecordSet, type DnsRecordType } from './types.js';

export interface CloudflareOptions {
  zoneId: string;
  token: string;
  baseUrl?: string;
  retry: RetryPolicy;
  timeoutMs: number;
  log(message: string): void;
}

interface CfRecord { id: string; name: string; type: string; content: string; ttl: number; proxied?: boolean }

function classify(error: unknown): RetryVerdict {
  if (error instanceof Cloudflare.RateLimitError) {
    const ms = Number(error.headers?.get('retry-after-ms'));
    const s = Number(error.headers?.get('retry-after'));
    return { retryable: true, retryAfterMs: Number.isFinite(ms) && ms > 0 ? ms : Number.isFinite(s) && s > 0 ? s * 1000 : undefined };
  }
  return { retryable: false };
}

/** SDK errors → DnsError with a reason and a hint; the token never appears (the SDK does not echo it). */
function explain(error: unknown, zoneId: string, what: string): unknown {
  if (error instanceof DnsError) return error;
  if (error instanceof Cloudflare.APIConnectionError) {
    return new DnsError('unreachable', `Cloudflare API unreachable while trying to ${what}: ${error.message}`, { hint: 'check the network path to the Cloudflare API (or the provider\'s baseUrl)', cause: error });
  }
  if (!(error instanceof Cloudflare.APIError)) return error;
  const details = (error.errors ?? []).map((e) => `${e.code}: ${e.message}`).join('; ') || error.message;
  const codes = new Set((error.errors ?? []).map((e) => e.code));
  if (error.status === 401 || error.status === 403 || codes.has(10000) || codes.has(9109)) {
    return new DnsError('auth', `Cloudflare refused the API token while trying to ${what} (${error.status}: ${details})`, {
      hint: 'the token needs Zone:DNS:Edit on this zone; check CLOUDFLARE_API_TOKEN (or the provider\'s tokenEnv/tokenFile)', cause: error,
    });
  }
  if (error.status === 404 || codes.has(7003) || codes.has(1001)) {
    return new DnsError('zone-not-found', `Cloudflare has no zone ${zoneId} this token can see (${details})`, {
      hint: 'zoneId is the zone\'s 32-character ID from the zone\'s Overview page, not its name', cause: error,
    });
  }
  return new DnsError('invalid-change', `Cloudflare refused to ${what} (${error.status}: ${details})`, { hint: 'read the Cloudflare error code above', cause: error });
}

export class CloudflareProvider implements DnsProvider {
  readonly kind = 'cloudflare' as const;
  private readonly client: Cloudflare;

  constructor(private readonly options: CloudflareOptions) {
    this.client = new Cloudflare({ apiToken: options.token, baseURL: options.baseUrl, maxRetries: 0, timeout: options.timeoutMs });
  }

  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(`Cloudflare: ${what}`, this.options.retry, fn, classify, this.options.log)
      .catch((error: unknown) => { throw explain(error, this.options.zoneId, what); });
  }

  private async list(name: string, type: DnsRecordType): Promise<CfRecord[]> {
    return this.call(`list ${name} ${type}`, async () => {
      const found: CfRecord[] = [];
      for await (const r of this.client.dns.records.list({ zone_id: this.options.zoneId, name: { exact: name }, type, per_page: 100 })) {
        const rec = r as unknown as CfRecord;
        if (normalizeName(rec.name) === name && rec.type === type) found.push(rec);
      }
      return found;
    });
  }

  async get(name: string, type: DnsRecordType): Promise<DnsRecordSet | null> {
    const n = normalizeName(name);
    const records = await this.list(n, type);
    if (records.length === 0) return null;
    // Cloudflare's TTL 1 means "automatic"; reported as it is.
    return { name: n, type, ttl: records[0]!.ttl, values: records.map((r) => r.content) };
  }

  async set(records: DnsRecordSet): Promise<{ changeId?: string }> {
    const n = normalizeName(records.name);
    const { type, ttl } = records;
    const zone_id = this.options.zoneId;
    const existing = await this.list(n, type);
    const wanted = [...new Set(records.values)];
    const keep = new Map<string, CfRecord>();
    const spare: CfRecord[] = [];
    for (const r of existing) {
      const key = normalizeValue(type, r.content);
      if (wanted.some((v) => normalizeValue(type, v) === key) && !keep.has(key)) keep.set(key, r);
      else spare.push(r);
    }
    const changed: string[] = [];
    for (const value of wanted) {
      const same = keep.get(normalizeValue(type, value));
      if (same) {
        if (same.ttl !== ttl) {
          await this.call(`update ${n} ${type}`, () => this.client.dns.records.update(same.id, { zone_id, name: n, type, content: value, ttl, proxied: same.proxied ?? false } as never));
          changed.push(same.id);
        }
        continue;
      }
      const reuse = spare.shift();
      if (reuse) {
        await this.call(`update ${n} ${type}`, () => this.client.dns.records.update(reuse.id, { zone_id, name: n, type, content: value, ttl, proxied: reuse.proxied ?? false } as never));
        changed.push(reuse.id);
      } else {
        const made = await this.call(`create ${n} ${type}`, () => this.client.dns.records.create({ zone_id, name: n, type, content: value, ttl, proxied: false } as never));
        changed.push((made as unknown as CfRecord).id);
      }
    }
    for (const extra of spare) {
      await this.call(`delete ${n} ${type}`, () => this.client.dns.records.delete(extra.id, { zone_id }));
      changed.push(extra.id);
    }
    return changed.length > 0 ? { changeId: changed.join(',') } : {};
  }

  async delete(name: string, type: DnsRecordType): Promise<void> {
    const n = normalizeName(name);
    for (const r of await this.list(n, type)) {
      await this.call(`delete ${n} ${type}`, () => this.client.dns.records.delete(r.id, { zone_id: this.options.zoneId }));
    }
  }
}
