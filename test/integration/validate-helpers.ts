/**
 * A copied target for the validate tests, made without `offramp copy` so that validate is tested
 * on its own (switch this to the copy command once it is settled). What it does, kept simple:
 *  - extensions of the source that the target offers, in the same schema (`extensions`);
 *  - the API roles (anon, authenticated, service_role) NOLOGIN, because policies and grants name them;
 *  - stubs of what the user schemas reference in Supabase's managed schemas: auth.users(id),
 *    storage.objects(id) with the source's ids, and auth.uid()/role()/jwt();
 *  - pg_dump --schema-only --no-owner of the user schemas (pre-data, then data, then post-data),
 *    without statements that name roles the target lacks, and without publication membership;
 *  - every table's rows with COPY (binary), generated columns left out; sequence values.
 * Passwords go to pg_dump/psql through PGPASSWORD, never argv.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { withClient } from '../../src/db/connect.js';
import { findSystemInstallation } from '../../src/db/local-cluster.js';
import { API_ROLES, isManagedSchema, isPlatformRole } from '../../src/core/supabase/platform.js';

function toolEnv(url: string): { args: string[]; env: Record<string, string> } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { args: ['-d', u.toString()], env: password ? { PGPASSWORD: password } : {} };
}

async function pgDump(sourceUrl: string, schemas: string[], section: 'pre-data' | 'post-data'): Promise<string> {
  const bin = findSystemInstallation().bin;
  const { args, env } = toolEnv(sourceUrl);
  const r = await execa(join(bin, 'pg_dump'), [...args, '--schema-only', '--no-owner', `--section=${section}`, ...schemas.flatMap((s) => ['-n', s])], { env });
  return r.stdout;
}

async function psql(targetUrl: string, script: string): Promise<void> {
  const bin = findSystemInstallation().bin;
  const { args, env } = toolEnv(targetUrl);
  await execa(join(bin, 'psql'), [...args, '-qX', '-v', 'ON_ERROR_STOP=1'], { env, input: script });
}

/** Drop statements the target cannot run: roles it lacks, the Supabase realtime publication. */
function filterDump(sql: string, targetRoles: Set<string>): string {
  const missingRole = (line: string): boolean =>
    [...line.matchAll(/\b([a-z_][a-z0-9_]*)\b/g)].some((m) => isPlatformRole(m[1]!) && !targetRoles.has(m[1]!));
  return sql
    .split('\n')
    .filter((line) => {
      if (/^ALTER PUBLICATION /.test(line)) return false;
      if (/^(GRANT|REVOKE|ALTER DEFAULT PRIVILEGES) /.test(line) && missingRole(line)) return false;
      return true;
    })
    .map((line) => (line === 'CREATE SCHEMA public;' ? 'CREATE SCHEMA IF NOT EXISTS public;' : line))
    .join('\n');
}

async function copyRows(src: pg.Client, tgt: pg.Client, selectSql: string, table: string, columns: string): Promise<void> {
  const out = src.query(copyTo(`COPY (${selectSql}) TO STDOUT (FORMAT binary)`)) as unknown as Readable;
  const into = tgt.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN (FORMAT binary)`)) as unknown as Writable;
  await pipeline(out, into);
}

async function ensureRole(tgt: pg.Client, role: string): Promise<void> {
  try {
    await tgt.query(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} NOLOGIN; END IF; END $$`);
  } catch (error) {
    // Another test file created it at the same moment (roles are global to the server).
    if (!/already exists|duplicate key/.test((error as Error).message)) throw error;
  }
}

