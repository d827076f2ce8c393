/**
 * Finding and loading libhonker_ext, the SQLite extension.
 *
 * extensionPath() looks, in this order:
 *   1. $HONKER_EXT_PATH, when set (a custom or sanitizer build); it must exist;
 *   2. build/Release/honker_ext.node, a build of this machine (the source
 *      fallback of `npm install`, or `npm run build` in a checkout);
 *   3. prebuilds/<platform>-<arch>/honker_ext[.<libc>].node, the library
 *      built for this platform that ships in the npm package (libc is glibc
 *      or musl on Linux, absent elsewhere; see docs/ARCHITECTURE.md "Packaging");
 *   4. build/cmake/libhonker_ext.<so|dylib|dll>, what `npm run build:cmake` builds.
 * A `.node` file is an ordinary shared library to SQLite, and its name
 * (honker_ext…) gives the entry point sqlite3_honkerext_init, so every host
 * loads it with no entry-point argument. When none exists the error lists
 * every path tried and what to do.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HonkerError } from './errors.js';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cmakeFile =
  process.platform === 'darwin' ? 'libhonker_ext.dylib' : process.platform === 'win32' ? 'libhonker_ext.dll' : 'libhonker_ext.so';

/** Anything with better-sqlite3's `loadExtension(path)`. */
export interface ExtensionHost {
  loadExtension(path: string): unknown;
}

let libcCache: 'glibc' | 'musl' | undefined;

/** The C library this Node runs on (Linux only): musl when Node reports no glibc version. */
function libc(): 'glibc' | 'musl' {
  if (!libcCache) {
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
    libcCache = header?.glibcVersionRuntime ? 'glibc' : 'musl';
  }
  return libcCache;
}

/** @internal the prebuilt library's path for this platform inside the package (it may not exist). */
export function prebuiltPath(): string {
  const file = process.platform === 'linux' ? `honker_ext.${libc()}.node` : 'honker_ext.node';
  return path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, file);
}

/** Absolute path of libhonker_ext, for better-sqlite3 or any other SQLite driver. */
export function extensionPath(): string {
  const fromEnv = process.env.HONKER_EXT_PATH;
  if (fromEnv) {
    // An explicit choice never falls back to another build: that would test the wrong library.
    const resolved = path.resolve(fromEnv);
    if (existsSync(resolved)) return resolved;
    throw new HonkerError('EXTENSION_NOT_FOUND', `honker: $HONKER_EXT_PATH names ${resolved}, which does not exist`);
  }
  const candidates = [
    path.join(packageRoot, 'build', 'Release', 'honker_ext.node'),
    prebuiltPath(),
    path.join(packageRoot, 'build', 'cmake', cmakeFile),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (found) return found;
  throw new HonkerError(
    'EXTENSION_NOT_FOUND',
    `honker: libhonker_ext not found for ${process.platform}-${process.arch}; tried:\n  ${candidates.join('\n  ')}\n` +
      `build it from source: \`npm rebuild honker\` in your project, or \`npm run build\` in a honker checkout ` +
      `(needs a C compiler, make and python3, which node-gyp drives)`,
  );
}

/** Load libhonker_ext into a connection (better-sqlite3 Database or compatible). */
export function load(db: ExtensionHost): void {
  db.loadExtension(extensionPath());
}
