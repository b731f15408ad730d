/** A yes/no question to the person at the terminal (stderr, so stdout stays machine output). */
import { createInterface } from 'node:readline/promises';
import { redact } from '../secrets.js';

export async function askYesNo(message: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${redact(message)} [y/N] `);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}
