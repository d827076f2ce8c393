/**
 * The package as a user gets it (npm run test:package; .ci/run runs it):
 *
 *   1. build the prebuilt library of this platform (glibc, and musl where
 *      musl-gcc exists) unless --use-prebuilds (the release workflow brings
 *      them all), and `npm pack`; the tarball must hold only what users need;
 *   2. a fresh project installs better-sqlite3 and tsx the normal way, then
 *      the tarball with install scripts ignored and with no compiler, make or
 *      python on PATH (timed): the README quick start runs as printed
 *      (producer and worker in two processes, the worker wakes), `npx honker
 *      stats` works, the path `npx honker extension-path` prints loads into
 *      /usr/bin/python3's sqlite3 and the sqlite3 CLI (and the musl library
 *      into a musl-linked SQLite), `honker worker tasks.ts` runs the README's
 *      task module with the project's tsx, and `npm ls --omit=dev` shows
 *      none of tsx, esbuild, node-gyp, typescript;
 *   3. the source fallback: without prebuilt libraries and without a
 *      compiler the install fails saying what to install; with one it
 *      compiles and works.
 * Prints one JSON line of figures at the end (sizes, install time).
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineChild } from '../test/helpers/child.js';
import { quickStart, taskFiles } from '../test/helpers/readme.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const usePrebuilds = process.argv.includes('--use-prebuilds');
const work = mkdtempSync(path.join(os.tmpdir(), 'honker-package-'));
const figures: Record<string, unknown> = {};
const children: LineChild[] = [];

function step(what: string): void {
  console.log(`\n== ${what}`);
}

function check(ok: unknown, what: string): void {
  if (!ok) throw new Error(`test:package: ${what}`);
  console.log(`ok - ${what}`);
}

/** Run cmd to completion; throws with its output unless it exits 0 (or `allowFail`). */
function run(cmd: string, args: string[], opts: SpawnSyncOptions & { allowFail?: boolean } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000, ...opts });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (!opts.allowFail && r.status !== 0) {
    throw new Error(`test:package: ${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}:\n${out.slice(-4000)}`);
  }
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), out };
}

/** A PATH with node, npm, npx and sh (npx runs commands through it) only: no compiler, make or python. */
function bareBin(): string {
  const dir = path.join(work, 'bare-bin');
  mkdirSync(dir);
  const nodeDir = path.dirname(process.execPath);
  symlinkSync(process.execPath, path.join(dir, 'node'));
  for (const tool of ['npm', 'npx']) {
    const found = [nodeDir, ...(process.env.PATH ?? '').split(':')].map((d) => path.join(d, tool)).find((f) => existsSync(f));
    if (!found) throw new Error(`test:package: no ${tool} next to node or on PATH`);
    symlinkSync(found, path.join(dir, tool));
  }
  symlinkSync('/bin/sh', path.join(dir, 'sh'));
  for (const tool of ['cc', 'gcc', 'clang', 'make', 'python', 'python3', 'g++']) {
    check(!existsSync(path.join(dir, tool)), `the bare PATH has no ${tool}`);
  }
  return dir;
}

function project(name: string): string {
  const dir = path.join(work, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `honker-${name}`, private: true, type: 'module' }, null, 2));
  return dir;
}

/** Every package name in `npm ls --omit=dev --all --json` of dir. */
function productionTree(dir: string, env: NodeJS.ProcessEnv): Set<string> {
  const tree = JSON.parse(run('npm', ['ls', '--omit=dev', '--all', '--json'], { cwd: dir, env }).stdout) as { dependencies?: object };
  const names = new Set<string>();
  const walk = (deps: Record<string, { dependencies?: object }> | undefined): void => {
    for (const [name, node] of Object.entries(deps ?? {})) {
      names.add(name);
      walk(node.dependencies as Record<string, { dependencies?: object }> | undefined);
    }
  };
  walk(tree.dependencies as Record<string, { dependencies?: object }>);
  return names;
}

