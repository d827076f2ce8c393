/**
 * A throwaway PostgreSQL server for the tests and the benches: Debian's
 * postgresql-15 (or whatever `HONKER_PG_BIN`, `/usr/lib/postgresql/<v>/bin`
 * or `pg_config --bindir` names), started on a free loopback port in a
 * temporary data directory and stopped (the directory removed) by stop().
 *
 *   const server = await startPgServer();        // ~0.5 s once the template exists
 *   const url = await server.createDatabase();   // a fresh database per test
 *   await server.restart();                      // pg_ctl restart, same port and data
 *   await server.stop();
 *
 * How:
 *   - initdb runs once per machine and version into a template directory
 *     under os.tmpdir() (built under a lock directory, so parallel test
 *     files wait for one initdb); each server copies it (`cp -a`, ~0.1 s);
 *   - as root (CI, this machine) the server runs as the `postgres` user
 *     through setpriv, which Debian's package creates; PostgreSQL refuses
 *     to run as root;
 *   - the postmaster is this process's child with PR_SET_PDEATHSIG (setpriv
 *     --pdeathsig SIGQUIT): if the test process dies, the server stops with
 *     it instead of outliving the run;
 *   - trust authentication on 127.0.0.1 only; fsync off unless asked (the
 *     benches keep the defaults: fsync on, synchronous_commit on).
 * pgBinDir() is undefined when no server is installed: the Postgres tests
 * are then declared skipped with that reason (test/helpers/pg.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The directory of initdb and postgres, or undefined when PostgreSQL is not installed. */
