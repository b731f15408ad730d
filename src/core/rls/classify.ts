/**
 * Classify a source policy for a self-hosted target, with the exact reasons: portable as is;
 * portable with the compatibility layer (auth.uid() & co, storage helpers, request.jwt settings);
 * needs the auth translation (reads the users tables); or not translatable automatically (a
 * function, table, role or claim source the new backend will not have). Nothing is dropped silently:
 * every policy gets a class and at least one reason.
 */
import type { References, SourceFunction, SourcePolicy } from './read.js';
import { typeCasts } from './rewrite.js';

export type PolicyClass = 'portable' | 'compat' | 'auth-translation' | 'not-translatable';

export interface Classification {
  class: PolicyClass;
  reasons: string[];
}

/** The auth layout on the target (the auth work's AuthLayout; the lead unifies the two shapes). */
export type RlsAuthLayout =
  | { kind: 'keep' }
  | { kind: 'table'; users: { schema: string; name: string }; identities: { schema: string; name: string } };

export interface ClassifyContext {
  authLayout: RlsAuthLayout;
  /** The target has storage.objects (storage moved too): storage policies can be kept. */
  storageKept: boolean;
  /** Roles the target has or the translation creates (the API roles always count). */
  targetRoles: Set<string>;
  /**
   * Columns of the `auth` schema's tables on the source and on the target, when the target is known.
   * An auth table other than the users tables (auth.mfa_factors, auth.sessions, ...) is read unchanged
   * when the target holds it (`offramp auth migrate --include-mfa` creates auth.mfa_factors in the keep
   * layout) with every column the policy reads.
   */
  authColumns?: { source: Map<string, Set<string>>; target: Map<string, Set<string>> };
  /** Types in the platform schemas the target has (`auth.factor_status`), when the target is known. */
  targetTypes?: Set<string>;
}

/**
 * A cast to a platform type (pg_get_expr prints `status = 'verified'::auth.factor_status`): fine when
 * the target has the type; a literal compared for equality is compared as text where the target keeps
 * the column as text (auth migrate does); anything else would not even be created.
 */
export function judgeCasts(tree: unknown, ctx: ClassifyContext, out: Array<{ cls: PolicyClass; reason: string }>): void {
  for (const site of typeCasts(tree)) {
    if (site.names.length !== 2 || !PLATFORM_SCHEMAS.has(site.names[0]!)) continue;
    const type = site.names.join('.');
    if (ctx.targetTypes?.has(type)) continue;
    if (site.literalEquality) out.push({ cls: 'compat', reason: `compares a literal cast to ${type}, a type the target does not have: compared as text (equality gives the same answer)` });
    else out.push({ cls: 'not-translatable', reason: `casts to ${type}, a type the target does not have (only literals compared for equality are rewritten)` });
  }
}

/** What the compatibility layer provides (schema `auth` on Supabase). */
export const COMPAT_AUTH_FUNCTIONS = ['uid', 'jwt', 'role', 'email'] as const;
export const COMPAT_STORAGE_FUNCTIONS = ['foldername', 'filename', 'extension'] as const;
export const API_ROLES = ['anon', 'authenticated', 'service_role'] as const;
/** The auth tables a local users layout provides. */
const AUTH_TABLES = new Set(['users', 'identities']);
/** How the other auth tables get onto the target. */
const AUTH_TABLE_SOURCE: Record<string, string> = {
  mfa_factors: 'offramp auth migrate --include-mfa',
  sessions: 'offramp auth migrate --include-sessions',
  refresh_tokens: 'offramp auth migrate --include-sessions',
};

/** An auth table besides the users tables: translatable when the target has it with the columns read. */
function judgeOtherAuthTable(name: string, refs: References, where: string, ctx: ClassifyContext): { cls: PolicyClass; reason: string } {
  const how = AUTH_TABLE_SOURCE[name];
  const fix = how ? `: run ${how}${ctx.authLayout.kind === 'table' ? ' (it creates the table as auth.' + name + ' only in the keep layout)' : ''}` : '';
  const there = ctx.authColumns?.target.get(name);
  if (!ctx.authColumns) return { cls: 'not-translatable', reason: `reads auth.${name}${where}: translatable only onto a target that has auth.${name} (pass --target)${fix}` };
  if (!there) return { cls: 'not-translatable', reason: `reads auth.${name}${where}, which the target does not have${fix}` };
  // The column names the expression refers to that are auth.<name>'s on the source.
  const read = refs.columns.filter((c) => ctx.authColumns!.source.get(name)?.has(c));
  const missing = read.filter((c) => !there.has(c));
  if (missing.length) return { cls: 'not-translatable', reason: `reads auth.${name}.${missing.join(', ')}${where}, which the target's auth.${name} does not have${fix}` };
  return { cls: 'auth-translation', reason: `reads auth.${name}${where}: the target has auth.${name}${read.length ? ` with the columns read (${read.join(', ')})` : ''}` };
}
/** Supabase-managed schemas whose objects a self-hosted target does not get. */
export const PLATFORM_SCHEMAS = new Set(['auth', 'storage', 'realtime', 'vault', 'net', 'supabase_functions', 'graphql', 'graphql_public', 'pgsodium', 'pgsodium_masks', 'supabase_migrations', '_realtime', 'pgbouncer', 'cron']);
/** The tables whose RLS this stage owns: user tables, and storage's when storage moved too. */
export const ownsTable = (schema: string, storageKept: boolean): boolean => !PLATFORM_SCHEMAS.has(schema) || (schema === 'storage' && storageKept);
const CLAIM_SETTING = /^request\.jwt\.claims?(\..+)?$/;

