/**
 * Generated rows and principals for an RLS corpus database (issue 11): auth.users rows whose claims
 * vary the way the corpus's policies read them (app_metadata / user_metadata roles, user_role, aal,
 * org_id, tenant_id; one anonymous, one banned), then rows for every table the corpus file created,
 * parents before children, typed by the column types, with the principals' ids in the uuid and
 * id-like text columns so that `auth.uid() = user_id` policies select something. Storage gets the
 * buckets the policies name and `<uid>/file.png` objects in them. Everything derives from a fixed
 * seed, so runs repeat.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { withClient } from '../../src/db/connect.js';
import { findNodes, loadSqlParser, parseStatements } from '../../src/db/sql-parse.js';

export interface Principal {
  /** A short label for reports: anon, service_role, admin, moderator, user, anonymous-user, ... */
  label: string;
  /** The database role PostgREST would use. */
  role: 'anon' | 'authenticated' | 'service_role';
  /** request.jwt.claims as PostgREST sets them (undefined: none, like anon without a user). */
  claims?: Record<string, unknown>;
  userId?: string;
  email?: string;
}

/** A uuid from the seed: the same on every run. */
export function seededUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface UserSpec {
  label: string;
  appRole?: string;
  anonymous?: boolean;
  banned?: boolean;
}

const USERS: UserSpec[] = [
  { label: 'admin', appRole: 'admin' },
  { label: 'moderator', appRole: 'moderator' },
  { label: 'user' },
  { label: 'user-2' },
  { label: 'anonymous-user', anonymous: true },
  { label: 'banned-user', banned: true },
];

export interface CorpusUser extends UserSpec {
  id: string;
  email: string;
  claims: Record<string, unknown>;
}

export function corpusUsers(seed = 'offramp-rls-corpus'): CorpusUser[] {
  const tenant = seededUuid(`${seed}:tenant`);
  return USERS.map((u, i) => {
    const id = seededUuid(`${seed}:user:${i}`);
    const email = `${u.label}@corpus.test`;
    const appMetadata = {
      provider: u.anonymous ? 'anonymous' : 'email',
      providers: [u.anonymous ? 'anonymous' : 'email'],
      ...(u.appRole ? { role: u.appRole, roles: [u.appRole] } : {}),
      tenant_id: tenant,
    };
    const userMetadata = { full_name: u.label, ...(u.appRole ? { role: u.appRole } : {}) };
    const claims: Record<string, unknown> = {
      sub: id,
      email: u.anonymous ? '' : email,
      role: 'authenticated',
      aud: 'authenticated',
      aal: u.appRole === 'admin' ? 'aal2' : 'aal1',
      is_anonymous: Boolean(u.anonymous),
      app_metadata: appMetadata,
      user_metadata: userMetadata,
      ...(u.appRole ? { user_role: u.appRole } : {}),
      // Clerk-style organisation claim: only one user belongs to an organisation (quillmate reads it first).
      ...(u.label === 'moderator' ? { org_id: 'org-1' } : {}),
      // keremk__mentopanda casts this claim to bigint.
      current_project_id: 1,
      session_id: seededUuid(`${seed}:session:${i}`),
    };
    return { ...u, id, email, claims };
  });
}

/** The principals a corpus run verifies with: anon, service_role and four users (a sample). */
export function corpusPrincipals(users: CorpusUser[] = corpusUsers()): Principal[] {
  const pick = ['admin', 'moderator', 'user', 'anonymous-user'];
  return [
    { label: 'anon', role: 'anon', claims: { role: 'anon', aud: 'authenticated' } },
    { label: 'service_role', role: 'service_role', claims: { role: 'service_role' } },
    ...users.filter((u) => pick.includes(u.label)).map((u): Principal => ({
      label: u.label, role: 'authenticated', claims: u.claims, userId: u.id, email: u.email,
    })),
  ];
}

async function insertUsers(c: pg.Client, users: CorpusUser[]): Promise<void> {
  for (const u of users) {
    await c.query(
      `INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data,
                               raw_user_meta_data, created_at, updated_at, banned_until, is_anonymous)
       VALUES ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, '', '2024-01-01', $3, $4,
               '2024-01-01', '2024-01-01', $5, $6)
       ON CONFLICT (id) DO NOTHING`,
      [u.id, u.anonymous ? null : u.email, u.claims.app_metadata, u.claims.user_metadata,
        u.banned ? '2999-01-01' : null, Boolean(u.anonymous)],
    );
  }  // MFA factors, so that the corpus's "require MFA" rules (yhensproperty, Razikus's is_user_authenticated)
  // decide something: user has a verified factor but an aal1 session (refused), moderator an unverified one.
  for (const [label, status] of [['user', 'verified'], ['moderator', 'unverified']] as const) {
    const u = users.find((x) => x.label === label);
    if (!u) continue;
    await c.query(
      `INSERT INTO auth.mfa_factors (id, user_id, friendly_name, factor_type, status, created_at, updated_at)
       VALUES ($1, $2, 'corpus', 'totp', $3, '2024-01-01', '2024-01-01') ON CONFLICT (id) DO NOTHING`,
      [seededUuid(`mfa:${u.id}`), u.id, status],
    );
  }
}

