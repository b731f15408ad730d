/** The `rls translate` contract: options in, per-policy outcome out (r11's verify and c11's corpus harness read it). */
import type { Classification, PolicyClass, RlsAuthLayout } from './classify.js';
import type { PolicyCommand, SourcePolicy } from './read.js';

export interface RlsTranslateOptions {
  source: string;
  /** Needed for --apply (compat) and --disable-rls (app); otherwise the target is read when given. */
  target?: string;
  mode: 'compat' | 'app';
  /** Schema of uid()/jwt()/role()/email(); default `auth` (keep layout: everything applies unchanged). */
  compatSchema?: string;
  authLayout: RlsAuthLayout;
  /** compat: install on the target, in one transaction. */
  apply: boolean;
  /** Install policies classified not-translatable too. */
  force: boolean;
  /** app: turn RLS off on the target tables (needs yes). */
  disableRls: boolean;
  yes: boolean;
  /** Where copy wrote `deferred-<db>.sql` (default .offramp). */
  workDir: string;
  /** Storage policies are kept when the target has storage.objects; override with false to report them. */
  keepStorage?: boolean;
  connectTimeoutSeconds?: number;
}

/** A source policy's identity (as read.ts gives it) with what translation made of it. */
export interface TranslatedPolicy extends Pick<SourcePolicy, 'schema' | 'table' | 'name' | 'command' | 'roles' | 'permissive'> {
  class: PolicyClass;
  reasons: string[];
  /** compat: the statement installed (or that would be); absent when left out. */
  sql?: string;
  /** compat: installed on the target by this run. */
  installed: boolean;
  /** Why it was left out (not-translatable without --force, or its table is not on the target). */
  leftOut?: string;
  /**
   * Held back although translatable: a RESTRICTIVE policy on the same table and command was left
   * out, and installing this one alone would allow what the source refuses (fail closed; --force
   * installs it). `leftOut` says which policy and why.
   */
  heldBack?: boolean;
}

export interface AppPredicate {
  /** The effective rule as one SQL boolean expression over $1..$3 (see `parameters`). */
  sql: string;
  /** Names of the policies that make it up. */
  policies: string[];
  /** What the backend must still do by hand (helpers that could not be inlined, ...). */
  notes: string[];
}

export interface AppTableRules {
  schema: string;
  table: string;
  forced: boolean;
  /** USING: which existing rows a command may see or touch (SELECT, UPDATE, DELETE). */
  using: Partial<Record<'SELECT' | 'UPDATE' | 'DELETE', AppPredicate>>;
  /** WITH CHECK: which new rows a command may write (INSERT, UPDATE). */
  withCheck: Partial<Record<'INSERT' | 'UPDATE', AppPredicate>>;
}

export interface InstalledSummary {
  schema: string;
  functions: string[];
  storageFunctions: string[];
  rolesCreated: string[];
  grants: number;
  policies: number;
  rlsTables: string[];
  /** Objects from the deferred file applied now (and removed from it). */
  deferredApplied: string[];
  deferredFile?: string;
  /** Policies removed from the deferred file (installed, or reported here). */
  deferredPoliciesRemoved: number;
}

export interface RlsTranslation {
  mode: 'compat' | 'app';
  policies: TranslatedPolicy[];
  counts: Record<PolicyClass, number> & { total: number; installed: number; leftOut: number; heldBack: number };
  /** compat --apply: what was put on the target. */
  installed?: InstalledSummary;
  /** app mode: per table, the predicates. */
  tables?: AppTableRules[];
  /** app mode: what $1, $2, $3 are. */
  parameters?: Array<{ name: string; type: string; meaning: string }>;
  /** app --disable-rls: the tables RLS was turned off on. */
  rlsDisabled?: string[];
  /** The per-request contract (compat) or how to apply the predicates (app), as Markdown. */
  report: string;
  warnings: string[];
}

export type { Classification };
