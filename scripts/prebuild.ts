/**
 * The prebuilt library of this machine's platform, for the npm package:
 *
 *   tsx scripts/prebuild.ts              prebuilds/<platform>-<arch>/honker_ext[.<libc>].node
 *   tsx scripts/prebuild.ts --libc musl  the musl one, compiled with musl-gcc (Linux)
 *
 * prebuildify drives node-gyp (binding.gyp) and names the file by platform,
 * architecture and, on Linux, C library; `--napi` keeps Node's ABI version
 * out of the name (the library is not a Node addon and works with any Node).
 * The file is stripped. Each build is then loaded into SQLite: into
 * better-sqlite3 when it matches this Node, else (musl) into the host that
 * test:package builds. The release workflow (.github/workflows/release.yml)
 * runs this on each platform and packs all of prebuilds/ into one package.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const libcArg = args.indexOf('--libc');
const libc = libcArg >= 0 ? args[libcArg + 1] : undefined;
if (libc !== undefined && libc !== 'glibc' && libc !== 'musl') throw new Error(`prebuild: --libc must be glibc or musl (got ${libc})`);

const env: NodeJS.ProcessEnv = { ...process.env, HONKER_WERROR: '1' };
const flags = ['--napi', '--strip', '--name', 'honker_ext'];
if (process.platform === 'linux') flags.push('--tag-libc', '--libc', libc ?? 'glibc');
const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
const onGlibc = process.platform === 'linux' && Boolean(header?.glibcVersionRuntime);
if (libc === 'musl' && onGlibc) {
  // On a glibc system (Debian's musl-tools): node-gyp compiles with $CC and links with $LINK,
  // both musl-gcc, so the library links musl's libc. On Alpine the system compiler is musl's.
  env.CC = 'musl-gcc';
  env.LINK = 'musl-gcc';
}
const prebuildify = require.resolve('prebuildify/bin.js');
rmSync(path.join(root, 'build', 'Release'), { recursive: true, force: true });
const r = spawnSync(process.execPath, [prebuildify, ...flags], { cwd: root, env, stdio: 'inherit' });
if (r.status !== 0) throw new Error(`prebuild: prebuildify exited with ${r.status ?? r.signal}`);

const tag = process.platform === 'linux' ? `.${libc ?? 'glibc'}` : '';
const file = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, `honker_ext${tag}.node`);
if (!existsSync(file)) throw new Error(`prebuild: ${file} was not produced`);
if ((libc === 'musl') !== onGlibc || process.platform !== 'linux') {
  const Database = require('better-sqlite3');
  const db = new Database(':memory:');
  db.loadExtension(file);
  db.close();
}
console.log(`prebuilt ${path.relative(root, file)}`);
