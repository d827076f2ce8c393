/**
 * The README's code blocks, as printed: test/readme.test.ts runs them against
 * this checkout, scripts/test-package.ts against the packed package.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

/** The fenced block of `lang` that follows the line mentioning `marker`. */
export function blockAfter(marker: string, lang: string): string {
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README has no "${marker}"`);
  const open = readme.indexOf('```' + lang + '\n', at);
  if (open < 0) throw new Error(`README has no ${lang} block after "${marker}"`);
  const close = readme.indexOf('\n```', open + 4);
  return readme.slice(open + lang.length + 4, close + 1);
}

/** The quick start's files: producer.ts, worker.ts, listener.ts. */
export function quickStart(): Record<'producer' | 'worker' | 'listener', string> {
  return {
    producer: blockAfter('`producer.ts`', 'ts'),
    worker: blockAfter('`worker.ts`', 'ts'),
    listener: blockAfter('`listener.ts`', 'ts'),
  };
}

/** The tasks section's files: tasks.ts and the caller (importing ./tasks.ts so a TypeScript runner finds it). */
export function taskFiles(): { tasks: string; caller: string } {
  return {
    tasks: blockAfter('`tasks.ts` — define tasks once', 'ts'),
    caller: blockAfter('Call a task anywhere', 'ts').replace("'./tasks.js'", "'./tasks.ts'"),
  };
}
