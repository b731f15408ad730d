import { describe, expect, it } from 'vitest';
import { loadRunbook, RunbookError } from '../../src/core/runbook/load.js';
import { checkSqlSteps } from '../../src/core/runbook/sql-check.js';

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadRunbook('rb.yaml', { text, env });
  } catch (error) {
    expect(error).toBeInstanceOf(RunbookError);
    expect((error as RunbookError).exitCode).toBe(2);
    return (error as RunbookError).problems;
  }
  throw new Error('the runbook was accepted');
}

const GOOD = `name: t
vars:
  HOST: example.test
phases:
  - id: p
    steps:
      - id: a
        kind: manual
      - id: b
        kind: http
        params:
          url: https://\${HOST}/health
        requires: [a]
`;

describe('runbook schema', () => {
  it('accepts a good runbook and resolves ${VAR} from env first, then vars', () => {
    const rb = loadRunbook('rb.yaml', { text: GOOD, env: {} });
    expect(rb.phases[0]!.steps.map((s) => [s.id, s.kind, s.line])).toEqual([['a', 'manual', 7], ['b', 'http', 9]]);
    expect(rb.phases[0]!.steps[1]!.params.url).toBe('https://example.test/health');
    const fromEnv = loadRunbook('rb.yaml', { text: GOOD, env: { HOST: 'other.test' } });
    expect(fromEnv.phases[0]!.steps[1]!.params.url).toBe('https://other.test/health');
  });

  it('reports every problem at once, each with its line and column', () => {
    const text = `name: t
phases:
  - id: p
    steps:
      - id: a
        kind: htp
      - id: b
        kind: http
        params:
          method: GET
      - id: c
        kind: manual
        requires: [nope]
      - id: c
        kind: wait
        params:
          duration: 5s
        colour: red
`;
    const list = problems(text);
    expect(list).toEqual(expect.arrayContaining([
      expect.stringMatching(/^rb\.yaml:6:15: step "a": unknown step kind "htp" \(known: manual, sql, http/),
      expect.stringMatching(/^rb\.yaml:10:11: step "b": missing parameter "url"/),
      expect.stringMatching(/^rb\.yaml:13:20: step "c": requires "nope", which names no step/),
      expect.stringMatching(/^rb\.yaml:18:9: step "c": unknown key "colour"/),
      expect.stringMatching(/^rb\.yaml:14:13: step "c": duplicate step id "c"/),
    ]));
    expect(list).toHaveLength(5);
  });

  it('refuses duplicate ids, requires of a later step, a writing source query, a bad duration, and undo: auto where it means nothing', () => {
    const text = `name: t
phases:
  - id: p
    steps:
      - id: a
        kind: manual
        requires: [b]
      - id: b
        kind: sql
        params: { on: source, query: "DELETE FROM t", write: true }
      - id: b
        kind: wait
        params: { duration: soon }
      - id: d
        kind: command
        params: { run: "true" }
        undo: auto
`;
    const list = problems(text).join('\n');
    expect(list).toMatch(/rb\.yaml:7:20: step "a": requires "b", which comes later/);
    expect(list).toMatch(/rb\.yaml:10:\d+: step "b": a sql step may write only on the target/);
    expect(list).toMatch(/rb\.yaml:11:\d+: step "b": duplicate step id "b"/);
    expect(list).toMatch(/rb\.yaml:13:\d+: step "b": duration: "soon" is not a duration/);
    expect(list).toMatch(/rb\.yaml:17:\d+: step "d": undo: auto exists only for dns-update steps/);
  });

  it('points YAML syntax errors at their line', () => {
    expect(problems('name: t\nphases:\n  - id: p\n    steps: [\n')[0]).toMatch(/^rb\.yaml:\d+:\d+: not valid YAML/);
  });

  it('lists variables set nowhere instead of guessing', () => {
    const rb = loadRunbook('rb.yaml', { text: GOOD.replace('https://${HOST}', 'https://${MISSING_HOST}'), env: {} });
    expect(rb.unset).toEqual(['MISSING_HOST']);
  });

  it('validates the provider block of a dns-update and the ttlOf reference of a wait', () => {
    const text = `name: t
phases:
  - id: p
    steps:
      - id: up
        kind: dns-update
        params:
          provider: { type: rfc2136, zone: example.test }
          name: api.example.test
          ttl: 300
      - id: w
        kind: wait
        params: { ttlOf: nothing }
`;
    const list = problems(text).join('\n');
    expect(list).toMatch(/rb\.yaml:8:\d+: step "up": .*server/);
    expect(list).toMatch(/rb\.yaml:13:\d+: step "w": ttlOf "nothing" names no step/);
  });

  it('reads sql queries with the PostgreSQL parser: syntax errors and writes in read-only steps are refused before anything runs', async () => {
    const rb = loadRunbook('rb.yaml', { env: {}, text: `name: t
phases:
  - id: p
    steps:
      - { id: typo, kind: sql, params: { on: source, query: "SELEC count(*) FROM auth.users" } }
      - { id: sneaky, kind: sql, params: { on: target, query: "SELECT 1; DELETE FROM posts" } }
      - { id: into, kind: sql, params: { on: target, query: "SELECT * INTO copy FROM posts" } }
      - { id: fine, kind: sql, params: { on: source, query: "SELECT count(*) FROM auth.users; EXPLAIN SELECT 1; SHOW server_version" } }
      - { id: allowed, kind: sql, params: { on: target, write: true, query: "UPDATE settings SET v = 1" } }
` });
    const error = await checkSqlSteps(rb).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(RunbookError);
    expect((error as RunbookError).problems).toEqual([
      'rb.yaml:5: step "typo": the query is not valid SQL: syntax error at or near "SELEC" (at character 1 of the query)',
      'rb.yaml:6: step "sneaky": the query changes data (DeleteStmt) but the step is read-only; add write: true (target only) if that is intended',
      'rb.yaml:7: step "into": the query changes data (SelectStmt) but the step is read-only; add write: true (target only) if that is intended',
    ]);
  });
});