/** The README quick start in dir: producer, then a worker process that wakes on a second producer's commit. */
async function quickStartRuns(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  for (const [name, code] of Object.entries(quickStart())) writeFileSync(path.join(dir, `${name}.ts`), code);
  run('npx', ['tsx', 'producer.ts'], { cwd: dir, env });
  // `npx tsx worker.ts` as the README says, minus npm exec's wrapper, which does not pass Ctrl-C on.
  const worker = LineChild.text(path.join(dir, 'node_modules', '.bin', 'tsx'), ['worker.ts'], { cwd: dir, env, label: 'README worker.ts' });
  children.push(worker);
  await worker.until('the job enqueued before it started', () => worker.stdout.includes('sending to'), 60_000);
  const t0 = Date.now();
  run('npx', ['tsx', 'producer.ts'], { cwd: dir, env });
  await worker.until('the second job, woken by the commit', () => worker.stdout.split('sending to').length === 3, 30_000);
  figures.quickStartSecondJobMs = Date.now() - t0;
  check(worker.stdout === 'sending to alice@example.com\nsending to alice@example.com\n', 'the README worker got both jobs');
  check((await worker.kill('SIGINT')) === 0, 'the README worker stops on Ctrl-C with exit 0');
}

/** A musl-linked SQLite that loads lib and runs a claim (Debian's musl-tools; better-sqlite3's amalgamation). */
function muslLoads(lib: string): void {
  const sqliteDir = path.join(root, 'node_modules', 'better-sqlite3', 'deps', 'sqlite3');
  const host = path.join(work, 'musl-host');
  writeFileSync(
    `${host}.c`,
    `#include <stdio.h>
#include "sqlite3.h"
int main(int argc, char **argv) {
  sqlite3 *db; char *err = 0;
  if (sqlite3_open(argv[1], &db)) return 2;
  sqlite3_enable_load_extension(db, 1);
  if (sqlite3_load_extension(db, argv[2], 0, &err)) { fprintf(stderr, "load: %s\\n", err); return 3; }
  for (int i = 3; i < argc; i++) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, argv[i], -1, &s, 0)) { fprintf(stderr, "%s\\n", sqlite3_errmsg(db)); return 4; }
    while (sqlite3_step(s) == SQLITE_ROW) printf("%s\\n", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
  }
  return sqlite3_close(db);
}
`,
  );
  run('musl-gcc', ['-O1', `-I${sqliteDir}`, `${host}.c`, path.join(sqliteDir, 'sqlite3.c'), '-o', host, '-lpthread', '-lm', '-ldl']);
  const r = run(host, [
    path.join(work, 'musl.db'),
    lib,
    'SELECT honker_bootstrap()',
    `SELECT honker_enqueue('q', '{"n":1}', NULL, NULL, 0, 3, NULL)`,
    `SELECT json_extract(honker_claim_batch('q', 'musl', 1, 30), '$[0].payload')`,
  ]);
  check(r.stdout === '1\n1\n{"n":1}\n', `the musl library loads into a musl-linked SQLite and claims (${path.basename(lib)})`);
}

