/**
 * npm run test:hosts — every SQLite host of examples/ that is installed runs its example on ONE
 * shared WAL file (.ci/run installs them all; examples/README.md has the contract):
 *
 *   1. detect each host (its command and its SQLite library) and build what needs building:
 *      C and C++ against libsqlite3-dev, Java with javac against Debian's sqlite-jdbc jar, Go
 *      with GOPROXY=off and a `replace` to Debian's go-sqlite3 source, Rust offline against
 *      Debian's crate registry. Build outputs and caches live in build/hosts/ (the Rust target
 *      dir makes a second run quick; `npm install` rebuilding the library clears build/);
 *   2. start every host's worker on its own queue ring-<i> of one temp database, and wait until
 *      each has acked a warm-up job (it is then blocked in its watcher);
 *   3. the ring: host i's producer enqueues K orders onto ring-<i+1 mod n>, and each queue also
 *      gets a job whose payload says fail; every worker acks its K jobs and retries the failing
 *      one until the extension buries it. Checked at the end: each job was acked exactly once,
 *      by the right host; no live job is left; each failing job is dead after 3 attempts; each
 *      acked job's order row exists;
 *   4. wake latency: per host, with its worker blocked, this process (better-sqlite3) commits an
 *      order and its job; the worker prints when its wait returned (woke_ms, wall clock) and the
 *      commit time is read just after COMMIT returns: p50 and p90 per host.
 *
 * Prints a table (host, version, status, wake p50/p90) and exits 1 if any installed host failed.
 * A host that is not installed is skipped with its install line. The examples (the Node one
 * through the client) get HONKER_EXT_PATH = this checkout's build/Release/honker_ext.node unless HONKER_EXT_PATH
 * is set, so no npm install of honker is needed.
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineChild } from '../test/helpers/child.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** $HONKER_EXT_PATH (another build, e.g. a sanitizer one), else this checkout's `npm install` build. */
const ext = path.resolve(process.env.HONKER_EXT_PATH || path.join(root, 'build', 'Release', 'honker_ext.node'));
const out = path.join(root, 'build', 'hosts');
/** bun and deno, when .ci/run installed them with npm into build/hosts/tools. */
const toolsBin = path.join(out, 'tools', 'node_modules', '.bin');
const env = { ...process.env, HONKER_EXT_PATH: ext, PATH: `${process.env.PATH}:${toolsBin}` };

const JOBS_PER_PRODUCER = 20;
const WAKE_SAMPLES = 15;
/** Quiet time before each latency commit, so the worker is back in its wait. */
const WAKE_GAP_MS = 40;

/* --- the hosts ---------------------------------------------------------------------------- */

type Cmd = [string, string[]];

interface Host {
  name: string;
  /** What to install (apt and npm), printed when the host is skipped. */
  install: string;
  /** Why it cannot run here (a missing command or library), or undefined when it can. */
  missing(): string | undefined;
  version(): string;
  build?(): void;
  producer(db: string, queue: string, count: number): Cmd;
  worker(db: string, queue: string, id: string): Cmd;
}

const example = (lang: string, file = ''): string => path.join(root, 'examples', lang, file);