export function pgBinDir(): string | undefined {
  const env = process.env.HONKER_PG_BIN;
  if (env) return existsSync(path.join(env, 'postgres')) ? env : undefined;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(path.join(debian, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(debian, versions[0], 'bin');
  }
  const r = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const dir = r.status === 0 ? r.stdout.trim() : '';
  return dir && existsSync(path.join(dir, 'postgres')) ? dir : undefined;
}

/** Why there is no server to test against, or undefined when there is one. */
export function pgMissingReason(): string | undefined {
  if (pgBinDir()) return undefined;
  return 'PostgreSQL is not installed (apt-get install postgresql-15, or set HONKER_PG_BIN)';
}

const isRoot = process.getuid?.() === 0;

/** The uid/gid the server runs as: postgres when we are root, else ourselves. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (!isRoot) return undefined;
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) throw new Error('pg-server: running as root needs a "postgres" user (Debian\'s postgresql package creates it)');
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** argv prefixed to run as the server user (setpriv), with a parent-death signal when asked. */
function asServer(argv: string[], pdeathsig = false): string[] {
  const u = serverUser();
  const death = pdeathsig ? ['--pdeathsig', 'SIGQUIT'] : [];
  if (!u) return pdeathsig ? ['setpriv', ...death, ...argv] : argv;
  return ['setpriv', ...death, `--reuid=${u.uid}`, `--regid=${u.gid}`, '--clear-groups', ...argv];
}

function chownTree(dir: string): void {
  const u = serverUser();
  if (!u) return;
  spawnSync('chown', ['-R', `${u.uid}:${u.gid}`, dir]);
}

function run(argv: string[], what: string): void {
  const [cmd, ...args] = argv;
  const r = spawnSync(cmd!, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pg-server: ${what} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The template data directory of this bin dir (initdb once, under a lock). */
async function template(bin: string): Promise<string> {
  const version = spawnSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.replace(/\D+/g, '.');
  const key = `${version}-${isRoot ? 'pg' : process.getuid?.()}`;
  const base = path.join(os.tmpdir(), `honker-pg-template-${key}`);
  const data = path.join(base, 'data');
  const ready = path.join(base, 'ready');
  const lock = `${base}.lock`;
  for (let waited = 0; !existsSync(ready); waited += 50) {
    try {
      mkdirSync(lock);
    } catch {
      // Another process is building it (or died doing so: a lock older than 60 s is taken over).
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!?.mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
      await sleep(50);
      continue;
    }
    try {
      if (!existsSync(ready)) {
        rmSync(base, { recursive: true, force: true });
        mkdirSync(base, { recursive: true });
        chownTree(base);
        run(asServer([path.join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']), 'initdb');
        writeFileSync(ready, '');
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return data;
}

/** A free TCP port on 127.0.0.1 (the kernel's choice; a race with another process is retried by start). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PgServerOptions {
  /** fsync and synchronous_commit on (default false: tests need no durability). */
  durable?: boolean;
  /** max_connections (default 200). */
  maxConnections?: number;
}

export interface PgServer {
  readonly port: number;
  readonly dataDir: string;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  /** CREATE DATABASE with a fresh name; returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** Run one SQL string through psql against a database (default postgres); returns stdout. */
  psql(sql: string, database?: string): string;
  /** Stop (fast shutdown) and start again on the same port and data. */
  restart(): Promise<void>;
  /** Stop the server and remove its directory. */
  stop(): Promise<void>;
}

let dbCounter = 0;

/** Start a server (see the file header). */
export async function startPgServer(options: PgServerOptions = {}): Promise<PgServer> {
  const bin = pgBinDir();
  if (!bin) throw new Error(`pg-server: ${pgMissingReason()}`);
  const tpl = await template(bin);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-pg-'));
  const dataDir = path.join(dir, 'data');
  cpSync(tpl, dataDir, { recursive: true });
  const sockets = path.join(dir, 'sock');
  mkdirSync(sockets);
  chownTree(dir);
  spawnSync('chmod', ['700', dataDir]);
  const durable = options.durable === true;
  const settings = [
    `listen_addresses=127.0.0.1`,
    `unix_socket_directories=${sockets}`,
    `max_connections=${options.maxConnections ?? 200}`,
    `fsync=${durable ? 'on' : 'off'}`,
    `synchronous_commit=${durable ? 'on' : 'off'}`,
    `full_page_writes=${durable ? 'on' : 'off'}`,
    'shared_buffers=128MB',
    'log_min_messages=warning',
    'logging_collector=off',
  ];
  let port = 0;
  let child: ChildProcess | undefined;
  const logFile = path.join(dir, 'server.log');

  const start = async (): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      if (port === 0 || attempt > 1) port = await freePort();
      const out = openSync(logFile, 'a');
      const argv = asServer([path.join(bin, 'postgres'), '-D', dataDir, '-p', String(port), ...settings.flatMap((s) => ['-c', s])], true);
      const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', out, out] });
      proc.unref();
      let exited = false;
      proc.on('exit', () => (exited = true));
      const end = Date.now() + 30_000;
      while (!exited && Date.now() < end) {
        const r = spawnSync(path.join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q'], { stdio: 'ignore' });
        if (r.status === 0) {
          child = proc;
          return;
        }
        await sleep(50);
      }
      if (!exited) proc.kill('SIGQUIT');
      const log = readFileSync(logFile, 'utf8');
      if (attempt < 3 && /could not bind|Address already in use/.test(log)) continue;
      throw new Error(`pg-server: postgres did not start on port ${port}: ${log.slice(-2000)}`);
    }
  };

  const halt = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    // setpriv runs postgres in its own process (exec): SIGINT is postgres' fast shutdown.
    proc.kill('SIGINT');
    const timer = setTimeout(() => proc.kill('SIGQUIT'), 10_000);
    await gone;
    clearTimeout(timer);
  };

  await start();
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const psql = (sql: string, database = 'postgres'): string => {
    const r = spawnSync(path.join(bin, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url(database), '-c', sql], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pg-server: psql failed: ${r.stderr}`);
    return r.stdout;
  };
  return {
    get port() {
      return port;
    },
    dataDir,
    url,
    psql,
    async createDatabase(prefix = 'honker_test') {
      const name = `${prefix}_${process.pid}_${++dbCounter}`;
      psql(`CREATE DATABASE ${name}`);
      return url(name);
    },
    async restart() {
      await halt();
      await start();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