async function main(): Promise<void> {
  const fullEnv = { ...process.env };
  const bare = { ...process.env, PATH: bareBin() };
  const nodeGyp = readdirSync(path.join(root, 'node_modules')).includes('node-gyp');
  check(nodeGyp, 'node-gyp (a devDependency) is here to build the prebuilt library');

  step('1. prebuilt libraries and the tarball');
  const musl = spawnSync('sh', ['-c', 'command -v musl-gcc'], { stdio: 'ignore' }).status === 0;
  if (!usePrebuilds) {
    rmSync(path.join(root, 'prebuilds'), { recursive: true, force: true });
    run(process.execPath, ['--import=tsx', 'scripts/prebuild.ts'], { cwd: root, stdio: 'inherit' });
    if (musl && process.platform === 'linux') {
      run(process.execPath, ['--import=tsx', 'scripts/prebuild.ts', '--libc', 'musl'], { cwd: root, stdio: 'inherit' });
    } else console.log('skipped: the musl library (no musl-gcc; Debian: apt-get install musl-tools)');
    // The local build was moved into prebuilds/: build it again for the checkout's own tests.
    run(process.execPath, ['--import=tsx', 'scripts/build.ts'], { cwd: root });
  }
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], { cwd: root }).stdout) as Array<{
    filename: string;
    size: number;
    unpackedSize: number;
    files: Array<{ path: string }>;
  }>;
  const tgz = path.join(work, packed[0]!.filename);
  const files = packed[0]!.files.map((f) => f.path);
  figures.tarballKB = Math.round(packed[0]!.size / 1024);
  figures.unpackedKB = Math.round(packed[0]!.unpackedSize / 1024);
  figures.files = files.length;
  const libc = process.platform === 'linux' ? '.glibc' : '';
  const prebuilt = `prebuilds/${process.platform}-${process.arch}/honker_ext${libc}.node`;
  for (const need of ['dist/index.js', 'dist/index.d.ts', 'bin/honker.js', 'scripts/install.mjs', 'binding.gyp', 'ext/queue.c', 'LICENSE', 'README.md', prebuilt, 'dist/dashboard/handler.js', 'assets/dashboard/dashboard.js', 'assets/dashboard/dashboard.css']) {
    check(files.includes(need), `the tarball holds ${need}`);
  }
  const unwanted = files.filter((f) => /^(test|bench|fuzz|src|\.ci|\.github)\//.test(f) || f.endsWith('.map') || (f.startsWith('scripts/') && f !== 'scripts/install.mjs'));
  check(unwanted.length === 0, `the tarball holds no tests, benches, fuzz corpus, sources maps or dev scripts (${unwanted.slice(0, 5).join(', ')})`);

  step('2. a fresh project, install scripts ignored, no compiler on PATH');
  const app = project('app');
  const bsq = (JSON.parse(readFileSync(path.join(root, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string }).version;
  const tsxVersion = (JSON.parse(readFileSync(path.join(root, 'node_modules', 'tsx', 'package.json'), 'utf8')) as { version: string }).version;
  run('npm', ['install', `better-sqlite3@${bsq}`], { cwd: app, env: fullEnv }); // the normal way (compiles where no prebuilt downloads)
  run('npm', ['install', '--save-dev', `tsx@${tsxVersion}`], { cwd: app, env: fullEnv });
  const t0 = performance.now();
  run('npm', ['install', '--ignore-scripts', tgz], { cwd: app, env: bare });
  figures.installMs = Math.round(performance.now() - t0);
  const installed = path.join(app, 'node_modules', 'honker');
  check(existsSync(path.join(installed, prebuilt)), `the prebuilt ${prebuilt} is installed`);
  check(!existsSync(path.join(installed, 'build')), 'nothing was compiled (no build/ in the installed package)');
  const tree = productionTree(app, bare);
  for (const dev of ['tsx', 'esbuild', 'node-gyp', 'typescript']) check(!tree.has(dev), `npm ls --omit=dev --all has no ${dev}`);
  check(tree.has('honker') && tree.has('better-sqlite3'), 'npm ls --omit=dev --all has honker and better-sqlite3');

  await quickStartRuns(app, bare);
  check(/^\d+\n$/.test(run('npx', ['honker', 'enqueue', 'app.db', 'reports', '{"n":1}'], { cwd: app, env: bare }).stdout), 'npx honker enqueue prints the id');
  const stats = run('npx', ['honker', 'stats', 'app.db'], { cwd: app, env: bare });
  check(/^reports\s+1\s+0\s+0\s+0\s+\d+s$/m.test(stats.stdout), 'npx honker stats app.db lists the reports queue');
  const ext = run('npx', ['honker', 'extension-path'], { cwd: app, env: bare }).stdout.trim();
  check(ext === path.join(installed, prebuilt), `npx honker extension-path prints the installed prebuilt (${ext})`);
  const py = run(
    '/usr/bin/python3',
    ['-c', `import sqlite3\ndb = sqlite3.connect("app.db")\ndb.enable_load_extension(True)\ndb.load_extension(${JSON.stringify(ext)})\nprint(db.execute("SELECT honker_queue_stats('reports')").fetchone()[0])`],
    { cwd: app, env: bare },
  );
  check(py.stdout === '{"pending":1,"scheduled":0,"processing":0,"dead":0}\n', 'the path loads into /usr/bin/python3 (stdlib sqlite3)');
  const cli = run('sqlite3', ['app.db', '-cmd', `.load ${ext}`, "SELECT honker_queue_stats('reports')"], { cwd: app, env: fullEnv });
  check(cli.stdout === '{"pending":1,"scheduled":0,"processing":0,"dead":0}\n', 'the path loads into the sqlite3 CLI');
  const muslLib = path.join(installed, 'prebuilds', `linux-${process.arch}`, 'honker_ext.musl.node');
  if (musl && existsSync(muslLib)) muslLoads(muslLib);
  else console.log('skipped: the musl library in a musl-linked SQLite (no musl-gcc or no musl prebuilt)');

  const { tasks, caller } = taskFiles();
  writeFileSync(path.join(app, 'tasks.ts'), tasks);
  writeFileSync(path.join(app, 'caller.ts'), caller + 'process.exit(0);\n');
  const bin = path.join(app, 'node_modules', '.bin', 'honker'); // what npx runs, without npm exec's wrapper (signals)
  const worker = LineChild.text(bin, ['worker', './tasks.ts', '--concurrency', '8'], { cwd: app, env: bare, label: 'honker worker' });
  children.push(worker);
  const call = run('npx', ['tsx', 'caller.ts'], { cwd: app, env: bare });
  check(call.stdout === "{ sentTo: 'alice@example.com', subject: 'hi' }\n", 'honker worker ./tasks.ts (the project’s tsx) ran the README task');
  check((await worker.kill('SIGTERM')) === 0 && /completed 1/.test(worker.stderr), 'honker worker stops on SIGTERM with exit 0');

  step('3. the source fallback');
  const unpack = path.join(work, 'unpack');
  mkdirSync(unpack);
  run('tar', ['-xzf', tgz, '-C', unpack]);
  rmSync(path.join(unpack, 'package', 'prebuilds'), { recursive: true, force: true });
  const sourceTgz = path.join(work, 'honker-source-only.tgz');
  run('tar', ['-czf', sourceTgz, '-C', unpack, 'package']);
  const fallback = project('fallback');
  // better-sqlite3 (and tsx) as the first project installed them; honker from the source-only tarball.
  for (const f of ['package.json', 'package-lock.json']) cpSync(path.join(app, f), path.join(fallback, f));
  cpSync(path.join(app, 'node_modules'), path.join(fallback, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  const refused = run('npm', ['install', sourceTgz], { cwd: fallback, env: bare, allowFail: true });
  check(refused.status !== 0, 'with no prebuilt and no compiler the install fails');
  check(/needs a C compiler, make and Python 3/.test(refused.out), 'and says what to install');
  run('npm', ['install', sourceTgz], { cwd: fallback, env: fullEnv });
  const built = path.join(fallback, 'node_modules', 'honker', 'build', 'Release', 'honker_ext.node');
  check(existsSync(built), 'a normal install compiled build/Release/honker_ext.node');
  check(run('npx', ['honker', 'extension-path'], { cwd: fallback, env: bare }).stdout.trim() === built, 'extension-path names the compiled library');
  writeFileSync(
    path.join(fallback, 'check.mjs'),
    `import { open } from 'honker';
const db = open('fallback.db');
const q = db.queue('q');
q.enqueue({ n: 1 });
const job = q.claimOne('w');
console.log(JSON.stringify(job.payload), job.ack());
db.close();
`,
  );
  check(run('node', ['check.mjs'], { cwd: fallback, env: bare }).stdout === '{"n":1} true\n', 'the compiled library enqueues and claims');
  console.log(JSON.stringify({ testPackage: figures }));
}

try {
  await main();
} finally {
  for (const c of children) await c.close();
  rmSync(work, { recursive: true, force: true });
}
