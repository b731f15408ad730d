/**
 * The validation as JUnit XML for CI dashboards: one test case per table (suite "data") and one
 * per schema check (suite "schema"). Differences are failures; schema warnings and expected
 * differences are written to the test case's system-out.
 */
import { describe } from './schema.js';
import { differenceLine, tableDifferenceSummary } from './format.js';
import type { ValidateReport } from './types.js';

// Characters XML 1.0 does not allow at all, even escaped.
// eslint-disable-next-line no-control-regex
const INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function xml(text: string): string {
  return text
    .replace(INVALID, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const secs = (ms: number): string => (ms / 1000).toFixed(3);

interface Case {
  name: string;
  timeMs: number;
  failure?: { message: string; body: string };
  out?: string;
}

function suite(name: string, cases: Case[]): string {
  const failures = cases.filter((c) => c.failure).length;
  const time = cases.reduce((t, c) => t + c.timeMs, 0);
  const body = cases.map((c) => {
    const inner = [
      c.failure ? `      <failure message="${xml(c.failure.message)}" type="difference">${xml(c.failure.body)}</failure>` : '',
      c.out ? `      <system-out>${xml(c.out)}</system-out>` : '',
    ].filter(Boolean);
    const open = `    <testcase classname="offramp.validate.${name}" name="${xml(c.name)}" time="${secs(c.timeMs)}"`;
    return inner.length ? `${open}>\n${inner.join('\n')}\n    </testcase>` : `${open}/>`;
  });
  return [`  <testsuite name="${name}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${secs(time)}">`, ...body, '  </testsuite>'].join('\n');
}

export function renderValidateJunit(r: ValidateReport): string {
  const data: Case[] = r.tables.map((t) => {
    if (t.status === 'ok') return { name: t.table, timeMs: t.durationMs, out: `${t.rows.source ?? 0} rows, content ${t.hash ? 'hash equal' : 'counted'}` };
    const lines = [
      `source rows ${t.rows.source ?? '-'}, target rows ${t.rows.target ?? '-'}${t.hash ? `, hash ${t.hash.source} vs ${t.hash.target}` : ''}`,
      ...t.differences.map(differenceLine),
      ...(t.differencesTruncated ? ['(search stopped at --max-differences)'] : []),
      ...(t.note ? [t.note] : []),
    ];
    return { name: t.table, timeMs: t.durationMs, failure: { message: `${t.table}: ${tableDifferenceSummary(t)}`, body: lines.join('\n') } };
  });
  const schema: Case[] = (r.schema?.checks ?? []).map((ch) => {
    const mine = r.schema!.differences.filter((d) => `schema.${d.category}` === ch.id);
    const notFailing = mine.filter((d) => d.severity !== 'fail').map((d) => `${d.severity}: ${describe(d)}${d.reason ? ` (${d.reason})` : ''}`);
    const failing = mine.filter((d) => d.severity === 'fail').map((d) => `${describe(d)}${d.reason ? ` (${d.reason})` : ''}`);
    return {
      name: ch.title,
      timeMs: ch.durationMs,
      ...(ch.status === 'fail' ? { failure: { message: ch.detail, body: failing.join('\n') } } : {}),
      ...(notFailing.length ? { out: notFailing.join('\n') } : {}),
    };
  });
  const all = [...data, ...schema];
  const failures = all.filter((c) => c.failure).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="offramp validate" tests="${all.length}" failures="${failures}" errors="0" time="${secs(r.durationMs)}">`,
    suite('data', data),
    ...(r.schema ? [suite('schema', schema)] : []),
    '</testsuites>',
    '',
  ].join('\n');
}