export async function copyForValidation(sourceUrl: string, targetUrl: string): Promise<void> {
  await withClient(sourceUrl, { role: 'admin' }, (src) =>
    withClient(targetUrl, { role: 'admin' }, async (tgt) => {
      const { rows: schemaRows } = await src.query<{ name: string }>(
        `SELECT nspname AS name FROM pg_namespace n
          WHERE nspname NOT IN ('information_schema', 'pg_toast') AND nspname NOT LIKE 'pg\\_%'
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
          ORDER BY 1`);
      const supabase = schemaRows.some((s) => s.name === 'auth') && schemaRows.some((s) => s.name === 'storage');
      const schemas = schemaRows.map((s) => s.name).filter((s) => !(supabase && isManagedSchema(s)));

      // Extensions the target offers, in the schema they have on the source.
      const { rows: exts } = await src.query<{ name: string; schema: string }>(
        `SELECT extname AS name, extnamespace::regnamespace::text AS schema FROM pg_extension WHERE extname <> 'plpgsql'`);
      const { rows: avail } = await tgt.query<{ name: string }>('SELECT name FROM pg_available_extensions');
      const available = new Set(avail.map((a) => a.name));
      for (const e of exts.filter((x) => available.has(x.name))) {
        await tgt.query(`CREATE SCHEMA IF NOT EXISTS "${e.schema}"`);
        await tgt.query(`CREATE EXTENSION IF NOT EXISTS "${e.name}" WITH SCHEMA "${e.schema}"`);
      }
      if (supabase) {
        for (const role of API_ROLES) await ensureRole(tgt, role);
        await tgt.query(`
          CREATE SCHEMA auth;
          CREATE TABLE auth.users (id uuid PRIMARY KEY);
          CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
          CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('request.jwt.claim.role', true), '') $$;
          CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE AS $$ SELECT coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb $$;
          CREATE SCHEMA storage;
          CREATE TABLE storage.objects (id uuid PRIMARY KEY);`);
        await copyRows(src, tgt, 'SELECT id FROM auth.users', 'auth.users', 'id');
        await copyRows(src, tgt, 'SELECT id FROM storage.objects', 'storage.objects', 'id');
      }
      const { rows: roleRows } = await tgt.query<{ rolname: string }>('SELECT rolname FROM pg_roles');
      const targetRoles = new Set(roleRows.map((r) => r.rolname));

      await psql(targetUrl, filterDump(await pgDump(sourceUrl, schemas, 'pre-data'), targetRoles));

      const { rows: tables } = await src.query<{ t: string; cols: string }>(
        `SELECT format('%I.%I', n.nspname, c.relname) AS t,
                (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS cols
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind = 'r' AND n.nspname = ANY ($1)
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`,
        [schemas]);
      for (const { t, cols } of tables) await copyRows(src, tgt, `SELECT ${cols} FROM ONLY ${t}`, t, cols);

      const { rows: seqs } = await src.query<{ s: string }>(
        `SELECT format('%I.%I', schemaname, sequencename) AS s FROM pg_sequences WHERE schemaname = ANY ($1)`, [schemas]);
      for (const { s } of seqs) {
        const { rows: [v] } = await src.query<{ last_value: string; is_called: boolean }>(`SELECT last_value, is_called FROM ${s}`);
        await tgt.query(`SELECT setval($1, $2, $3)`, [s, v!.last_value, v!.is_called]);
      }

      await psql(targetUrl, filterDump(await pgDump(sourceUrl, schemas, 'post-data'), targetRoles));
      await tgt.query('ANALYZE');
    }),
  );
}

/** Run statements on a database as superuser, with triggers off (so a mutation changes only what it says). */
export async function mutate(url: string, statements: string, values: unknown[] = []): Promise<void> {
  await withClient(url, { role: 'admin' }, async (c) => {
    await c.query('SET session_replication_role = replica');
    await c.query(statements, values);
  });
}

export async function sqlRows<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  return withClient(url, { role: 'admin' }, async (c) => (await c.query<T>(text, values)).rows);
}

/** A copy of a database on the same server (CREATE DATABASE … TEMPLATE: a file copy, fast). */
export async function cloneDatabase(adminUrl: string, template: string, name: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  await withClient(adminUrl, { role: 'admin' }, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    name,
    url: u.toString(),
    drop: () => withClient(adminUrl, { role: 'admin' }, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
