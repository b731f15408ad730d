/**
 * Reading a runbook: YAML with positions (the `yaml` package's LineCounter), `${NAME}` references
 * resolved from the environment (then the runbook's `vars`), and every problem — unknown kind,
 * missing or wrong parameter, `requires` naming no step, duplicate ids — reported at once with its
 * line and column, before anything runs.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { UsageError } from '../../errors.js';
import { registerSecret } from '../../secrets.js';
import { PARAMS, PhaseSchema, RunbookSchema, STEP_KINDS, StepSchema, type Phase, type Runbook, type Step, type StepKind, type UndoSpec } from './schema.js';

/** A runbook that cannot run: every problem, each with file:line:column. */
export class RunbookError extends UsageError {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`the runbook ${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      hint: 'fix the listed lines; nothing was run. `offramp cutover plan` checks a runbook without running it',
    });
    this.problems = problems;
  }
}

const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL/i;
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export interface Resolution {
  env: NodeJS.ProcessEnv;
  vars: Record<string, string>;
  secrets: string[];
  /** Names referenced but set nowhere. */
  unset: Set<string>;
}

/** Replace `${NAME}` in every string of a value; secrets met on the way are registered for masking. */
export function resolveValue(value: unknown, r: Resolution): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (_m, name: string) => {
      const v = r.env[name] ?? r.vars[name];
      if (v === undefined) {
        r.unset.add(name);
        // Left as written: the plan shows it, and a run refuses (checkRunInputs).
        return `\${${name}}`;
      }
      if (r.secrets.includes(name) || SECRET_NAME.test(name)) registerSecret(v);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, r));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveValue(v, r)]));
  return value;
}

type Path = Array<string | number>;

/** line:column of the node at `path` (or of its nearest existing ancestor); of the key `key` inside it when given. */
function positionOf(doc: Document, counter: LineCounter, path: Path, key?: string): { line: number; col: number } {
  let node: unknown = doc.contents;
  let offset = (doc.contents as { range?: [number] } | null)?.range?.[0] ?? 0;
  for (const segment of path) {
    let next: unknown;
    if (isMap(node)) next = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment))?.value;
    else if (isSeq(node) && typeof segment === 'number') next = node.items[segment];
    if (!isNode(next)) break;
    if (next.range) offset = next.range[0];
    node = next;
  }
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pair && isNode(pair.key) && pair.key.range) offset = pair.key.range[0];
  }
  return counter.linePos(offset);
}

interface Problem { path: Path; key?: string; message: string }

function zodProblems(error: z.ZodError, base: Path): Problem[] {
  return error.issues.map((issue) => {
    const path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    if (issue.code === 'unrecognized_keys') {
      return { path, key: issue.keys[0], message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` };
    }
    const last = issue.path.at(-1);
    const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
    return { path, message: missing ? `missing parameter "${String(last)}"` : `${issue.path.length ? `${issue.path.map(String).join('.')}: ` : ''}${issue.message}` };
  });
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Text instead of reading `file` (tests, the shipped defaults). */
  text?: string;
}

