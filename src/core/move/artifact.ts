/**
 * The dump artifact: a directory with manifest.json (written last, so a dump without one never
 * finished), the pre-data and post-data SQL, schema-meta.json, and one gzip-compressed COPY file
 * per copy unit under data/. The manifest records the sha256 of every other file; restore checks
 * them all before it touches the target.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, posix, relative, resolve, sep, win32 } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { z } from 'zod';
import { OfframpError, UsageError } from '../../errors.js';

export const MANIFEST = 'manifest.json';
export const ARTIFACT_FORMAT = 'offramp-dump';
export const ARTIFACT_VERSION = 1;

const TableSchema = z.object({
  schema: z.string(), name: z.string(), qualified: z.string(), display: z.string(), kind: z.enum(['r', 'p']),
  isPartition: z.boolean(), bytes: z.number(), estimatedRows: z.number(), pages: z.number(),
  columns: z.array(z.string()), extensionTypes: z.array(z.string()),
});

export const ManifestSchema = z.object({
  format: z.literal(ARTIFACT_FORMAT),
  formatVersion: z.literal(ARTIFACT_VERSION),
  offrampVersion: z.string(),
  createdAt: z.string(),
  // identity (src/db/identity.ts) of the dumped database; dumps older than it lack it.
  source: z.object({ url: z.string(), serverVersion: z.string(), serverVersionNum: z.number(), identity: z.string().optional() }),
  snapshot: z.object({ id: z.string(), time: z.string() }),
  dataFormat: z.enum(['binary', 'text']),
  compression: z.literal('gzip'),
  plan: z.object({
    platform: z.enum(['supabase', 'postgres']),
    schemas: z.array(z.string()),
    excludedSchemas: z.array(z.string()),
    partitioned: z.array(z.string()),
    tables: z.array(TableSchema),
    extensions: z.array(z.object({ name: z.string(), version: z.string(), schema: z.string(), relocatable: z.boolean(), platformOnly: z.boolean(), dependents: z.array(z.string()) })),
  }),
  units: z.array(z.object({ id: z.string(), table: z.string(), file: z.string(), rows: z.number(), bytes: z.number() })),
  tables: z.array(z.object({ table: z.string(), rows: z.number() })),
  sequences: z.array(z.object({ name: z.string(), last_value: z.string().nullable() })),
  files: z.record(z.string(), z.object({ sha256: z.string(), bytes: z.number() })),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export class ArtifactError extends OfframpError {
  constructor(message: string, hint: string) {
    super('ARTIFACT_INVALID', message, { hint });
  }
}

/** A pass-through stream that hashes and counts what flows through it. */
export class Sha256Stream extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

export async function sha256File(path: string): Promise<string> {
  const h = new Sha256Stream();
  await pipeline(createReadStream(path), h, async function* (source) {
    for await (const _ of source) { /* drain */ }
  });
  return h.digest();
}

const REDO = 'take a new dump with offramp dump; a dump is only trustworthy as a whole';
const HOSTILE = 'this manifest was not written by offramp dump (or was edited): nothing was read or loaded';

/** The files restore itself reads by name; the manifest must checksum them like the data. */
export const SCHEMA_FILES = ['pre-data.sql', 'post-data.sql', 'schema-meta.json'] as const;

/**
 * Why a manifest path is not a plain relative path inside the dump ("" when it is). Judged on the
 * text alone, before anything is opened or stat'ed: no absolute or drive paths, no backslashes,
 * no "." or ".." segments, nothing a normaliser would change.
 */
export function unsafeManifestPath(file: string): string {
  if (file.length === 0) return 'an empty path';
  if (file.includes('\0')) return 'a NUL byte';
  if (isAbsolute(file) || posix.isAbsolute(file) || win32.isAbsolute(file)) return 'an absolute path';
  if (file.includes('\\')) return 'a backslash';
  if (file.split('/').some((part) => part === '..' || part === '.' || part === '')) return 'a "..", "." or empty segment';
  if (posix.normalize(file) !== file) return 'a path that is not normalised';
  return '';
}

/**
 * Every path the manifest names must resolve inside the dump directory: first by its text (all of
 * them, before any file is touched), then through symbolic links (realpath), so neither "../x",
 * "/etc/shadow" nor a link planted in the directory can make restore read, size or load an outside file.
 */
function checkManifestPaths(dir: string, manifest: Manifest): void {
  const named = [...Object.keys(manifest.files), ...manifest.units.map((u) => u.file)];
  for (const file of named) {
    const why = unsafeManifestPath(file);
    if (why) throw new ArtifactError(`the manifest names ${JSON.stringify(file)}, ${why}: every path in a dump must stay inside its directory; the dump was refused`, HOSTILE);
    const lexical = relative(dir, resolve(dir, file));
    if (lexical === '..' || lexical.startsWith(`..${sep}`) || isAbsolute(lexical)) throw new ArtifactError(`the manifest names ${JSON.stringify(file)}, outside the dump directory; the dump was refused`, HOSTILE);
  }
  for (const f of SCHEMA_FILES) {
    if (!manifest.files[f]) throw new ArtifactError(`the manifest has no checksum for ${f}`, REDO);
  }
  const realDir = realpathSync(dir);
  for (const file of named) {
    const full = join(dir, file);
    if (!existsSync(full)) continue; // reported as missing below
    const real = realpathSync(full);
    if (!real.startsWith(realDir + sep)) {
      throw new ArtifactError(`dump file ${JSON.stringify(file)} is a link that leads outside the dump directory; the dump was refused`, HOSTILE);
    }
  }
}

/** Read and check the manifest, then every file's size and sha256. Nothing is loaded before this passes. */
export async function readVerifiedArtifact(dir: string, onFile?: (file: string) => void): Promise<Manifest> {
  const path = join(dir, MANIFEST);
  // A --from that names nothing, or something that is not a dump, is the user's input: a usage error (exit 2).
  if (!existsSync(dir)) throw new UsageError(`the dump directory ${dir} does not exist`, { hint: 'pass the directory written by offramp dump --out' });
  if (!existsSync(path)) throw new UsageError(`${dir} has no ${MANIFEST}: the dump did not finish, or this is not an offramp dump`, { hint: REDO });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ArtifactError(`${path} is not valid JSON (${(error as Error).message})`, REDO);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ArtifactError(`${path} is not a valid offramp manifest: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, REDO);
  }
  const manifest = parsed.data;
  checkManifestPaths(dir, manifest);
  const tables = new Set(manifest.plan.tables.map((t) => t.display));
  for (const unit of manifest.units) {
    if (!tables.has(unit.table)) throw new ArtifactError(`the manifest lists data file ${unit.file} for table ${unit.table}, which its plan does not have`, REDO);
    if (!manifest.files[unit.file]) throw new ArtifactError(`the manifest lists data file ${unit.file} without a checksum`, REDO);
  }
  for (const [file, expected] of Object.entries(manifest.files)) {
    const full = join(dir, file);
    if (!existsSync(full)) throw new ArtifactError(`dump file ${file} is missing`, REDO);
    const size = statSync(full).size;
    if (size !== expected.bytes) throw new ArtifactError(`dump file ${file} is ${size} bytes, the manifest says ${expected.bytes}: it is truncated or was changed`, REDO);
    if ((await sha256File(full)) !== expected.sha256) throw new ArtifactError(`dump file ${file} does not match its sha256 in the manifest: it is corrupt or was changed`, REDO);
    onFile?.(file);
  }
  return manifest;
}