interface Column {
  name: string;
  type: string;
  typtype: string;
  category: string;
  elemCategory: string | null;
  notNull: boolean;
  hasDefault: boolean;
  skip: boolean;
  unique: boolean;
  enumLabels: string[] | null;
  fkTable: string | null;
  fkColumn: string | null;
  checks: string[];
}

const COLUMNS_SQL = `
  SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typtype, bt.typcategory AS category,
         et.typcategory AS "elemCategory", a.attnotnull AS "notNull", a.atthasdef AS "hasDefault",
         (a.attidentity <> '' OR a.attgenerated <> '') AS skip,
         EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum) AS unique,
         (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = bt.oid) AS "enumLabels",
         (SELECT format('%I.%I', fn.nspname, fc.relname) FROM pg_constraint k JOIN pg_class fc ON fc.oid = k.confrelid
            JOIN pg_namespace fn ON fn.oid = fc.relnamespace
           WHERE k.conrelid = a.attrelid AND k.contype = 'f' AND k.conkey = ARRAY[a.attnum] LIMIT 1) AS "fkTable",
         (SELECT fa.attname FROM pg_constraint k JOIN pg_attribute fa ON fa.attrelid = k.confrelid AND fa.attnum = k.confkey[1]
           WHERE k.conrelid = a.attrelid AND k.contype = 'f' AND k.conkey = ARRAY[a.attnum] LIMIT 1) AS "fkColumn",
         coalesce((SELECT array_agg(pg_get_expr(k.conbin, k.conrelid)) FROM pg_constraint k
           WHERE k.conrelid = a.attrelid AND k.contype = 'c' AND k.conkey = ARRAY[a.attnum]), '{}') AS checks
    FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
    JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
    LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
   WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
   ORDER BY a.attnum`;

/** String constants a single-column CHECK allows (`role IN ('admin','user')`), read from its parse tree. */
function checkValues(checks: string[]): string[] {
  const out: string[] = [];
  for (const check of checks) {
    const [stmt] = parseStatements(`SELECT 1 WHERE ${check}`);
    for (const k of findNodes(stmt?.node, 'A_Const')) {
      const s = (k.sval as { sval?: string } | undefined)?.sval;
      if (s !== undefined) out.push(s);
    }
  }
  return out;
}

/** Tables in an order where every foreign-key parent comes before its children. */
async function parentsFirst(c: pg.Client, tables: string[]): Promise<string[]> {
  const { rows } = await c.query<{ child: string; parent: string }>(
    `SELECT format('%I.%I', cn.nspname, cc.relname) AS child, format('%I.%I', pn.nspname, pc.relname) AS parent
       FROM pg_constraint k JOIN pg_class cc ON cc.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
       JOIN pg_class pc ON pc.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
      WHERE k.contype = 'f' AND k.conrelid <> k.confrelid`,
  );
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (t: string): void => {
    if (ordered.includes(t) || visiting.has(t)) return;
    visiting.add(t);
    for (const r of rows) if (r.child === t && tables.includes(r.parent)) visit(r.parent);
    ordered.push(t);
  };
  for (const t of tables) visit(t);
  return ordered;
}

const PATH_LIKE = /(path|file|avatar|image|url|key|name)$/;
const ID_LIKE = /(^|_)(id|uid|sub|user|owner|author|creator|member|account|profile|created_by|updated_by)(_id)?$/;