/** Read, resolve and validate a runbook; throws RunbookError (exit 2) listing every problem. */
export function loadRunbook(file: string, options: LoadOptions = {}): Runbook {
  let text: string;
  try {
    text = options.text ?? readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the runbook ${file}: ${(error as Error).message}`, { hint: '`offramp cutover init` writes runbooks/cutover.yaml and runbooks/rollback.yaml; or pass --runbook FILE' });
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new RunbookError(file, doc.errors.map((e) => {
      const pos = counter.linePos(e.pos[0]);
      return `${file}:${pos.line}:${pos.col}: not valid YAML: ${e.message.split('\n')[0]}`;
    }));
  }
  const problems: Problem[] = [];
  const top = RunbookSchema.safeParse(doc.toJS());
  if (!top.success) {
    throw new RunbookError(file, render(zodProblems(top.error, [])));
  }
  const resolution: Resolution = { env: options.env ?? process.env, vars: top.data.vars, secrets: top.data.secrets, unset: new Set() };

  const phases: Phase[] = [];
  const seen = new Map<string, Path>();
  const ids = new Set<string>();
  top.data.phases.forEach((rawPhase, p) => {
    const phase = PhaseSchema.safeParse(rawPhase);
    if (!phase.success) {
      problems.push(...zodProblems(phase.error, ['phases', p]));
      return;
    }
    const steps: Step[] = [];
    phase.data.steps.forEach((rawStep, s) => {
      const at: Path = ['phases', p, 'steps', s];
      const rawId = (rawStep as { id?: unknown } | null)?.id;
      if (typeof rawId === 'string' && ids.has(rawId)) problems.push({ path: [...at, 'id'], message: `duplicate step id "${rawId}"` });
      if (typeof rawId === 'string') ids.add(rawId);
      const step = parseStep(rawStep, at, phase.data.id, resolution, problems);
      if (!step) return;
      if (!seen.has(step.id)) seen.set(step.id, at);
      step.line = positionOf(doc, counter, at).line;
      steps.push(step);
    });
    phases.push({ id: phase.data.id, title: String(resolveValue(phase.data.title ?? phase.data.id, resolution)), steps });
  });

  // References between steps: requires, wait.until and wait.ttlOf must name a step; requires an earlier one.
  const order = phases.flatMap((ph) => ph.steps.map((s) => s.id));
  const kinds = new Map(phases.flatMap((ph) => ph.steps.map((s) => [s.id, s.kind] as const)));
  for (const step of phases.flatMap((ph) => ph.steps)) {
    const at = seen.get(step.id)!;
    step.requires.forEach((req, i) => {
      if (!kinds.has(req)) problems.push({ path: [...at, 'requires', i], message: `requires "${req}", which names no step` });
      else if (order.indexOf(req) >= order.indexOf(step.id)) problems.push({ path: [...at, 'requires', i], message: `requires "${req}", which comes later (steps run in file order)` });
    });
    if (step.kind === 'wait') {
      for (const key of ['until', 'ttlOf'] as const) {
        const ref = step.params[key] as string | undefined;
        if (ref === undefined) continue;
        if (!kinds.has(ref)) problems.push({ path: [...at, 'params', key], message: `${key} "${ref}" names no step` });
        else if (key === 'ttlOf' && kinds.get(ref) !== 'dns-update') problems.push({ path: [...at, 'params', key], message: `ttlOf "${ref}" must name a dns-update step` });
      }
    }
  }
  if (problems.length > 0) throw new RunbookError(file, render(problems));
  return {
    name: top.data.name,
    description: top.data.description,
    file,
    sha256: createHash('sha256').update(text).digest('hex'),
    vars: top.data.vars,
    phases,
    unset: [...resolution.unset],
  };

  function render(list: Problem[]): string[] {
    return list.map((pr) => {
      const pos = positionOf(doc, counter, pr.path, pr.key);
      const stepIndex = pr.path[0] === 'phases' && pr.path[2] === 'steps' ? [pr.path[1], pr.path[3]] as const : undefined;
      const raw = stepIndex ? (doc.getIn(['phases', stepIndex[0], 'steps', stepIndex[1], 'id']) as unknown) : undefined;
      const where = typeof raw === 'string' ? `step "${raw}": ` : '';
      return `${file}:${pos.line}:${pos.col}: ${where}${pr.message}`;
    });
  }
}

function parseStep(raw: unknown, at: Path, phase: string, resolution: Resolution, problems: Problem[]): Step | undefined {
  const envelope = StepSchema.safeParse(raw);
  if (!envelope.success) {
    problems.push(...zodProblems(envelope.error, at));
    return undefined;
  }
  const e = envelope.data;
  if (!STEP_KINDS.includes(e.kind as StepKind)) {
    problems.push({ path: [...at, 'kind'], message: `unknown step kind "${e.kind}" (known: ${STEP_KINDS.join(', ')})` });
    return undefined;
  }
  const kind = e.kind as StepKind;
  const params = PARAMS[kind].safeParse(resolveValue(e.params, resolution));
  if (!params.success) problems.push(...zodProblems(params.error, [...at, 'params']));
  else if (kind === 'sql' && (params.data as { write: boolean; on: string }).write && (params.data as { on: string }).on === 'source') {
    problems.push({ path: [...at, 'params', 'write'], message: 'a sql step may write only on the target: the source is only ever read' });
  }
  let undo: UndoSpec | undefined = e.undo;
  if (undo === 'auto' && kind !== 'dns-update') {
    problems.push({ path: [...at, 'undo'], message: `undo: auto exists only for dns-update steps; give ${kind} an undo action (kind and params)` });
    undo = undefined;
  } else if (undo && undo !== 'auto') {
    const undoKind = undo.kind as StepKind;
    if (!STEP_KINDS.includes(undoKind) || undoKind === 'wait') {
      problems.push({ path: [...at, 'undo', 'kind'], message: `unknown undo kind "${undo.kind}" (known: ${STEP_KINDS.filter((k) => k !== 'wait').join(', ')})` });
    } else {
      const p = PARAMS[undoKind].safeParse(resolveValue(undo.params, { ...resolution, unset: new Set() }));
      if (!p.success) problems.push(...zodProblems(p.error, [...at, 'undo', 'params']));
    }
  }
  if (!params.success) return undefined;
  return {
    id: e.id,
    title: String(resolveValue(e.title ?? e.id, resolution)),
    kind,
    phase,
    params: params.data as Record<string, unknown>,
    ...(undo ? { undo } : {}),
    ...(e.timeout !== undefined ? { timeoutMs: e.timeout } : {}),
    retries: e.retries,
    retryDelayMs: e.retryDelay,
    requires: e.requires,
    line: 0,
  };
}

/** Validate the parameters of an undo action at the time it runs (values resolved now). */
export function resolveUndo(undo: Exclude<UndoSpec, 'auto'>, resolution: Resolution): { kind: StepKind; params: Record<string, unknown> } {
  const kind = undo.kind as StepKind;
  const parsed = PARAMS[kind].safeParse(resolveValue(undo.params, resolution));
  if (!parsed.success) throw new UsageError(`undo of kind ${kind} has invalid parameters: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return { kind, params: parsed.data as Record<string, unknown> };
}
