/**
 * The release archive of the loadable library for people who do not use npm:
 *
 *   tsx scripts/dist.ts [--libc musl] [--out DIR]
 *     -> DIR/honker_ext-<version>-<os>-<arch>.tar.gz   (DIR defaults to build/dist)
 *
 * holding libhonker_ext.<so|dylib|dll> (built here with CMake, Release,
 * stripped), honker_ext.h (the watcher C ABI), LICENSE and a short README on
 * loading it. <os> is linux, linux-musl, macos or windows; <arch> is Node's
 * (x64, arm64). The library is loaded into SQLite before it is packed.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const musl = opt('--libc') === 'musl';
const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
/** A musl library built on a glibc system (Debian's musl-tools): it cannot load into this Node. */
const crossMusl = musl && Boolean(header?.glibcVersionRuntime);
const outDir = path.resolve(opt('--out') ?? path.join(root, 'build', 'dist'));
const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
const os = { linux: musl ? 'linux-musl' : 'linux', darwin: 'macos', win32: 'windows' }[process.platform as string];
if (!os) throw new Error(`dist: no release archive for ${process.platform}`);
const libFile = { linux: 'libhonker_ext.so', darwin: 'libhonker_ext.dylib', win32: 'libhonker_ext.dll' }[process.platform as 'linux'];
const name = `honker_ext-${version}-${os}-${process.arch}`;

function run(cmd: string, args: string[]): void {
  console.log(`> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw new Error(`dist: cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`dist: ${cmd} exited with ${r.status ?? r.signal}`);
}

const buildDir = path.join(root, 'build', musl ? 'dist-musl' : 'dist-build');
run('cmake', [
  '-S',
  '.',
  '-B',
  buildDir,
  '-DCMAKE_BUILD_TYPE=Release',
  ...(crossMusl ? ['-DCMAKE_C_COMPILER=musl-gcc'] : []),
]);
run('cmake', ['--build', buildDir, '--config', 'Release', '--parallel', '2']);
const built = [path.join(buildDir, libFile), path.join(buildDir, 'Release', libFile)].find((f) => existsSync(f));
if (!built) throw new Error(`dist: ${libFile} was not produced in ${buildDir}`);

const stage = path.join(outDir, name);
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const lib = path.join(stage, libFile);
copyFileSync(built, lib);
if (process.platform === 'linux') run('strip', ['--strip-unneeded', lib]);
if (process.platform === 'darwin') run('strip', ['-x', lib]);
if (!crossMusl) {
  const Database = require('better-sqlite3');
  const db = new Database(':memory:');
  db.loadExtension(lib);
  db.close();
}
copyFileSync(path.join(root, 'ext', 'honker_ext.h'), path.join(stage, 'honker_ext.h'));
copyFileSync(path.join(root, 'LICENSE'), path.join(stage, 'LICENSE'));
const stem = libFile.replace(/\.[a-z]+$/, '');
writeFileSync(
  path.join(stage, 'README.md'),
  `# honker_ext ${version} (${os}, ${process.arch})

\`${libFile}\` is honker's SQLite loadable extension: Postgres-style NOTIFY/LISTEN, a durable job
queue, streams, a cron scheduler, locks and rate limits, as SQL functions on tables in your own
database file. It loads into any SQLite 3.38 or newer. Its entry point is
\`sqlite3_honkerext_init\`, which SQLite derives from the file name, so no entry-point argument is
needed where the file keeps its name.

    sqlite3 app.db
    sqlite> .load ./${stem}
    sqlite> SELECT honker_bootstrap();
    sqlite> SELECT honker_enqueue('emails', '{"to":"alice"}', NULL, NULL, 0, 3, NULL);

Python: \`conn.enable_load_extension(True); conn.load_extension("./${stem}")\`.
Go (mattn/go-sqlite3): \`conn.LoadExtension("./${libFile}", "sqlite3_honkerext_init")\`.

\`honker_ext.h\` declares the watcher C ABI (\`honker_watcher_open/wait/close\`): wake a thread when
any process commits to the file. The SQL functions and the file format are documented in
docs/sql.md of the project (https://github.com/russellromney/honker for the original honker 0.4
surface this library is a drop-in for). License: MIT (LICENSE).
`,
);
const archive = path.join(outDir, `${name}.tar.gz`);
run('tar', ['-czf', archive, '-C', outDir, name]);
rmSync(stage, { recursive: true, force: true });
console.log(`wrote ${path.relative(root, archive)}`);
