/**
 * A stand-in for the Route 53 API (2013-04-01, REST/XML) as @aws-sdk/client-route-53 calls it:
 * GET /2013-04-01/hostedzone/{Id}/rrset (ListResourceRecordSets, starting at name and type),
 * POST /2013-04-01/hostedzone/{Id}/rrset (ChangeResourceRecordSets: CREATE/UPSERT/DELETE, applied
 * atomically, DELETE only of the exact set), GET /2013-04-01/change/{Id} (PENDING for a few polls,
 * then INSYNC). Requests must carry a SigV4 Authorization header naming the known access key.
 */
import { randomBytes } from 'node:crypto';
import { startStandin, type LoggedRequest, type StandinServer } from './http.js';

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

export interface R53Set { name: string; type: string; ttl: number; values: string[] }

export interface Route53Standin extends StandinServer {
  hostedZoneId: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** What the "provider" holds now, keyed `name|type` (names with the trailing dot). */
  sets: Map<string, R53Set>;
  /** Changes and how many GetChange polls each has had. */
  changes: Map<string, { polls: number; status: 'PENDING' | 'INSYNC' }>;
  /** GetChange answers PENDING this many times before INSYNC (Infinity: never in sync). */
  pendingPolls: number;
  throttle(times: number): void;
  invalidChangeBatch(message: string, times?: number): void;
}

interface XmlNode { name: string; children: XmlNode[]; text: string }

