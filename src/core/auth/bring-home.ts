/**
 * Brings home the objects `copy` deferred because of auth (foreign keys into the users table,
 * defaults, views, functions, grants, comments, triggers on auth.users).
 *
 * TODO(h10): this is a10's placeholder so that `auth migrate` builds; h10 replaces this file with
 * the real implementation (same signature).
 */
import type { Progress } from '../../output/progress.js';
import type { AuthLayout } from './layout.js';

export interface BringHomeOptions {
  sourceUrl: string;
  targetUrl: string;
  layout: AuthLayout;
  workDir: string;
  connectTimeoutSeconds: number;
  progress: Progress;
}

/** One deferred object and what became of it. */
export interface AuthObjectOutcome {
  /** e.g. foreign key, default, view, function, grant, comment, trigger, policy */
  kind: string;
  /** The object as a person names it (e.g. `public.profiles.profiles_id_fkey`). */
  name: string;
  status: 'created' | 'rewritten' | 'deferred';
  /** Why it is still deferred (or what was rewritten). */
  reason?: string;
}

export async function bringHomeAuthObjects(_options: BringHomeOptions): Promise<AuthObjectOutcome[]> {
  return [];
}