/** The value of column `col` in generated row `i` (text, cast by the INSERT), or undefined: DEFAULT. */
function valueFor(col: Column, i: number, users: CorpusUser[], parents: Map<string, string[]>, table: string): string | null | undefined {
  const user = users[i % users.length]!;
  if (col.skip) return undefined;
  if (col.fkTable) {
    const pool = parents.get(`${col.fkTable}.${col.fkColumn}`) ?? [];
    if (col.fkTable === table) return null;
    return pool.length ? pool[i % pool.length]! : null;
  }
  const name = col.name.toLowerCase();
  const allowed = col.enumLabels ?? checkValues(col.checks);
  if (allowed.length) {
    // A role column gives the row's user their own role when it is allowed (admin's row says
    // admin), so membership tables actually grant the admin and moderator principals.
    if (name.includes('role') && user.appRole && allowed.includes(user.appRole)) return user.appRole;
    return allowed[i % allowed.length]!;
  }
  switch (col.category) {
    case 'S': // strings
      if (name.includes('email')) return user.email;
      if (table === 'storage.objects' && name === 'name') return `${user.id}/file.png`;
      if (name === 'role' || name.endsWith('_role')) return ['admin', 'moderator', 'user', 'member'][i % 4]!;
      if (ID_LIKE.test(name)) return col.unique && i >= users.length ? `${user.id}-${i}` : user.id;
      if (PATH_LIKE.test(name)) return `${user.id}/file-${i}.png`;
      return `${col.name}-${i}`;
    case 'N':
      return String(i + 1);
    case 'B':
      return i % 2 === 0 ? 'true' : 'false';
    case 'D':
      return col.hasDefault ? undefined : `2024-01-${String((i % 28) + 1).padStart(2, '0')} 12:00:00+00`;
    case 'U':
      if (col.type === 'json' || col.type === 'jsonb') return col.hasDefault ? undefined : JSON.stringify({ role: user.appRole ?? 'user', user_id: user.id });
      break;
    case 'A':
      if (col.hasDefault) return undefined;
      if (col.type.startsWith('uuid')) return `{${user.id}}`;
      if (col.elemCategory === 'S') return `{${user.id}}`;
      return '{}';
    default:
      break;
  }
  if (col.type === 'uuid') {
    if (col.hasDefault && col.unique) return undefined;
    return col.unique && i >= users.length ? seededUuid(`${table}.${col.name}:${i}`) : user.id;
  }
  if (col.type === 'json' || col.type === 'jsonb') return col.hasDefault ? undefined : '{}';
  if (col.type === 'inet') return `10.0.0.${i + 1}`;
  return col.hasDefault || !col.notNull ? undefined : '';
}

export interface TableRows {
  table: string;
  inserted: number;
  failed: number;
  /** The first error per table, when rows failed. */
  error?: string;
}

/** Buckets the policies name: `bucket_id = 'x'` / `bucket_id IN (...)`, read from their parse trees. */
async function policyBuckets(c: pg.Client): Promise<string[]> {
  const { rows } = await c.query<{ e: string }>(
    `SELECT coalesce(qual, 'true') || ' AND ' || coalesce(with_check, 'true') AS e FROM pg_policies WHERE schemaname = 'storage'`,
  );
  const out = new Set<string>();
  for (const { e } of rows) {
    const [stmt] = parseStatements(`SELECT 1 WHERE ${e}`);
    for (const expr of findNodes(stmt?.node, 'A_Expr')) {
      const cols = findNodes(expr.lexpr, 'ColumnRef');
      const last = (cols[0]?.fields as Array<{ String?: { sval: string } }> | undefined)?.at(-1)?.String?.sval;
      if (last !== 'bucket_id') continue;
      for (const k of findNodes(expr.rexpr, 'A_Const')) {
        const s = (k.sval as { sval?: string } | undefined)?.sval;
        if (s) out.add(s);
      }
    }
  }
  return [...out].sort();
}

/**
 * Insert the users and rows for `tables` (the ones the corpus file created) into `adminUrl`, as the
 * superuser (RLS does not apply). Rows run one by one in savepoints; a row the constraints refuse is
 * counted, not fatal. `rowsPerTable` rows each, the principals' ids cycling through them.
 */
