/**
 * A stand-in for the Cloudflare v4 API's DNS records endpoints, as the official SDK calls them:
 * GET /zones/{zone_id}/dns_records (filtered by name and type), POST, PUT/PATCH and DELETE
 * /zones/{zone_id}/dns_records/{id}; the v4 envelope {success, errors, messages, result,
 * result_info}; the Bearer token checked. Base URL for the SDK: `${url}/client/v4`.
 */
import { randomBytes } from 'node:crypto';
import { startStandin, type LoggedRequest, type StandinServer } from './http.js';

export interface CfStoredRecord { id: string; name: string; type: string; content: string; ttl: number; proxied: boolean; created_on: string; modified_on: string }

export interface CloudflareStandin extends StandinServer {
  baseUrl: string;
  zoneId: string;
  token: string;
  /** What the "provider" holds now, by zone. */
  records: Map<string, CfStoredRecord>;
  rateLimit(times: number): void;
}

const envelope = (result: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ success: true, errors: [], messages: [], result, ...extra });
const failure = (status: number, code: number, message: string) => ({ status, body: JSON.stringify({ success: false, errors: [{ code, message }], messages: [], result: null }) });

export async function startCloudflareStandin(seed: Array<Omit<CfStoredRecord, 'id' | 'created_on' | 'modified_on' | 'proxied'>> = []): Promise<CloudflareStandin> {
  const zoneId = randomBytes(16).toString('hex');
  const token = `cf-test-${randomBytes(18).toString('base64url')}`;
  const records = new Map<string, CfStoredRecord>();
  const now = () => new Date().toISOString();
  const add = (r: { name: string; type: string; content: string; ttl: number; proxied?: boolean }): CfStoredRecord => {
    const rec = { id: randomBytes(16).toString('hex'), name: r.name, type: r.type, content: r.content, ttl: r.ttl, proxied: r.proxied ?? false, created_on: now(), modified_on: now() };
    records.set(rec.id, rec);
    return rec;
  };
  for (const r of seed) add(r);

  const handle = (req: LoggedRequest) => {
    const auth = req.headers.authorization;
    if (!auth) return failure(401, 10000, 'Authentication error');
    if (auth !== `Bearer ${token}`) return failure(403, 9109, 'Invalid access token');
    const m = /^\/client\/v4\/zones\/([^/]+)\/dns_records(?:\/([^/]+))?\/?$/.exec(req.path);
    if (!m) return failure(404, 7000, `No route for that URI: ${req.path}`);
    if (m[1] !== zoneId) return failure(404, 7003, `Could not route to /zones/${m[1]}/dns_records, perhaps your object identifier is invalid?`);
    const id = m[2];
    const body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {};
    if (!id && req.method === 'GET') {
      const name = req.query.get('name.exact') ?? req.query.get('name');
      const type = req.query.get('type');
      const page = Number(req.query.get('page') ?? 1);
      const perPage = Number(req.query.get('per_page') ?? 100);
      const all = [...records.values()].filter((r) => (!name || r.name === name) && (!type || r.type === type));
      const slice = all.slice((page - 1) * perPage, page * perPage);
      return { status: 200, body: envelope(slice, { result_info: { page, per_page: perPage, count: slice.length, total_count: all.length, total_pages: Math.max(1, Math.ceil(all.length / perPage)) } }) };
    }
    if (!id && req.method === 'POST') {
      if (!body.name || !body.type || !body.content) return failure(400, 9000, 'DNS name, type and content are required');
      return { status: 200, body: envelope(add(body as never)) };
    }
    const existing = id ? records.get(id) : undefined;
    if (!existing) return failure(404, 81044, 'Record does not exist.');
    if (req.method === 'PUT' || req.method === 'PATCH') {
      const next = req.method === 'PUT'
        ? { ...existing, name: String(body.name), type: String(body.type), content: String(body.content), ttl: Number(body.ttl ?? 1), proxied: Boolean(body.proxied) }
        : { ...existing, ...body };
      next.modified_on = now();
      records.set(existing.id, next as CfStoredRecord);
      return { status: 200, body: envelope(next) };
    }
    if (req.method === 'DELETE') {
      records.delete(existing.id);
      return { status: 200, body: envelope({ id: existing.id }) };
    }
    return { status: 200, body: envelope(existing) };
  };

  const server = await startStandin(handle, 'application/json');
  return {
    ...server,
    baseUrl: `${server.url}/client/v4`,
    zoneId,
    token,
    records,
    rateLimit(times: number) {
      server.inject({ status: 429, headers: { 'retry-after': '0' }, body: JSON.stringify({ success: false, errors: [{ code: 971, message: 'Please wait and consider throttling your request speed' }], messages: [], result: null }) }, times);
    },
  };
}