const RANK: Record<PolicyClass, number> = { portable: 0, compat: 1, 'auth-translation': 2, 'not-translatable': 3 };

/** Judge what an expression or a function body refers to; `via` names the helper it is in. */
function judgeRefs(refs: References, via: string, ctx: ClassifyContext, out: Array<{ cls: PolicyClass; reason: string }>): void {
  const where = via ? ` (via ${via})` : '';
  for (const call of refs.calls) {
    const [schema, name] = call.includes('.') ? call.split('.').slice(-2) as [string, string] : ['', call];
    if (schema === 'auth') {
      if ((COMPAT_AUTH_FUNCTIONS as readonly string[]).includes(name)) out.push({ cls: 'compat', reason: `calls auth.${name}()${where}: provided by the compatibility functions` });
      else out.push({ cls: 'not-translatable', reason: `calls auth.${name}()${where}, which the self-hosted target will not have` });
    } else if (schema === 'storage') {
      if ((COMPAT_STORAGE_FUNCTIONS as readonly string[]).includes(name)) out.push({ cls: 'compat', reason: `calls storage.${name}()${where}: provided by the storage helper equivalents` });
      else out.push({ cls: 'not-translatable', reason: `calls storage.${name}()${where}, which only the storage server provides` });
    } else if (schema && PLATFORM_SCHEMAS.has(schema)) {
      out.push({ cls: 'not-translatable', reason: `calls ${schema}.${name}()${where}, a Supabase-managed function the target will not have` });
    }
  }
  for (const s of refs.settings) {
    if (CLAIM_SETTING.test(s)) out.push({ cls: 'compat', reason: `reads the setting ${s}${where}: set per request by the backend (the request contract)` });
    else if (s.startsWith('request.')) out.push({ cls: 'not-translatable', reason: `reads the setting ${s}${where}, which only PostgREST sets (headers, cookies, path)` });
  }
  for (const rel of refs.relations) {
    const [schema, name] = rel.split('.') as [string, string];
    if (schema === 'auth') {
      if (AUTH_TABLES.has(name)) {
        const local = ctx.authLayout.kind === 'keep' ? `auth.${name}` : `${ctx.authLayout[name as 'users' | 'identities'].schema}.${ctx.authLayout[name as 'users' | 'identities'].name}`;
        out.push({ cls: 'auth-translation', reason: `reads auth.${name}${where}: rewritten to the local ${local}` });
      } else {
        out.push(judgeOtherAuthTable(name, refs, where, ctx));
      }
    } else if (schema === 'storage') {
      if (!ctx.storageKept) out.push({ cls: 'not-translatable', reason: `reads storage.${name}${where} while storage stays behind` });
    } else if (PLATFORM_SCHEMAS.has(schema)) {
      out.push({ cls: 'not-translatable', reason: `reads ${schema}.${name}${where}, a Supabase-managed table the target will not have` });
    }
  }
}

function judgeFunction(fn: SourceFunction, ctx: ClassifyContext, out: Array<{ cls: PolicyClass; reason: string }>): void {
  const label = `${fn.schema}.${fn.name}(${fn.args})`;
  if (fn.unreadable) out.push({ cls: 'not-translatable', reason: `${label}: ${fn.unreadable}` });
  if (PLATFORM_SCHEMAS.has(fn.schema) && !(fn.schema === 'auth' && (COMPAT_AUTH_FUNCTIONS as readonly string[]).includes(fn.name))
    && !(fn.schema === 'storage' && (COMPAT_STORAGE_FUNCTIONS as readonly string[]).includes(fn.name))) {
    out.push({ cls: 'not-translatable', reason: `calls ${label}, a Supabase-managed function the target will not have` });
    return;
  }
  judgeRefs(fn.refs, label, ctx, out);
}

export function classify(policy: SourcePolicy, ctx: ClassifyContext): Classification {
  const found: Array<{ cls: PolicyClass; reason: string }> = [];
  if (policy.parseError) found.push({ cls: 'not-translatable', reason: policy.parseError });
  if (policy.schema === 'storage' && !ctx.storageKept) {
    found.push({ cls: 'not-translatable', reason: `storage policy on storage.${policy.table} while storage stays behind (the target has no storage.${policy.table})` });
  } else if (PLATFORM_SCHEMAS.has(policy.schema) && policy.schema !== 'storage') {
    found.push({ cls: 'not-translatable', reason: `policy on ${policy.schema}.${policy.table}, a Supabase-managed table` });
  }
  for (const role of policy.roles) {
    if (role === 'public' || (API_ROLES as readonly string[]).includes(role) || ctx.targetRoles.has(role)) continue;
    found.push({ cls: 'not-translatable', reason: `applies to role ${role}, which the target does not have` });
  }
  for (const expr of [policy.using, policy.withCheck]) {
    if (!expr) continue;
    judgeRefs(expr.refs, '', ctx, found);
    judgeCasts(expr.tree, ctx, found);
  }
  for (const fn of policy.functions) judgeFunction(fn, ctx, found);

  const reasons = [...new Set(found.map((f) => f.reason))];
  if (found.length === 0) return { class: 'portable', reasons: ['uses nothing Supabase-specific: applies unchanged'] };
  const cls = found.reduce<PolicyClass>((worst, f) => (RANK[f.cls] > RANK[worst] ? f.cls : worst), 'portable');
  // The reasons of the deciding class first: they say why it is not better.
  const ordered = [...found.filter((f) => f.cls === cls), ...found.filter((f) => f.cls !== cls)].map((f) => f.reason);
  return { class: cls, reasons: [...new Set(ordered)].filter((r) => reasons.includes(r)) };
}
