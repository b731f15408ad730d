/** Number and size formatting shared by findings and the text and Markdown renderers. */

export { formatBytes } from '../../output/format.js';

/** 1234567 → "1,234,567"; null → "?"; an estimate gets a "~". */
export function formatCount(n: number | null | undefined, exact = true): string {
  if (n === null || n === undefined) return '?';
  return `${exact ? '' : '~'}${n.toLocaleString('en-US')}`;
}

/** "1 policy", "3 policies". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** "a, b and 3 more" */
export function listSome(items: string[], max = 5): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** Verb agreement: agree(1, 'has', 'have') → "has". */
export function agree(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}