const decode = (s: string): string => s.replace(/&(lt|gt|quot|apos|amp|#\d+);/g, (_, e: string) =>
  ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' } as Record<string, string>)[e] ?? String.fromCharCode(Number(e.slice(1))));
const encode = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Enough XML for the SDK's request bodies: elements, text, entities; no attributes needed. */
function parseXml(xml: string): XmlNode {
  const root: XmlNode = { name: '#root', children: [], text: '' };
  const stack = [root];
  for (const m of xml.replace(/<\?xml[^>]*\?>/, '').matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>|([^<]+)/g)) {
    const top = stack.at(-1)!;
    if (m[4] !== undefined) { top.text += decode(m[4]); continue; }
    if (m[1]) { stack.pop(); continue; }
    const node: XmlNode = { name: m[2]!, children: [], text: '' };
    top.children.push(node);
    if (!m[3]) stack.push(node);
  }
  return root;
}
const child = (n: XmlNode | undefined, name: string): XmlNode | undefined => n?.children.find((c) => c.name === name);
const all = (n: XmlNode | undefined, name: string): XmlNode[] => n?.children.filter((c) => c.name === name) ?? [];

const errorXml = (status: number, code: string, message: string) => ({
  status,
  body: `<?xml version="1.0"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${encode(message)}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`,
});
/** How the service reports a refused change batch: an ErrorResponse whose message lists the problems in brackets. */
const invalidChangeBatchXml = (problems: string[]) => errorXml(400, 'InvalidChangeBatch', `[${problems.join(', ')}]`);
const changeInfoXml = (id: string, status: string) => `<ChangeInfo><Id>/change/${id}</Id><Status>${status}</Status><SubmittedAt>${new Date().toISOString()}</SubmittedAt></ChangeInfo>`;

/** Route 53 orders record sets by name with labels reversed (com.example.api), then type. */
const sortKey = (name: string, type: string): string => `${name.replace(/\.$/, '').split('.').reverse().join('.')}|${type}`;

export async function startRoute53Standin(seed: R53Set[] = []): Promise<Route53Standin> {
  const hostedZoneId = `Z${randomBytes(8).toString('hex').toUpperCase()}`;
  const accessKeyId = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(30).toString('base64');
  const sets = new Map<string, R53Set>(seed.map((s) => [`${s.name}|${s.type}`, s]));
  const changes = new Map<string, { polls: number; status: 'PENDING' | 'INSYNC' }>();
  const state = { pendingPolls: 2 };

  const handle = (req: LoggedRequest) => {
    const auth = String(req.headers.authorization ?? '');
    if (!auth.startsWith('AWS4-HMAC-SHA256 ') || !/SignedHeaders=.*Signature=[0-9a-f]{64}/.test(auth)) return errorXml(403, 'MissingAuthenticationToken', 'Missing Authentication Token');
    if (!auth.includes(`Credential=${accessKeyId}/`)) return errorXml(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    const path = req.path.replace(/\/$/, '');
    const change = /^\/2013-04-01\/change\/(.+)$/.exec(path);
    if (change && req.method === 'GET') {
      const id = change[1]!.replace(/^\/?change\//, '');
      const c = changes.get(id);
      if (!c) return errorXml(404, 'NoSuchChange', `A change with the specified change ID does not exist: ${id}`);
      c.polls++;
      if (c.polls > state.pendingPolls) c.status = 'INSYNC';
      return { status: 200, body: `<?xml version="1.0"?>\n<GetChangeResponse xmlns="${NS}">${changeInfoXml(id, c.status)}</GetChangeResponse>` };
    }
    const rrset = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset$/.exec(path);
    if (!rrset) return errorXml(404, 'UnknownOperation', `no such operation: ${req.method} ${req.path}`);
    if (rrset[1] !== hostedZoneId) return errorXml(404, 'NoSuchHostedZone', `No hosted zone found with ID: ${rrset[1]}`);

    if (req.method === 'GET') {
      const name = req.query.get('name');
      const type = req.query.get('type') ?? '';
      const max = Number(req.query.get('maxitems') ?? 100);
      const ordered = [...sets.values()].sort((a, b) => sortKey(a.name, a.type).localeCompare(sortKey(b.name, b.type)));
      const from = name ? ordered.filter((s) => sortKey(s.name, s.type) >= sortKey(name, type)) : ordered;
      const page = from.slice(0, max);
      const items = page.map((s) => `<ResourceRecordSet><Name>${encode(s.name)}</Name><Type>${s.type}</Type><TTL>${s.ttl}</TTL><ResourceRecords>${s.values.map((v) => `<ResourceRecord><Value>${encode(v)}</Value></ResourceRecord>`).join('')}</ResourceRecords></ResourceRecordSet>`).join('');
      const next = from[max];
      return {
        status: 200,
        body: `<?xml version="1.0"?>\n<ListResourceRecordSetsResponse xmlns="${NS}"><ResourceRecordSets>${items}</ResourceRecordSets><IsTruncated>${next ? 'true' : 'false'}</IsTruncated>${next ? `<NextRecordName>${encode(next.name)}</NextRecordName><NextRecordType>${next.type}</NextRecordType>` : ''}<MaxItems>${max}</MaxItems></ListResourceRecordSetsResponse>`,
      };
    }
    if (req.method === 'POST') {
      const doc = child(parseXml(req.body), 'ChangeResourceRecordSetsRequest');
      const batch = child(child(doc, 'ChangeBatch'), 'Changes');
      const next = new Map(sets);
      const problems: string[] = [];
      for (const c of all(batch, 'Change')) {
        const action = child(c, 'Action')?.text;
        const rs = child(c, 'ResourceRecordSet');
        const s: R53Set = {
          name: `${(child(rs, 'Name')?.text ?? '').replace(/\.$/, '')}.`,
          type: child(rs, 'Type')?.text ?? '',
          ttl: Number(child(rs, 'TTL')?.text ?? 0),
          values: all(child(rs, 'ResourceRecords'), 'ResourceRecord').map((r) => child(r, 'Value')?.text ?? ''),
        };
        const key = `${s.name}|${s.type}`;
        const held = next.get(key);
        if (action === 'CREATE' && held) problems.push(`Tried to create resource record set [name='${s.name}', type='${s.type}'] but it already exists`);
        else if (action === 'DELETE' && (!held || held.ttl !== s.ttl || held.values.join('\n') !== s.values.join('\n'))) {
          problems.push(`Tried to delete resource record set [name='${s.name}', type='${s.type}'] but ${held ? 'the values provided do not match the current values' : 'it was not found'}`);
        } else if (action === 'DELETE') next.delete(key);
        else if (action === 'CREATE' || action === 'UPSERT') next.set(key, s);
        else problems.push(`unknown action ${String(action)}`);
      }
      if (problems.length > 0) {
        return invalidChangeBatchXml(problems);
      }
      sets.clear();
      for (const [k, v] of next) sets.set(k, v);
      const id = `C${randomBytes(8).toString('hex').toUpperCase()}`;
      changes.set(id, { polls: 0, status: 'PENDING' });
      return { status: 200, body: `<?xml version="1.0"?>\n<ChangeResourceRecordSetsResponse xmlns="${NS}">${changeInfoXml(id, 'PENDING')}</ChangeResourceRecordSetsResponse>` };
    }
    return errorXml(405, 'UnknownOperation', `${req.method} not supported`);
  };

  const server = await startStandin(handle, 'text/xml');
  return {
    ...server,
    hostedZoneId, accessKeyId, secretAccessKey, sets, changes,
    get pendingPolls() { return state.pendingPolls; },
    set pendingPolls(n: number) { state.pendingPolls = n; },
    throttle(times: number) { server.inject(errorXml(400, 'Throttling', 'Rate exceeded'), times); },
    invalidChangeBatch(message: string, times = 1) {
      server.inject(invalidChangeBatchXml([message]), times, (r) => r.method === 'POST');
    },
  };
}
