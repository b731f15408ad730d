import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Root of the installed package (holds sql/, fixtures/, package.json). */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
