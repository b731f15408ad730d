#!/usr/bin/env node
// Measures the RLS corpus (../shared/corpus/rls, 318 policies) and writes docs/rls-corpus.md:
// runs the corpus test (test/integration/rls-corpus.test.ts, the same harness the suite runs) with
// OFFRAMP_CORPUS_REPORT pointing at the file. Exits as the test did; the report is written either way.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const r = spawnSync('npx', ['vitest', 'run', 'test/integration/rls-corpus.test.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, OFFRAMP_CORPUS_REPORT: join(root, 'docs', 'rls-corpus.md') },
});
process.exit(r.status ?? 1);