/** Run a command to completion: its stdout, or throw with its output. */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: opts.env ?? env, cwd: opts.cwd ?? root, timeout: 600_000, input: opts.input });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal ?? r.error?.message}: ${`${r.stdout}${r.stderr}`.trim().slice(-1500)}`);
  }
  return r.stdout;
}

/** The first line a command prints (stdout or stderr), '' when it cannot run. */
function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

/** The command on PATH (tools included), or undefined. */
function which(cmd: string): string | undefined {
  for (const dir of (env.PATH ?? '').split(':')) {
    const file = path.join(dir, cmd);
    if (dir && existsSync(file)) return file;
  }
  return undefined;
}

/** "no <cmd>" when a command is missing, "no <what>" when a file is missing, else undefined. */
function need(cmds: string[], files: Array<[string, string]> = []): string | undefined {
  for (const cmd of cmds) if (!which(cmd)) return `no ${cmd}`;
  for (const [file, what] of files) if (!existsSync(file)) return `no ${what} (${file})`;
  return undefined;
}

const systemPython = '/usr/bin/python3';
const goSqlite = '/usr/share/gocode/src/github.com/mattn/go-sqlite3';
const crates = '/usr/share/cargo/registry';
const jdbcJar = '/usr/share/java/sqlite-jdbc.jar';
const sqliteHeader = '/usr/include/sqlite3.h';
const denoFlags = ['run', '--allow-read', '--allow-write', '--allow-env', '--allow-run', '--allow-ffi'];
const phpFlags = ['-d', `sqlite3.extension_dir=${path.dirname(ext)}`];
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
/** A one-liner printing the SQLite version of a JavaScript runtime's own SQLite module. */
const sqliteVersionJs = (mod: string, cls: string, prepare: string): string =>
  `import { ${cls} } from '${mod}'; console.log(new ${cls}(':memory:').${prepare}('SELECT sqlite_version() AS v').get().v)`;

const hosts: Host[] = [
  {
    name: 'python',
    install: 'apt-get install python3',
    missing() {
      if (!existsSync(systemPython)) return `no ${systemPython}`;
      const r = spawnSync(systemPython, ['-c', 'import sqlite3; assert hasattr(sqlite3.Connection, "enable_load_extension")']);
      return r.status === 0 ? undefined : `${systemPython} was built without enable_load_extension`;
    },
    version: () => run(systemPython, ['-c', 'import sys, sqlite3; print(sys.version.split()[0], "SQLite", sqlite3.sqlite_version)']).trim(),
    producer: (db, q, n) => [systemPython, [example('python', 'producer.py'), db, q, String(n)]],
    worker: (db, q, id) => [systemPython, [example('python', 'worker.py'), db, q, id]],
  },
  {
    name: 'go',
    install: 'apt-get install golang-go golang-github-mattn-go-sqlite3-dev',
    missing: () => need(['go'], [[goSqlite, 'golang-github-mattn-go-sqlite3-dev']]),
    version: () => `${firstLine('go', ['version']).replace(/^go version /, '')}, go-sqlite3 (Debian)`,
    build() {
      // examples/go/go.mod names the upstream module; here a copy replaces it with Debian's source.
      const dir = path.join(out, 'go');
      mkdirSync(dir, { recursive: true });
      cpSync(example('go', 'go.mod'), path.join(dir, 'go.mod'));
      const goEnv = { ...env, GOPROXY: 'off', GOCACHE: path.join(dir, 'cache') };
      run('go', ['mod', 'edit', `-replace=github.com/mattn/go-sqlite3=${goSqlite}`, path.join(dir, 'go.mod')], { env: goEnv });
      run('go', ['build', `-modfile=${path.join(dir, 'go.mod')}`, '-o', path.join(dir, 'honker-go'), '.'], { cwd: example('go'), env: goEnv });
    },
    producer: (db, q, n) => [path.join(out, 'go', 'honker-go'), ['producer', db, q, String(n)]],
    worker: (db, q, id) => [path.join(out, 'go', 'honker-go'), ['worker', db, q, id]],
  },
  {
    name: 'ruby',
    install: 'apt-get install ruby-sqlite3',
    missing() {
      if (!which('ruby')) return 'no ruby';
      return spawnSync('ruby', ['-e', 'require "sqlite3"']).status === 0 ? undefined : 'no sqlite3 gem (ruby-sqlite3)';
    },
    version: () => run('ruby', ['-rsqlite3', '-e', 'print RUBY_VERSION, ", sqlite3 gem ", SQLite3::VERSION, ", SQLite ", SQLite3::SQLITE_VERSION']),
    producer: (db, q, n) => ['ruby', [example('ruby', 'producer.rb'), db, q, String(n)]],
    worker: (db, q, id) => ['ruby', [example('ruby', 'worker.rb'), db, q, id]],
  },
  {
    name: 'rust',
    install: 'apt-get install cargo librust-rusqlite-dev librust-serde-json-dev',
    missing: () => need(['cargo'], [[path.join(crates, 'rusqlite-0.28.0'), 'librust-rusqlite-dev']]),
    version: () => `${firstLine('rustc', ['--version']).replace(/^rustc /, '')}, rusqlite 0.28 (Debian)`,
    build() {
      // A copy of the crate, so that the Cargo.lock resolved against Debian's registry stays in build/.
      const dir = path.join(out, 'rust');
      rmSync(path.join(dir, 'crate'), { recursive: true, force: true });
      cpSync(example('rust', 'Cargo.toml'), path.join(dir, 'crate', 'Cargo.toml'));
      cpSync(example('rust', 'src'), path.join(dir, 'crate', 'src'), { recursive: true });
      writeFileSync(
        path.join(dir, 'config.toml'),
        `[source.crates-io]\nreplace-with = "debian"\n[source.debian]\ndirectory = "${crates}"\n`,
      );
      run('cargo', ['build', '--release', '--offline', '--quiet', '--config', path.join(dir, 'config.toml')], {
        cwd: path.join(dir, 'crate'),
        env: { ...env, CARGO_TARGET_DIR: path.join(dir, 'target') },
      });
    },
    producer: (db, q, n) => [path.join(out, 'rust', 'target', 'release', 'honker-example'), ['producer', db, q, String(n)]],
    worker: (db, q, id) => [path.join(out, 'rust', 'target', 'release', 'honker-example'), ['worker', db, q, id]],
  },
  {
    name: 'c',
    install: 'apt-get install gcc libsqlite3-dev',
    missing: () => need(['cc'], [[sqliteHeader, 'libsqlite3-dev']]),
    version: () => `gcc ${firstLine('cc', ['-dumpfullversion'])}, SQLite ${firstLine('sqlite3', ['--version']).split(' ')[0] || '?'}`,
    build() {
      mkdirSync(path.join(out, 'c'), { recursive: true });
      run('cc', ['-O2', '-Wall', '-Wextra', '-o', path.join(out, 'c', 'honker_example'), example('c', 'honker_example.c'), '-lsqlite3', '-ldl']);
    },
    producer: (db, q, n) => [path.join(out, 'c', 'honker_example'), ['producer', db, q, String(n)]],
    worker: (db, q, id) => [path.join(out, 'c', 'honker_example'), ['worker', db, q, id]],
  },
  {
    name: 'cpp',
    install: 'apt-get install g++ libsqlite3-dev',
    missing: () => need(['c++'], [[sqliteHeader, 'libsqlite3-dev']]),
    version: () => `g++ ${firstLine('c++', ['-dumpfullversion'])}, SQLite ${firstLine('sqlite3', ['--version']).split(' ')[0] || '?'}`,
    build() {
      mkdirSync(path.join(out, 'cpp'), { recursive: true });
      const src = example('cpp', 'honker_example.cpp');
      run('c++', ['-std=c++17', '-O2', '-Wall', '-Wextra', '-o', path.join(out, 'cpp', 'honker_example'), src, '-lsqlite3']);
    },
    producer: (db, q, n) => [path.join(out, 'cpp', 'honker_example'), ['producer', db, q, String(n)]],
    worker: (db, q, id) => [path.join(out, 'cpp', 'honker_example'), ['worker', db, q, id]],
  },
  {
    name: 'java',
    install: 'apt-get install default-jdk-headless libxerial-sqlite-jdbc-java',
    missing: () => need(['java', 'javac'], [[jdbcJar, 'libxerial-sqlite-jdbc-java']]),
    version: () => `${firstLine('java', ['-version']).replace(/^openjdk version /, 'OpenJDK ')}, sqlite-jdbc (Debian)`,
    build() {
      run('javac', ['-d', path.join(out, 'java'), '-cp', jdbcJar, example('java', 'HonkerExample.java')]);
    },
    producer: (db, q, n) => ['java', ['-cp', `${jdbcJar}:${path.join(out, 'java')}`, 'HonkerExample', 'producer', db, q, String(n)]],
    worker: (db, q, id) => ['java', ['-cp', `${jdbcJar}:${path.join(out, 'java')}`, 'HonkerExample', 'worker', db, q, id]],
  },
  {
    name: 'bun',
    install: 'npm install bun',
    missing: () => need(['bun']),
    version: () => `${firstLine('bun', ['--version'])}, bun:sqlite, SQLite ${run('bun', ['-e', sqliteVersionJs('bun:sqlite', 'Database', 'query')]).trim()}`,
    producer: (db, q, n) => ['bun', [example('bun', 'producer.ts'), db, q, String(n)]],
    worker: (db, q, id) => ['bun', [example('bun', 'worker.ts'), db, q, id]],
  },
  {
    name: 'deno',
    install: 'npm install deno',
    missing: () => need(['deno']),
    version: () => `${firstLine('deno', ['--version']).replace(/^deno /, '').replace(/ \(.*/, '')}, node:sqlite, SQLite ${run('deno', ['eval', sqliteVersionJs('node:sqlite', 'DatabaseSync', 'prepare')]).trim()}`,
    producer: (db, q, n) => ['deno', [...denoFlags, example('deno', 'producer.ts'), db, q, String(n)]],
    worker: (db, q, id) => ['deno', [...denoFlags, example('deno', 'worker.ts'), db, q, id]],
  },
  {
    name: 'elixir',
    install: 'apt-get install elixir erlang-p1-sqlite3',
    missing() {
      if (!which('elixir')) return 'no elixir';
      const r = spawnSync('erl', ['-noshell', '-eval', 'halt(case code:which(sqlite3) of non_existing -> 1; _ -> 0 end).']);
      return r.status === 0 ? undefined : 'no Erlang sqlite3 driver (erlang-p1-sqlite3)';
    },
    version: () => `${run('elixir', ['--version']).trim().split('\n').at(-1)}, p1_sqlite3 (Debian)`,
    producer: (db, q, n) => ['elixir', [example('elixir', 'producer.exs'), db, q, String(n)]],
    worker: (db, q, id) => ['elixir', [example('elixir', 'worker.exs'), db, q, id]],
  },
  {
    name: 'php',
    install: 'apt-get install php-cli php-sqlite3',
    missing() {
      if (!which('php')) return 'no php';
      return spawnSync('php', ['-r', 'exit(class_exists("SQLite3") ? 0 : 1);']).status === 0 ? undefined : 'no SQLite3 class (php-sqlite3)';
    },
    version: () => run('php', ['-r', 'echo PHP_VERSION, ", SQLite ", SQLite3::version()["versionString"];']),
    producer: (db, q, n) => ['php', [...phpFlags, example('php', 'producer.php'), db, q, String(n)]],
    worker: (db, q, id) => ['php', [...phpFlags, example('php', 'worker.php'), db, q, id]],
  },
  {
    name: 'node',
    install: 'npm install honker tsx (here: npm install && npm run build:ts)',
    missing: () => need([], [[path.join(root, 'dist', 'index.js'), 'dist/ (npm run build:ts)'], [tsx, 'tsx']]),
    version: () => `${process.version}, the honker package (better-sqlite3)`,
    // The package loads its own library: HONKER_EXT_PATH is its override.
    producer: (db, q, n) => [tsx, [example('node', 'producer.ts'), db, q, String(n)]],
    worker: (db, q, id) => [tsx, [example('node', 'worker.ts'), db, q, id]],
  },
  {
    name: 'perl',
    install: 'apt-get install libdbd-sqlite3-perl',
    missing() {
      if (!which('perl')) return 'no perl';
      return spawnSync('perl', ['-MDBD::SQLite', '-e', '1']).status === 0 ? undefined : 'no DBD::SQLite (libdbd-sqlite3-perl)';
    },
    version: () => run('perl', ['-MDBD::SQLite', '-e', 'printf "%vd, DBD::SQLite %s, SQLite %s", $^V, $DBD::SQLite::VERSION, $DBD::SQLite::sqlite_version']),
    producer: (db, q, n) => ['perl', [example('perl', 'producer.pl'), db, q, String(n)]],
    worker: (db, q, id) => ['perl', [example('perl', 'worker.pl'), db, q, id]],
  },
  {
    name: 'tcl',
    install: 'apt-get install tcl libsqlite3-tcl',
    missing() {
      if (!which('tclsh')) return 'no tclsh';
      const r = spawnSync('tclsh', [], { input: 'exit [catch {package require sqlite3}]\n' });
      return r.status === 0 ? undefined : 'no sqlite3 Tcl package (libsqlite3-tcl)';
    },
    version: () => run('tclsh', [], { input: 'package require sqlite3; sqlite3 db :memory:; puts "[info patchlevel], SQLite [db version]"' }).trim(),
    producer: (db, q, n) => ['tclsh', [example('tcl', 'producer.tcl'), db, q, String(n)]],
    worker: (db, q, id) => ['tclsh', [example('tcl', 'worker.tcl'), db, q, id]],
  },
  {
    name: 'erlang',
    install: 'apt-get install erlang-p1-sqlite3',
    missing() {
      if (!which('escript')) return 'no escript';
      const r = spawnSync('erl', ['-noshell', '-eval', 'halt(case code:which(sqlite3) of non_existing -> 1; _ -> 0 end).']);
      return r.status === 0 ? undefined : 'no Erlang sqlite3 driver (erlang-p1-sqlite3)';
    },
    version: () => `OTP ${run('erl', ['-noshell', '-eval', 'io:put_chars(erlang:system_info(otp_release)), halt().'])}, p1_sqlite3 (Debian)`,
    producer: (db, q, n) => ['escript', [example('erlang', 'honker_example.escript'), 'producer', db, q, String(n)]],
    worker: (db, q, id) => ['escript', [example('erlang', 'honker_example.escript'), 'worker', db, q, id]],
  },
];

/* --- bookkeeping -------------------------------------------------------------------------- */

interface Row {
  host: Host;
  version: string;
  status: 'ok' | 'skipped' | 'failed';
  why: string;
  wakes: number[];
  /** Wake samples dropped: the worker was already awake when we committed. */
  early: number;
  /** The queue its worker claims from. */
  queue: string;
  worker?: LineChild<WorkerLine>;
}

interface WorkerLine {
  id: number;
  attempts: number;
  outcome: 'acked' | 'retried';
  woke_ms: number;
}

const rows: Row[] = hosts.map((host) => ({ host, version: '', status: 'ok', why: '', wakes: [], early: 0, queue: '' }));
const live = (): Row[] => rows.filter((r) => r.status === 'ok');
const nowMs = (): number => performance.timeOrigin + performance.now();

function fail(row: Row, why: unknown): void {
  if (row.status !== 'ok') return;
  row.status = 'failed';
  row.why = (why instanceof Error ? why.message : String(why)).replace(/\s+/g, ' ').slice(0, 400);
  console.log(`  ${row.host.name}: FAILED ${row.why}`);
}

function timed<T>(what: string, fn: () => T): T {
  const t0 = Date.now();
  const r = fn();
  console.log(`  ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

async function timedAsync<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  const r = await fn();
  console.log(`== ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/* --- the phases --------------------------------------------------------------------------- */

function detectAndBuild(): void {
  console.log('== detect and build');
  if (!existsSync(ext)) throw new Error(`${ext} is missing: run npm run build first`);
  for (const row of rows) {
    const why = row.host.missing();
    if (why) {
      row.status = 'skipped';
      row.why = `${why}; install: ${row.host.install}`;
      console.log(`  ${row.host.name}: skipped (${row.why})`);
      continue;
    }
    try {
      row.version = row.host.version().trim();
      if (row.host.build) timed(`build ${row.host.name}`, () => row.host.build!());
    } catch (err) {
      fail(row, err);
    }
  }
}

/** Open the shared file from this process: WAL, the extension, honker's tables. */
function openDb(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.loadExtension(ext);
  db.prepare('SELECT honker_bootstrap()').get();
  db.exec('CREATE TABLE IF NOT EXISTS orders(id INTEGER PRIMARY KEY, item TEXT NOT NULL)');
  return db;
}

async function startWorkers(db: Database.Database, file: string): Promise<void> {
  const enqueue = db.prepare('SELECT honker_enqueue(?, ?, NULL, NULL, 0, 3, NULL)').pluck();
  await Promise.all(
    live().map(async (row, i) => {
      row.queue = `ring-${i}`;
      const [cmd, args] = row.host.worker(file, row.queue, row.host.name);
      row.worker = LineChild.json<WorkerLine>(cmd, args, { env, label: `${row.host.name} worker`, timeoutMs: 60_000 });
      // The first ack shows the worker is up (JVM, BEAM and compilers included) and waiting.
      const warmup = enqueue.get(row.queue, '{"warmup":true}') as number;
      try {
        await row.worker.waitFor((l) => l.id === warmup && l.outcome === 'acked');
      } catch (err) {
        fail(row, err);
      }
    }),
  );
}

async function ring(db: Database.Database, file: string): Promise<void> {
  const ring = live();
  const n = ring.length;
  if (n === 0) return;
  // Each queue gets one job whose handler fails: retried until dead (3 attempts, 1 s apart).
  const poison = ring.map((row) => db.prepare("SELECT honker_enqueue(?, '{\"fail\":true}', NULL, NULL, 0, 3, NULL)").pluck().get(row.queue) as number);
  // Host i's producer feeds host i+1's worker (its queue), all at once.
  const produced = await Promise.all(
    ring.map(async (row, i) => {
      const [cmd, args] = row.host.producer(file, ring[(i + 1) % n].queue, JOBS_PER_PRODUCER);
      try {
        const lines = await LineChild.json<{ order: number; job: number }>(cmd, args, { env, label: `${row.host.name} producer` }).finish(60_000);
        if (lines.length !== JOBS_PER_PRODUCER) throw new Error(`printed ${lines.length} jobs, not ${JOBS_PER_PRODUCER}`);
        return lines;
      } catch (err) {
        fail(row, `producer: ${err instanceof Error ? err.message : err}`);
        return [];
      }
    }),
  );
  // Each worker acks its predecessor's jobs and retries its failing job 3 times.
  await Promise.all(
    ring.map(async (row, i) => {
      const from = produced[(i - 1 + n) % n];
      const want = new Set(from.map((l) => l.job));
      try {
        await row.worker!.until(
          `acks of ${want.size} jobs from ${ring[(i - 1 + n) % n].host.name} and 3 retries of job ${poison[i]}`,
          () => {
            const acked = row.worker!.lines.filter((l) => l.outcome === 'acked' && want.has(l.id)).length;
            const retried = row.worker!.lines.filter((l) => l.outcome === 'retried' && l.id === poison[i]).length;
            return acked >= want.size && retried >= 3;
          },
          30_000,
        );
      } catch (err) {
        fail(row, err);
      }
    }),
  );
  // The tables agree: every job acked exactly once, by the host whose queue it was on.
  const ackedBy = new Map<number, string[]>();
  for (const row of ring) for (const l of row.worker!.lines) if (l.outcome === 'acked') ackedBy.set(l.id, [...(ackedBy.get(l.id) ?? []), row.host.name]);
  const orderExists = db.prepare('SELECT count(*) FROM orders WHERE id = ?').pluck();
  const liveRows = db.prepare('SELECT count(*) FROM _honker_live WHERE queue = ?').pluck();
  const dead = db.prepare('SELECT attempts, last_error FROM _honker_dead WHERE id = ?');
  ring.forEach((row, i) => {
    const consumer = ring[(i + 1) % n];
    for (const { order, job } of produced[i]) {
      const by = ackedBy.get(job) ?? [];
      if (by.length !== 1 || by[0] !== consumer.host.name) fail(consumer, `job ${job} from ${row.host.name} was acked by [${by.join(', ')}], want ${consumer.host.name} once`);
      if (orderExists.get(order) !== 1) fail(row, `order ${order} of job ${job} is not in orders`);
    }
    const left = liveRows.get(row.queue) as number;
    if (left !== 0) fail(row, `${left} jobs left in ${row.queue}`);
    const d = dead.get(poison[i]) as { attempts: number; last_error: string } | undefined;
    if (d?.attempts !== 3 || d.last_error !== 'payload asked to fail') fail(row, `failing job ${poison[i]} is not dead after 3 attempts: ${JSON.stringify(d)}`);
  });
  console.log(`  ${n} hosts, ${n * JOBS_PER_PRODUCER} jobs around the ring, ${n} failing jobs dead after 3 attempts`);
}

async function wakeRounds(db: Database.Database): Promise<void> {
  const insert = db.prepare('INSERT INTO orders(item) VALUES (?)');
  const enqueue = db.prepare("SELECT honker_enqueue(?, json_object('order', ?), NULL, NULL, 0, 3, NULL)").pluck();
  for (const row of live()) {
    // A sample counts only when the worker was waiting: a wake before our BEGIN means another
    // commit had woken it and it found our job on its way (then the round takes one more).
    for (let s = 0; row.wakes.length < WAKE_SAMPLES && s < 3 * WAKE_SAMPLES && row.status === 'ok'; s++) {
      await new Promise((r) => setTimeout(r, WAKE_GAP_MS));
      const beginMs = nowMs();
      db.exec('BEGIN IMMEDIATE');
      const order = insert.run(`wake ${row.host.name} ${s}`).lastInsertRowid;
      const job = enqueue.get(row.queue, order) as number;
      db.exec('COMMIT');
      const committedMs = nowMs();
      try {
        const line = await row.worker!.waitFor((l) => l.id === job, 10_000);
        if (line.woke_ms >= beginMs) row.wakes.push(line.woke_ms - committedMs);
        else row.early++;
        if (process.env.HOSTS_DEBUG) console.log(row.host.name, s, (line.woke_ms - committedMs).toFixed(3), JSON.stringify(line));
      } catch (err) {
        fail(row, `wake: ${err instanceof Error ? err.message : err}`);
      }
    }
    if (row.status === 'ok' && row.wakes.length < WAKE_SAMPLES) fail(row, `only ${row.wakes.length} of ${WAKE_SAMPLES} commits found the worker waiting`);
  }
}

function report(): void {
  const table = [['HOST', 'VERSION', 'STATUS', 'WAKE P50', 'P90']];
  for (const r of rows) {
    const status = r.status === 'ok' ? 'ok' : `${r.status}: ${r.why}`;
    const p = (q: number): string => (r.wakes.length ? `${percentile(r.wakes, q).toFixed(2)} ms` : '-');
    table.push([r.host.name, r.version || '-', status, r.status === 'ok' ? p(50) : '-', r.status === 'ok' ? p(90) : '-']);
  }
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  console.log('');
  for (const row of table) console.log(row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join('  '));
  console.log(`\n(wake: ${WAKE_SAMPLES} commits per host from this process (better-sqlite3) while that host's worker waits; its time to wake, wall clock)`);
}

async function main(): Promise<number> {
  const t0 = Date.now();
  detectAndBuild();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-hosts-'));
  const file = path.join(dir, 'ring.db');
  const db = openDb(file);
  try {
    await timedAsync('workers up', () => startWorkers(db, file));
    await timedAsync('ring', () => ring(db, file));
    await timedAsync('wake rounds', () => wakeRounds(db));
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new Error(`integrity_check: ${integrity}`);
  } finally {
    for (const r of rows) {
      // A worker that ended on its own says why on stderr.
      if (r.worker && !r.worker.running) fail(r, `worker exited (${r.worker.exitCode ?? r.worker.signalCode}): ${r.worker.stderr.trim()}`);
      if (r.worker?.running) {
        r.worker.signal('SIGTERM');
        const killed = setTimeout(() => r.worker?.signal('SIGKILL'), 3000);
        await r.worker.exited;
        clearTimeout(killed);
      }
    }
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  report();
  const failed = rows.filter((r) => r.status === 'failed').length;
  const ok = rows.filter((r) => r.status === 'ok').length;
  const skipped = rows.filter((r) => r.status === 'skipped').length;
  console.log(`\ntest:hosts: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`${ok} passed, ${failed} failed, ${skipped} skipped`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`test:hosts: ${err instanceof Error ? err.stack : err}`);
    process.exit(1);
  },
);