export async function generateCorpusData(adminUrl: string, tables: string[], rowsPerTable = 8): Promise<TableRows[]> {
  await loadSqlParser();
  const users = corpusUsers();
  return withClient(adminUrl, { role: 'admin', applicationName: 'offramp-rls-corpus-data' }, async (c) => {
    await c.query(`SET search_path = public, extensions`);
    // One transaction, a savepoint per row: a refused row is rolled back alone.
    await c.query('BEGIN');
    await insertUsers(c, users);
    const parents = new Map<string, string[]>();
    const remember = async (table: string, cols: string[]): Promise<void> => {
      for (const col of cols) {
        const { rows } = await c.query<{ v: string }>(`SELECT DISTINCT ${quote(col)}::text AS v FROM ${table} WHERE ${quote(col)} IS NOT NULL ORDER BY 1`);
        parents.set(`${table}.${col}`, rows.map((r) => r.v));
      }
    };
    await remember('auth.users', ['id']);
    const { rows: storagePolicies } = await c.query(`SELECT 1 FROM pg_policies WHERE schemaname = 'storage' AND tablename = 'objects'`);
    const named = await policyBuckets(c);
    const buckets = named.length || !storagePolicies.length ? named : ['corpus-bucket'];
    for (const b of buckets) {
      await c.query(`INSERT INTO storage.buckets (id, name, public) VALUES ($1, $1, false) ON CONFLICT DO NOTHING`, [b]);
    }
    await remember('storage.buckets', ['id']);
    const out: TableRows[] = [];
    // Storage objects first: app tables may reference them (storage_object_id), never the reverse.
    const order = [...(buckets.length ? ['storage.objects'] : []), ...(await parentsFirst(c, tables))];
    for (const table of order) {
      const { rows: cols } = await c.query<Column>(COLUMNS_SQL, [table]);
      const result: TableRows = { table, inserted: 0, failed: 0 };
      const n = table === 'storage.objects' ? buckets.length * users.length : rowsPerTable;
      for (let i = 0; i < n; i++) {
        const row = cols.map((col) => {
          if (table === 'storage.objects') return storageValue(col.name, i, users, buckets);
          return valueFor(col, i, users, parents, table);
        });
        const used = cols.filter((_, k) => row[k] !== undefined);
        const values = row.filter((v) => v !== undefined);
        const sql = used.length
          ? `INSERT INTO ${table} (${used.map((u) => quote(u.name)).join(', ')}) VALUES (${used.map((u, k) => `$${k + 1}::${u.type}`).join(', ')})`
          : `INSERT INTO ${table} DEFAULT VALUES`;
        await c.query('SAVEPOINT row');
        try {
          await c.query(sql, values);
          await c.query('RELEASE SAVEPOINT row');
          result.inserted++;
        } catch (error) {
          await c.query('ROLLBACK TO SAVEPOINT row');
          result.failed++;
          result.error ??= (error as Error).message;
        }
      }
      const fkCols = await c.query<{ col: string }>(
        `SELECT DISTINCT fa.attname AS col FROM pg_constraint k JOIN pg_attribute fa ON fa.attrelid = k.confrelid AND fa.attnum = ANY (k.confkey)
          WHERE k.contype = 'f' AND k.confrelid = $1::regclass`,
        [table],
      );
      await remember(table, fkCols.rows.map((r) => r.col));
      out.push(result);
    }
    await c.query('COMMIT');
    return out;
  });
}

function storageValue(column: string, i: number, users: CorpusUser[], buckets: string[]): string | null | undefined {
  const user = users[i % users.length]!;
  const bucket = buckets[Math.floor(i / users.length) % buckets.length]!;
  switch (column) {
    case 'bucket_id': return bucket;
    // <uid>/<uid>.png: foldername(name)[1] and filename(name) before the dot are both the owner's id
    // (makerkit reads the file name as a uuid; most others read the first folder).
    case 'name': return `${user.id}/${user.id}.png`;
    case 'owner': return user.id;
    case 'owner_id': return user.id;
    case 'metadata': return '{"mimetype":"image/png","size":1}';
    default: return undefined;
  }
}

const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;

export interface Visibility {
  table: string;
  principal: string;
  /** Rows the principal can SELECT, or undefined when the SELECT itself failed. */
  rows?: number;
  error?: string;
}

/**
 * What each principal sees of each table, as PostgREST would run it: the API role set locally and
 * the claims in request.jwt.claims, in a transaction that is rolled back.
 */
export async function visibleRows(url: string, principals: Principal[], tables: string[]): Promise<Visibility[]> {
  return withClient(url, { role: 'admin', applicationName: 'offramp-rls-corpus-visible' }, async (c) => {
    const out: Visibility[] = [];
    for (const table of tables) {
      for (const p of principals) {
        await c.query('BEGIN');
        try {
          await c.query(`SET LOCAL ROLE ${p.role}`);
          await c.query(`SELECT set_config('request.jwt.claims', $1, true)`, [JSON.stringify(p.claims ?? {})]);
          const { rows } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
          out.push({ table, principal: p.label, rows: Number(rows[0]!.n) });
        } catch (error) {
          out.push({ table, principal: p.label, error: (error as Error).message });
        } finally {
          await c.query('ROLLBACK');
        }
      }
    }
    return out;
  });
}

/** Tables with row-level security on, among `tables` plus storage.objects when it has policies. */
export async function rlsTables(url: string, tables: string[]): Promise<string[]> {
  return withClient(url, { role: 'admin' }, async (c) => {
    const { rows } = await c.query<{ t: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relrowsecurity AND (format('%I.%I', n.nspname, c.relname) = ANY ($1)
           OR (n.nspname = 'storage' AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)))
        ORDER BY 1`,
      [tables],
    );
    return rows.map((r) => r.t);
  });
}
