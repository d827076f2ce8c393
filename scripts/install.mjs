// `npm install` runs this (package.json "install"). Plain JavaScript with no
// dependencies, so it runs wherever npm does.
//
// 1. A prebuilt library for this platform ships in prebuilds/ (published
//    packages; see docs/ARCHITECTURE.md "Packaging"): if it loads into
//    better-sqlite3, there is nothing to do. This is also why honker works
//    when install scripts are blocked: nothing here is needed then.
// 2. Otherwise compile ext/ with node-gyp (npm's own copy, which npm names in
//    $npm_config_node_gyp) into build/Release/honker_ext.node. When that
//    fails, say exactly what to install.
// HONKER_BUILD_FROM_SOURCE=1 skips step 1, and so does a git checkout: a developer's
// `npm install` always compiles the sources in front of them (prebuilds/ there is a
// leftover of `npm run build:prebuilt` or test:package, built from older sources).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** The prebuilt library of this platform, when the package has one that loads; else why not. */
async function usablePrebuilt() {
  const compiled = path.join(root, 'dist', 'extension.js');
  if (!existsSync(path.join(root, 'prebuilds')) || !existsSync(compiled)) {
    return { why: 'this copy of honker has no prebuilt libraries (a source checkout)' };
  }
  const { prebuiltPath } = await import(pathToFileURL(compiled).href);
  if (typeof prebuiltPath !== 'function') return { why: 'dist/ is older than this script' };
  const file = prebuiltPath();
  if (!existsSync(file)) return { why: `no prebuilt library for ${process.platform}-${process.arch} (${path.basename(file)})` };
  try {
    const Database = require('better-sqlite3');
    const db = new Database(':memory:');
    try {
      db.loadExtension(file);
    } finally {
      db.close();
    }
    return { file };
  } catch (err) {
    return { why: `the prebuilt ${path.relative(root, file)} does not load here: ${err.message}` };
  }
}

function nodeGyp() {
  if (process.env.npm_config_node_gyp) return [process.execPath, [process.env.npm_config_node_gyp]];
  try {
    return [process.execPath, [require.resolve('node-gyp/bin/node-gyp.js')]];
  } catch {
    return ['node-gyp', []];
  }
}

const WHAT_TO_INSTALL = {
  linux: 'Debian/Ubuntu: apt-get install build-essential python3; Alpine: apk add build-base python3; Fedora: dnf install gcc make python3',
  darwin: 'xcode-select --install (the compiler and make) and python3',
  win32: 'Visual Studio Build Tools with "Desktop development with C++", and Python 3',
};

const checkout = existsSync(path.join(root, '.git'));
if (process.env.HONKER_BUILD_FROM_SOURCE !== '1' && !checkout) {
  const prebuilt = await usablePrebuilt();
  if (prebuilt.file) process.exit(0);
  console.log(`honker: ${prebuilt.why}; compiling libhonker_ext from source`);
}
const [cmd, args] = nodeGyp();
// A git checkout is a developer's: every warning is an error there (binding.gyp reads HONKER_WERROR).
const env = checkout ? { ...process.env, HONKER_WERROR: '1' } : process.env;
const r = spawnSync(cmd, [...args, 'rebuild', '--release'], { cwd: root, stdio: 'inherit', env });
if (r.status === 0 && existsSync(path.join(root, 'build', 'Release', 'honker_ext.node'))) process.exit(0);
const cause = r.error ? `cannot run node-gyp: ${r.error.message}` : `node-gyp exited with ${r.status ?? r.signal}`;
console.error(
  `\nhonker: building libhonker_ext from source failed (${cause}).\n` +
    `No prebuilt library matches ${process.platform}-${process.arch}, so npm compiles ext/*.c with node-gyp,\n` +
    `which needs a C compiler, make and Python 3. Install them, then run \`npm rebuild honker\`:\n` +
    `  ${WHAT_TO_INSTALL[process.platform] ?? 'a C11 compiler, make and python3'}\n`,
);
process.exit(1);
