/**
 * The route53 provider, through the official SDK (@aws-sdk/client-route-53). `set` is one UPSERT
 * change batch, `delete` one DELETE of the exact record set Route 53 holds (it refuses any
 * other); both wait until GetChange reports INSYNC (bounded). Credentials come from the AWS SDK's
 * own chain (environment, shared files, roles); the secret parts are registered for masking.
 */
import { ChangeResourceRecordSetsCommand, GetChangeCommand, ListResourceRecordSetsCommand, Route53Client, type Change } from '@aws-sdk/client-route-53';
import { DnsError } from '../../errors.js';
import { withRetry, type RetryPolicy, type RetryVerdict } from './retry.js';
import { normalizeName, type DnsProvider, type DnsRecordSet, type DnsRecordType } from './types.js';

export interface Route53Options {
  hostedZoneId: string;
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  retry: RetryPolicy;
  timeoutMs: number;
  /** How often GetChange is asked, and for how long, before giving up on INSYNC. */
  pollIntervalMs: number;
  changeTimeoutMs: number;
  log(message: string): void;
}

const RETRYABLE = new Set(['Throttling', 'ThrottlingException', 'PriorRequestNotComplete', 'RequestLimitExceeded', 'TooManyRequestsException']);

function classify(error: unknown): RetryVerdict {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return { retryable: RETRYABLE.has(e?.name ?? '') || e?.$metadata?.httpStatusCode === 429 };
}

function explain(error: unknown, zoneId: string, what: string): unknown {
  if (error instanceof DnsError) return error;
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (!e || typeof e !== 'object' || !e.name) return error;
  const detail = `${e.name}: ${e.message ?? ''}`.trim();
  if (['AccessDenied', 'AccessDeniedException', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClientException', 'ExpiredToken', 'InvalidSignatureException'].includes(e.name)) {
    return new DnsError('auth', `Route 53 refused the credentials while trying to ${what} (${detail})`, {
      hint: 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the profile in use) and that the policy allows route53:ListResourceRecordSets, ChangeResourceRecordSets and GetChange', cause: error,
    });
  }
  if (e.name === 'CredentialsProviderError') {
    return new DnsError('credentials-missing', `no AWS credentials found for Route 53 (${e.message ?? ''})`, {
      hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a shared credentials file', cause: error,
    });
  }
  if (e.name === 'NoSuchHostedZone') {
    return new DnsError('zone-not-found', `Route 53 has no hosted zone ${zoneId} (${detail})`, { hint: 'hostedZoneId is the zone\'s ID (Z…), see `aws route53 list-hosted-zones`', cause: error });
  }
  if (e.name === 'InvalidChangeBatch' || e.name === 'InvalidInput') {
    return new DnsError('invalid-change', `Route 53 refused to ${what} (${detail})`, { hint: 'the change batch does not match what the zone holds; read the message above', cause: error });
  }
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout') {
    return new DnsError('timeout', `Route 53 did not answer in time while trying to ${what}`, { hint: 'retry the step; check the network path to the Route 53 API', cause: error });
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET'].includes((error as { code?: string }).code ?? '')) {
    return new DnsError('unreachable', `Route 53 API unreachable while trying to ${what}: ${e.message ?? ''}`, { hint: 'check the network path to the Route 53 API (or the provider\'s endpoint)', cause: error });
  }
  return new DnsError('invalid-change', `Route 53 failed to ${what} (${detail})`, { hint: 'read the Route 53 error above', cause: error });
}

