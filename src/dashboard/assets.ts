/**
 * The dashboard's static files, all served from the installed package (no
 * CDN: it works offline): its own script and style sheet from
 * assets/dashboard/ (shipped by package.json "files"), and uPlot's built
 * files from the uplot package (a runtime dependency: see
 * docs/ARCHITECTURE.md "Dashboard"). Read once, gzipped once, served with
 * a long cache lifetime: page links carry ?v=<package version>.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** src/dashboard or dist/dashboard: the package root is two levels up either way. */
const packageRoot = path.resolve(here, '..', '..');
const require = createRequire(import.meta.url);

function uplotFile(name: string): string {
  return path.join(path.dirname(require.resolve('uplot/package.json')), 'dist', name);
}

const FILES: Record<string, { file: () => string; type: string }> = {
  'dashboard.js': { file: () => path.join(packageRoot, 'assets', 'dashboard', 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: () => path.join(packageRoot, 'assets', 'dashboard', 'dashboard.css'), type: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { file: () => uplotFile('uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { file: () => uplotFile('uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

const cache = new Map<string, Asset>();

/** The asset called name, or undefined when there is none by that name. */
export function asset(name: string): Asset | undefined {
  const known = FILES[name];
  if (!known) return undefined;
  let a = cache.get(name);
  if (!a) {
    const body = readFileSync(known.file());
    a = { type: known.type, body, gzip: gzipSync(body, { level: 9 }) };
    cache.set(name, a);
  }
  return a;
}

/** Every asset's size, raw and gzipped (README and tests). */
export function assetSizes(): Array<{ name: string; bytes: number; gzipBytes: number }> {
  return Object.keys(FILES).map((name) => {
    const a = asset(name)!;
    return { name, bytes: a.body.length, gzipBytes: a.gzip.length };
  });
}

/** The package's version, the cache-busting ?v= of asset links. */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? '0';
  } catch {
    return '0';
  }
}
