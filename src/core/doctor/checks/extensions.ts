/**
 * Extensions: every extension installed in the source must be installable on the target
 * (`pg_available_extensions`), except the platform-only ones, which are left behind with a
 * warning. And the target role must be allowed to create the ones it will need.
 */
import type { Check, CheckOutcome } from '../../../checks/types.js';
import { loadSql, query } from '../../../db/sql.js';
import { isPlatformOnlyExtension, MANAGED_SCHEMAS } from '../../supabase/platform.js';
import { quoteIdent } from '../../../db/sql-parse.js';
import { cached, majorOf, unavailable, type DoctorContext, type ReadySide } from '../context.js';

/** The schema an extension goes to on the target: the Supabase `extensions` schema may be relocated (--extensions-schema). */
export function targetSchemaOf(ctx: DoctorContext, e: { schema: string }): string {
  return e.schema === 'extensions' ? ctx.settings.extensionsSchema : e.schema;
}

export interface InstalledExtension {
  name: string;
  version: string;
  schema: string;
  user_dependents: number;
  examples: string[];
}

export interface AvailableExtension {
  name: string;
  default_version: string;
  installed_version: string | null;
  trusted: boolean;
  superuser: boolean;
}

export function sourceExtensions(ctx: DoctorContext, side: ReadySide): Promise<InstalledExtension[]> {
  return cached(ctx, 'source.extensions', () =>
    query<InstalledExtension>(side.client, loadSql('doctor/extensions-installed.sql'), [[...MANAGED_SCHEMAS]], 'list source extensions'),
  );
}

export function targetAvailableExtensions(ctx: DoctorContext, side: ReadySide): Promise<AvailableExtension[]> {
  return cached(ctx, 'target.available-extensions', () =>
    query<AvailableExtension>(side.client, loadSql('doctor/extensions-available.sql'), [], 'list target extensions'),
  );
}

const POSTGIS_FAMILY = /^(postgis|postgis_raster|postgis_topology|postgis_tiger_geocoder|postgis_sfcgal|address_standardizer|address_standardizer_data_us)$/;
const PACKAGES: Record<string, string> = {
  vector: 'pgvector',
  pg_cron: 'cron',
  pgaudit: 'pgaudit',
  pg_repack: 'repack',
  hypopg: 'hypopg',
  http: 'http',
  pg_partman: 'partman',
  pgrouting: 'pgrouting',
  plv8: 'plv8',
  rum: 'rum',
  pg_hint_plan: 'pg-hint-plan',
  pgtap: 'pgtap',
  orafce: 'orafce',
};

/** The Debian/PGDG package that provides an extension, for the hint. */
export function extensionPackageHint(name: string, major: number): string {
  if (POSTGIS_FAMILY.test(name)) return `apt-get install postgresql-${major}-postgis-3`;
  const pkg = PACKAGES[name];
  if (pkg) return `apt-get install postgresql-${major}-${pkg}${name === 'pg_cron' ? " and add pg_cron to shared_preload_libraries" : ''}`;
  if (name === 'timescaledb') return `install timescaledb-2-postgresql-${major} from Timescale's repository`;
  return `install the package that provides "${name}" for PostgreSQL ${major} (contrib modules ship with postgresql-${major})`;
}

/** Compare dotted versions numerically where possible: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = Number(x);
    const ny = Number(y);
    if (Number.isFinite(nx) && Number.isFinite(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function dependents(e: InstalledExtension): string {
  if (!e.user_dependents) return '';
  return ` (${e.user_dependents} user object${e.user_dependents === 1 ? '' : 's'}, e.g. ${e.examples[0]})`;
}

export interface ExtensionPlan {
  /** Not available on the target and not platform-only: the copy would fail. */
  missing: InstalledExtension[];
  /**
   * Nothing copied depends on it and the target cannot (or this role may not) create it: the
   * platform installed it for itself (pg_stat_statements, an unused pgcrypto, ...). Not required.
   */
  unused: InstalledExtension[];
  /** Platform-only and not available: left behind. */
  skipped: InstalledExtension[];
  /** Available, not yet installed: offramp will CREATE EXTENSION them. */
  toCreate: Array<InstalledExtension & { trusted: boolean }>;
  alreadyInstalled: InstalledExtension[];
  /** The target offers an older version than the source has. */
  older: Array<{ name: string; source: string; target: string }>;
}