const fqdn = (name: string): string => `${normalizeName(name)}.`;
/** Route 53 stores TXT values as quoted character-strings; offramp works with the plain text. */
const toR53 = (type: DnsRecordType, v: string): string => (type === 'TXT' ? `"${v.replace(/(["\\])/g, '\\$1')}"` : v);
function fromR53(type: DnsRecordType, v: string): string {
  if (type === 'CNAME') return normalizeName(v);
  if (type !== 'TXT') return v;
  // "part one" "part two" → the parts joined, unescaped.
  return [...v.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1')).join('') || v;
}

export class Route53Provider implements DnsProvider {
  readonly kind = 'route53' as const;
  private readonly client: Route53Client;
  private readonly sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  constructor(private readonly options: Route53Options) {
    // The SDK prints a NodeVersionSupportWarning to stderr the first time a client is made on
    // Node < 22 (about its own future releases, nothing the user can act on mid-cutover). It reads
    // this variable when the client is constructed; set it for this process only, and only when the
    // user has not chosen otherwise.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new Route53Client({
      region: options.region ?? 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: 1,
      requestHandler: { requestTimeout: options.timeoutMs },
    });
  }

  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(`Route 53: ${what}`, this.options.retry, fn, classify, this.options.log)
      .catch((error: unknown) => { throw explain(error, this.options.hostedZoneId, what); });
  }

  async get(name: string, type: DnsRecordType): Promise<DnsRecordSet | null> {
    const n = normalizeName(name);
    const out = await this.call(`list ${n} ${type}`, () => this.client.send(new ListResourceRecordSetsCommand({
      HostedZoneId: this.options.hostedZoneId, StartRecordName: fqdn(n), StartRecordType: type, MaxItems: 1,
    })));
    // The list starts at the name and type asked for; the first set may be a later one.
    const set = out.ResourceRecordSets?.[0];
    if (!set || normalizeName(set.Name ?? '') !== n || set.Type !== type) return null;
    if (set.AliasTarget) {
      throw new DnsError('invalid-change', `${n} ${type} is a Route 53 alias record (to ${set.AliasTarget.DNSName ?? '?'}); offramp manages plain record sets only`, {
        hint: 'replace the alias by a plain record first, or change it by hand with the manual provider',
      });
    }
    return { name: n, type, ttl: set.TTL ?? 0, values: (set.ResourceRecords ?? []).map((r) => fromR53(type, r.Value ?? '')) };
  }

  private async change(what: string, change: Change): Promise<{ changeId?: string }> {
    const out = await this.call(what, () => this.client.send(new ChangeResourceRecordSetsCommand({
      HostedZoneId: this.options.hostedZoneId,
      ChangeBatch: { Comment: `offramp: ${what}`, Changes: [change] },
    })));
    const id = out.ChangeInfo?.Id ?? '';
    let status = out.ChangeInfo?.Status;
    const deadline = Date.now() + this.options.changeTimeoutMs;
    while (status !== 'INSYNC') {
      if (Date.now() > deadline) {
        throw new DnsError('timeout', `Route 53 accepted the change ${id} but it was not INSYNC within ${Math.round(this.options.changeTimeoutMs / 1000)} s`, {
          hint: `the change will most likely still complete; check it with \`aws route53 get-change --id ${id}\` before retrying`,
        });
      }
      await this.sleep(this.options.pollIntervalMs);
      const got = await this.call(`get change ${id}`, () => this.client.send(new GetChangeCommand({ Id: id })));
      status = got.ChangeInfo?.Status;
    }
    return { changeId: id };
  }

  async set(records: DnsRecordSet): Promise<{ changeId?: string }> {
    const n = normalizeName(records.name);
    if (records.values.length === 0) throw new DnsError('invalid-change', `a record set needs at least one value (${n} ${records.type})`, { hint: 'use delete to remove a record set' });
    return this.change(`upsert ${n} ${records.type}`, {
      Action: 'UPSERT',
      ResourceRecordSet: { Name: fqdn(n), Type: records.type, TTL: records.ttl, ResourceRecords: records.values.map((v) => ({ Value: toR53(records.type, v) })) },
    });
  }

  async delete(name: string, type: DnsRecordType): Promise<void> {
    const current = await this.get(name, type);
    if (!current) return;
    await this.change(`delete ${current.name} ${type}`, {
      Action: 'DELETE',
      ResourceRecordSet: { Name: fqdn(current.name), Type: type, TTL: current.ttl, ResourceRecords: current.values.map((v) => ({ Value: toR53(type, v) })) },
    });
  }
}
