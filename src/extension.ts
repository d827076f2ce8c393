/**
 * Finding and loading libhonker_ext, the SQLite extension built by `npm install`.
 *
 * extensionPath() looks, in this order:
 *   1. $HONKER_EXT_PATH, when set (a custom or sanitizer build); it must exist;
 *   2. build/Release/libhonker_ext.<so|dylib>, what `npm install` (node-gyp) builds;
 *   3. build/cmake/libhonker_ext.<so|dylib>, what `npm run build:cmake` builds.
 * When none exists the error lists every path tried and the command that builds it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HonkerError } from './errors.js';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const libraryFile = process.platform === 'darwin' ? 'libhonker_ext.dylib' : 'libhonker_ext.so';

/** Anything with better-sqlite3's `loadExtension(path)`. */
export interface ExtensionHost {
  loadExtension(path: string): unknown;
}

/** Absolute path of libhonker_ext, for better-sqlite3 or any other SQLite driver. */
export function extensionPath(): string {
  const tried: string[] = [];
  const fromEnv = process.env.HONKER_EXT_PATH;
  if (fromEnv) {
    // An explicit choice never falls back to another build: that would test the wrong library.
    const resolved = path.resolve(fromEnv);
    if (existsSync(resolved)) return resolved;
    throw new HonkerError('EXTENSION_NOT_FOUND', `honker: $HONKER_EXT_PATH names ${resolved}, which does not exist`);
  }
  for (const dir of ['Release', 'cmake']) {
    const candidate = path.join(packageRoot, 'build', dir, libraryFile);
    if (existsSync(candidate)) return candidate;
    tried.push(candidate);
  }
  throw new HonkerError(
    'EXTENSION_NOT_FOUND',
    `honker: libhonker_ext not found; tried:\n  ${tried.join('\n  ')}\n` +
      `build it with \`npm run build\` in ${packageRoot}`,
  );
}

/** Load libhonker_ext into a connection (better-sqlite3 Database or compatible). */
export function load(db: ExtensionHost): void {
  db.loadExtension(extensionPath());
}