/**
 * What happens to each source extension on the target. One rule for extensions the platform
 * installs itself: when no copied object depends on one (from the catalog) and the target cannot
 * give it to this role, it is skipped and reported, never required. `canCreateAny`: superuser.
 */
export function planExtensions(source: InstalledExtension[], target: AvailableExtension[], canCreateAny = true): ExtensionPlan {
  const available = new Map(target.map((a) => [a.name, a]));
  const plan: ExtensionPlan = { missing: [], unused: [], skipped: [], toCreate: [], alreadyInstalled: [], older: [] };
  for (const e of source) {
    if (e.name === 'plpgsql') continue;
    const a = available.get(e.name);
    if (!a) {
      if (isPlatformOnlyExtension(e.name)) plan.skipped.push(e);
      else (e.user_dependents > 0 ? plan.missing : plan.unused).push(e);
      continue;
    }
    if (!a.installed_version && !a.trusted && !canCreateAny && e.user_dependents === 0) {
      plan.unused.push(e);
      continue;
    }
    const targetVersion = a.installed_version ?? a.default_version;
    if (compareVersions(targetVersion, e.version) < 0) plan.older.push({ name: e.name, source: e.version, target: targetVersion });
    if (a.installed_version) plan.alreadyInstalled.push(e);
    else plan.toCreate.push({ ...e, trusted: a.trusted });
  }
  return plan;
}

/** `target.extensions`: every source extension can be created on the target. */
export const targetExtensionsCheck: Check<DoctorContext> = {
  id: 'target.extensions',
  title: 'Extensions on the target',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.source) ?? unavailable(ctx.target);
    if (skip) return skip;
    const source = ctx.source as ReadySide;
    const target = ctx.target as ReadySide;
    const plan = planExtensions(await sourceExtensions(ctx, source), await targetAvailableExtensions(ctx, target), target.facts.is_superuser);
    const major = majorOf(target.facts.version_num);
    const evidence = {
      missing: plan.missing.map((e) => ({ name: e.name, version: e.version, userDependents: e.user_dependents, examples: e.examples })),
      skippedPlatformOnly: plan.skipped.map((e) => ({ name: e.name, userDependents: e.user_dependents, examples: e.examples })),
      skippedUnused: plan.unused.map((e) => e.name),
      toCreate: plan.toCreate.map((e) => e.name),
      alreadyInstalled: plan.alreadyInstalled.map((e) => e.name),
      olderOnTarget: plan.older,
    };
    if (plan.missing.length > 0) {
      const hints = [...new Set(plan.missing.map((e) => extensionPackageHint(e.name, major)))];
      return {
        status: 'fail',
        detail: `not available on the target: ${plan.missing.map((e) => `${e.name} ${e.version}${dependents(e)}`).join('; ')}`,
        hint: `on the target server: ${hints.join('; ')}; then rerun doctor`,
        evidence,
      };
    }
    const notes: string[] = [];
    if (plan.skipped.length > 0) {
      notes.push(`platform-only, will be skipped: ${plan.skipped.map((e) => `${e.name}${dependents(e)}`).join(', ')}`);
    }
    if (plan.older.length > 0) {
      notes.push(`older on the target: ${plan.older.map((o) => `${o.name} ${o.target} < ${o.source}`).join(', ')}`);
    }
    if (notes.length > 0) {
      return {
        status: 'warn',
        detail: notes.join('; '),
        hint: [
          plan.skipped.length ? 'objects that use a skipped extension are left out and listed by `offramp inspect`; replace them in the application' : '',
          plan.older.length ? 'data moves in text format; check the extension release notes for incompatible changes, or install the newer version on the target' : '',
        ].filter(Boolean).join('; '),
        evidence,
      };
    }
    const names = [...plan.toCreate, ...plan.alreadyInstalled].map((e) => e.name);
    const unused = plan.unused.length ? `; not required (nothing copied uses them), skipped: ${plan.unused.map((e) => e.name).join(', ')}` : '';
    return { status: 'pass', detail: `${names.length ? `all available: ${names.join(', ')}` : 'the source has no extensions to carry over'}${unused}`, evidence };
  },
};

