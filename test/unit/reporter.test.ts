import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConnectionError, UsageError } from '../../src/errors.js';
import { Reporter, type OutputMode } from '../../src/output/reporter.js';
import { registerSecret } from '../../src/secrets.js';

function sink(): Writable & { text: string; isTTY?: boolean } {
  const s = new Writable({
    write(chunk, _enc, cb) {
      s.text += String(chunk);
      cb();
    },
  }) as Writable & { text: string };
  s.text = '';
  return s;
}

function reporter(mode: OutputMode, color = false) {
  const stdout = sink();
  const stderr = sink();
  const r = new Reporter({ mode, verbose: false, quiet: false, color, stdout, stderr });
  r.setCommand('inspect');
  return { r, stdout, stderr };
}

describe('Reporter', () => {
  it('json mode prints exactly one envelope on stdout and nothing human on it', () => {
    const { r, stdout, stderr } = reporter('json');
    r.step('reading catalog').succeed();
    r.log('warn', 'something odd');
    r.result({ ok: true, result: { tables: 3 }, render: () => 'human text' });
    const doc = JSON.parse(stdout.text);
    expect(doc).toMatchObject({ ok: true, command: 'inspect', result: { tables: 3 }, warnings: ['something odd'] });
    expect(typeof doc.version).toBe('string');
    expect(stderr.text).toBe('');
  });

  it('json mode reports errors in the envelope with code and hint', () => {
    const { r, stdout } = reporter('json');
    const info = r.error(new UsageError('no source database given', { hint: 'pass --source' }));
    expect(info.exitCode).toBe(2);
    expect(JSON.parse(stdout.text)).toMatchObject({ ok: false, result: null, error: { code: 'USAGE', message: 'no source database given', hint: 'pass --source' } });
  });

  it('text mode writes results and errors to stderr, redacted, without colour codes when colour is off', () => {
    registerSecret('pw-for-reporter-test');
    const { r, stdout, stderr } = reporter('text');
    r.result({ ok: true, result: {}, render: () => 'connected with pw-for-reporter-test' });
    r.error(new ConnectionError('bad-password', 'postgresql://u:****@h/db', 'password authentication failed for postgresql://u:pw-for-reporter-test@h/db', { hint: 'reset it' }));
    expect(stdout.text).toBe('');
    expect(stderr.text).toContain('connected with ****');
    expect(stderr.text).toContain('hint: reset it');
    expect(stderr.text).not.toContain('pw-for-reporter-test');
    expect(stderr.text).not.toMatch(/\u001b\[/);
  });

  it('ndjson mode streams progress, log and result events', () => {
    const { r, stdout } = reporter('ndjson');
    const step = r.step('copy');
    step.update('rows', { current: 5, total: 10 });
    step.succeed();
    r.result({ ok: true, result: { n: 1 }, render: () => '' });
    const events = stdout.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => `${e.type}:${e.status ?? ''}`)).toEqual(['progress:start', 'progress:update', 'progress:done', 'result:']);
    expect(events[1]).toMatchObject({ current: 5, total: 10 });
  });
});
