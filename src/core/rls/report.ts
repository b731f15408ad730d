/**
 * The Markdown reports of `rls translate`: per policy its class and reasons; compat documents the
 * per-request contract the backend must follow (TypeScript and Go examples), app lists every
 * table's predicates and the parameter list.
 */
import type { RlsTranslation, TranslatedPolicy } from './types.js';

const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function policyTable(policies: TranslatedPolicy[]): string[] {
  const lines = ['| table | policy | command | roles | class | installed | reasons |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const p of policies) {
    lines.push(`| ${esc(`${p.schema}.${p.table}`)} | ${esc(p.name)} | ${p.command} | ${esc(p.roles.join(', '))} | ${p.class} | ${p.installed ? 'yes' : p.leftOut ? `no: ${esc(p.leftOut)}` : 'no'} | ${esc(p.reasons.join('; '))} |`);
  }
  return lines;
}

function counts(r: RlsTranslation): string {
  const c = r.counts;
  return `${c.total} policies: ${c.portable} portable, ${c.compat} with the compatibility layer, ${c['auth-translation']} with the auth translation, ${c['not-translatable']} not translatable automatically`;
}

export function compatReport(r: RlsTranslation, schema: string): string {
  const s = schema === 'auth' ? 'auth' : schema;
  return [
    '# RLS translation (compat: RLS stays in the database)', '',
    counts(r), r.installed ? `; ${r.counts.installed} installed, ${r.counts.leftOut} left out${r.counts.heldBack ? ` (${r.counts.heldBack} held back: a restrictive policy on the same table and command was left out, and they alone would allow more than the source)` : ''}.` : '.', '',
    '## The per-request contract', '',
    `The policies call \`${s}.uid()\`, \`${s}.jwt()\`, \`${s}.role()\` and \`${s}.email()\`, which read the JWT claims from the`,
    'transaction-local setting `request.jwt.claims`, as PostgREST sets it on Supabase. Every request the backend serves',
    'must run in its own transaction, as the request\'s role, with the verified claims set first:', '',
    '```sql',
    'BEGIN;',
    'SET LOCAL ROLE authenticated;                                    -- anon without a token; service_role bypasses RLS',
    "SELECT set_config('request.jwt.claims', $1, true);               -- $1: the JWT payload as JSON text, \"role\" included",
    '-- ... the request\'s queries ...',
    'COMMIT;',
    '```', '',
    'The login role the backend connects as must be a member of `anon`, `authenticated` and `service_role`',
    '(`GRANT anon, authenticated, service_role TO app_login;`) and must not own the tables or bypass RLS itself.',
    'Never reuse a connection inside a transaction across requests; `true` in set_config makes the setting end with the transaction.', '',
    'TypeScript (pg):', '',
    '```ts',
    "async function asUser<T>(pool: Pool, claims: { sub?: string; role: 'anon' | 'authenticated' | 'service_role' }, work: (c: PoolClient) => Promise<T>): Promise<T> {",
    '  const c = await pool.connect();',
    '  try {',
    "    await c.query('BEGIN');",
    "    await c.query(`SET LOCAL ROLE ${claims.role === 'service_role' ? 'service_role' : claims.role === 'authenticated' ? 'authenticated' : 'anon'}`);",
    "    await c.query(\"SELECT set_config('request.jwt.claims', $1, true)\", [JSON.stringify(claims)]);",
    '    const result = await work(c);',
    "    await c.query('COMMIT');",
    '    return result;',
    '  } catch (e) {',
    "    await c.query('ROLLBACK');",
    '    throw e;',
    '  } finally {',
    '    c.release();',
    '  }',
    '}',
    '```', '',
    'Go (pgx):', '',
    '```go',
    'func AsUser(ctx context.Context, pool *pgxpool.Pool, role string, claims []byte, work func(pgx.Tx) error) error {',
    '\treturn pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {',
    '\t\tif _, err := tx.Exec(ctx, "SET LOCAL ROLE "+pgx.Identifier{role}.Sanitize()); err != nil {',
    '\t\t\treturn err',
    '\t\t}',
    '\t\tif _, err := tx.Exec(ctx, "SELECT set_config(\'request.jwt.claims\', $1, true)", string(claims)); err != nil {',
    '\t\t\treturn err',
    '\t\t}',
    '\t\treturn work(tx)',
    '\t})',
    '}',
    '```', '',
    ...(r.installed ? [
      '## Installed', '',
      `- compatibility functions: ${r.installed.functions.join(', ') || 'none'}`,
      `- storage helpers: ${r.installed.storageFunctions.join(', ') || 'none'}`,
      `- roles created: ${r.installed.rolesCreated.join(', ') || 'none (already there)'}`,
      `- grants: ${r.installed.grants}; policies: ${r.installed.policies}; tables with RLS: ${r.installed.rlsTables.length}`,
      `- from the deferred file: ${r.installed.deferredApplied.join(', ') || 'nothing else'}; ${r.installed.deferredPoliciesRemoved} policies taken out`, '',
    ] : []),
    '## Policies', '',
    ...policyTable(r.policies), '',
  ].join('\n');
}

export function appReport(r: RlsTranslation): string {
  const lines = [
    '# RLS translation (app: the rules move into the backend)', '',
    `${counts(r)}.`, '',
    '## Parameters', '',
    ...(r.parameters ?? []).map((p) => `- \`${p.name}\` (${p.type}): ${p.meaning}`), '',
    'Apply a USING predicate as the WHERE clause of a query on the table under its own name (`FROM public.posts`, no alias:',
    'the predicates name its columns as `posts.author_id`); check a WITH CHECK predicate against the new row before writing it.',
    'An UPDATE or DELETE that reads columns (WHERE, RETURNING) must also pass the SELECT predicate, as in PostgreSQL.',
    'Pass all three parameters and declare their types once, since a predicate may not use every one of them:', '',
    '```sql',
    'WITH request(uid, claims, role) AS (SELECT $1::uuid, $2::jsonb, $3::text)',
    'SELECT * FROM public.posts WHERE <the SELECT predicate of public.posts>;',
    '```', '',
  ];
  for (const t of r.tables ?? []) {
    lines.push(`## ${t.schema}.${t.table}`, '');
    const show = (label: string, p: { sql: string; policies: string[]; notes: string[] } | undefined): void => {
      if (!p) return;
      lines.push(`### ${label}`, '', `policies: ${p.policies.length ? p.policies.map((n) => `"${n}"`).join(', ') : 'none (denied)'}`, '', '```sql', p.sql, '```', '');
      for (const n of p.notes) lines.push(`- note: ${n}`);
      if (p.notes.length) lines.push('');
    };
    show('SELECT (USING)', t.using.SELECT);
    show('INSERT (WITH CHECK)', t.withCheck.INSERT);
    show('UPDATE (USING)', t.using.UPDATE);
    show('UPDATE (WITH CHECK)', t.withCheck.UPDATE);
    show('DELETE (USING)', t.using.DELETE);
  }
  lines.push('## Policies', '', ...policyTable(r.policies), '');
  return lines.join('\n');
}