/** `target.can-create-extensions`: the target role may create the extensions the copy needs. */
export const targetCreateExtensionsCheck: Check<DoctorContext> = {
  id: 'target.can-create-extensions',
  title: 'Target may create extensions',
  async run(ctx): Promise<CheckOutcome> {
    const skip = unavailable(ctx.target);
    if (skip) return skip;
    const target = ctx.target as ReadySide;
    const f = target.facts;
    const how = f.owns_database ? `owner of database ${f.database}` : f.can_create_schema ? `has CREATE on database ${f.database}` : undefined;
    if (f.is_superuser) return { status: 'pass', detail: `${f.current_user} is a superuser: can create any extension`, evidence: { superuser: true } };
    if (unavailable(ctx.source)) {
      // Without the source we cannot know which extensions are needed: judge the usual ones.
      return {
        status: 'warn',
        detail: `${f.current_user} is not a superuser: only trusted extensions (pg_trgm, uuid-ossp, pgcrypto …) can be created${how ? ` (${how})` : ''}; PostGIS cannot`,
        hint: 'connect as a superuser, or have one run CREATE EXTENSION for postgis (and others that are not trusted) beforehand',
        evidence: { superuser: false, canCreateInDatabase: f.can_create_schema, ownsDatabase: f.owns_database },
      };
    }
    const plan = planExtensions(await sourceExtensions(ctx, ctx.source as ReadySide), await targetAvailableExtensions(ctx, target), false);
    const untrustedExtensions = plan.toCreate.filter((e) => !e.trusted);
    const untrusted = untrustedExtensions.map((e) => e.name);
    const trusted = plan.toCreate.filter((e) => e.trusted).map((e) => e.name);
    const unused = plan.unused.map((e) => e.name);
    const evidence = { superuser: false, canCreateInDatabase: f.can_create_schema, ownsDatabase: f.owns_database, untrusted, trusted, skippedUnused: unused };
    if (untrusted.length > 0) {
      return {
        status: 'fail',
        detail: `${untrustedExtensions.map((e) => `${e.name}${dependents(e)}`).join('; ')}: only a superuser may create ${untrusted.length === 1 ? 'it' : 'them'}, and ${f.current_user} is not one`,
        hint: `connect as a superuser, or have an administrator run the SQL below once on database ${f.database}; then rerun doctor`,
        evidence,
        adminSql: untrustedExtensions.map((e) => `CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e.name)} WITH SCHEMA ${quoteIdent(targetSchemaOf(ctx, e))};`),
      };
    }
    if (trusted.length > 0 && !how) {
      return {
        status: 'fail',
        detail: `creating the trusted extensions ${trusted.join(', ')} needs CREATE on database ${f.database}, which ${f.current_user} lacks`,
        hint: `as the database owner: GRANT CREATE ON DATABASE "${f.database}" TO "${f.current_user}"`,
        evidence,
      };
    }
    const notRequired = unused.length ? `; not required (nothing copied uses them, only a superuser may create them), skipped: ${unused.join(', ')}` : '';
    if (trusted.length > 0) {
      return { status: 'pass', detail: `trusted extensions ${trusted.join(', ')} can be created by ${f.current_user} (${how})${notRequired}`, evidence };
    }
    return { status: 'pass', detail: `no extension needs to be created on the target${notRequired}`, evidence };
  },
};
