/**
 * The build of libhonker_ext, called by package.json scripts.
 *
 *   tsx scripts/build.ts             node-gyp -> build/Release/honker_ext.node (with -Werror)
 *   tsx scripts/build.ts --cmake     CMake    -> build/cmake/libhonker_ext.so
 *   tsx scripts/build.ts --sanitize  CMake with ASan+UBSan -> build/sanitize/libhonker_ext.so
 *
 * Each build ends by loading the library into a throwaway in-memory SQLite
 * connection, so a broken build fails here and not in the first test.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const libName = process.platform === 'darwin' ? 'libhonker_ext.dylib' : 'libhonker_ext.so'; // CMake's output

function run(cmd: string, args: string[]): void {
  console.log(`> ${cmd} ${args.join(' ')}`);
  // Our own builds treat every warning as an error (binding.gyp reads HONKER_WERROR).
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, HONKER_WERROR: '1' } });
  if (r.error) throw new Error(`build: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`build: ${cmd} ${args.join(' ')} exited with ${r.status}`);
}

function buildWithNodeGyp(): string {
  const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
  run(process.execPath, [nodeGyp, 'rebuild', '--release']);
  return path.join(root, 'build', 'Release', 'honker_ext.node');
}

function buildWithCmake(dir: string, sanitize: boolean): string {
  const buildDir = path.join(root, 'build', dir);
  run('cmake', ['-S', '.', '-B', buildDir, `-DHONKER_SANITIZE=${sanitize ? 'ON' : 'OFF'}`]);
  run('cmake', ['--build', buildDir, '--parallel', '2']);
  return path.join(buildDir, libName);
}

function checkLoads(lib: string, sanitize: boolean): void {
  if (!existsSync(lib)) throw new Error(`build: ${lib} was not produced`);
  // An ASan build can only be loaded with libasan preloaded; the sanitizer test run does that.
  if (sanitize) return;
  const Database = require('better-sqlite3');
  const db = new Database(':memory:');
  db.loadExtension(lib);
  db.close();
  console.log(`built ${path.relative(root, lib)}`);
}

const args = new Set(process.argv.slice(2));
const sanitize = args.has('--sanitize');
const lib = sanitize
  ? buildWithCmake('sanitize', true)
  : args.has('--cmake')
    ? buildWithCmake('cmake', false)
    : buildWithNodeGyp();
checkLoads(lib, sanitize);
