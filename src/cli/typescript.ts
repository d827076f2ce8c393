/**
 * Importing the user's TypeScript module for `honker worker tasks.ts`,
 * without making a TypeScript runner a dependency of honker:
 *   1. the user's own tsx, found from the module's folder or the current
 *      directory (the project that runs honker);
 *   2. else Node's own type stripping, where this Node has it turned on
 *      (process.features.typescript: Node 23.6+, or 22.6+ with
 *      --experimental-strip-types);
 *   3. else a one-line error saying what to install.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliError } from './errors.js';

/** The ES module entry of the first tsx that dirs can resolve (its `tsx/esm/api` export), or undefined. */
function userTsx(dirs: string[]): string | undefined {
  for (const dir of dirs) {
    let manifest: string;
    try {
      manifest = createRequire(path.join(dir, 'noop.js')).resolve('tsx/package.json');
    } catch {
      continue; // not installed there: try the next place
    }
    const exported = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, unknown> }).exports?.['./esm/api'];
    const entry = (exported as { import?: { default?: unknown } | string } | undefined)?.import;
    const file = typeof entry === 'string' ? entry : entry?.default;
    if (typeof file === 'string') return pathToFileURL(path.join(path.dirname(manifest), file)).href;
  }
  return undefined;
}

/** Import file (absolute) when it is TypeScript; throws a CliError when nothing here can run it. */
export async function importTypeScript(file: string): Promise<void> {
  const tsx = userTsx([path.dirname(file), process.cwd()]);
  if (tsx) ((await import(tsx)) as { register: () => unknown }).register();
  else if (!(process.features as { typescript?: unknown }).typescript) {
    const name = path.basename(file);
    throw new CliError(
      `${name} is TypeScript and nothing here can run it: install tsx in your project ` +
        `(npm install --save-dev tsx), use Node 23.6+ (or 22.6+ with NODE_OPTIONS=--experimental-strip-types), ` +
        `or compile ${name} to JavaScript`,
    );
  }
  await import(pathToFileURL(file).href);
}
