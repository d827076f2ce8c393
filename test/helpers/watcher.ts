/**
 * Helpers of the watcher tests: build test/c/watcher_wait.c (the C ABI
 * driver) and talk to a child process one line at a time (that program, or
 * test/fixtures/watcher-sql.py for the SQL functions).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extPath, extStem, repoRoot, systemPython } from './db.js';

let binary: string | undefined;

/** The environment for children: without the ASan preload when `keepPreload` is false. */
function childEnv(keepPreload: boolean): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (!keepPreload) delete env.LD_PRELOAD;
  return env;
}

/** Under the ASan run (LD_PRELOAD has libasan) the driver is built sanitized too. */
const sanitized = (process.env.LD_PRELOAD ?? '').includes('libasan');

/** Compile test/c/watcher_wait.c once per test process; returns the binary's path. */
export function watcherWaitBinary(): string {
  if (binary) return binary;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'honker-watcher-c-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'watcher_wait');
  const flags = ['-std=c11', '-Wall', '-Wextra', '-Werror', '-g'];
  if (sanitized) flags.push('-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer');
  const r = spawnSync(
    'cc',
    [...flags, '-I', path.join(repoRoot, 'ext'), '-o', out, path.join(repoRoot, 'test', 'c', 'watcher_wait.c'), '-ldl', '-lsqlite3', '-lpthread'],
    { encoding: 'utf8', env: childEnv(false) },
  );
  if (r.status !== 0) throw new Error(`cc test/c/watcher_wait.c failed:\n${r.stderr}`);
  binary = out;
  return out;
}

/** A child process spoken to in lines: send a command, read the reply line. */
export class LineProcess {
  readonly child: ChildProcessWithoutNullStreams;
  private buffered = '';
  private lines: string[] = [];
  private readers: Array<(line: string | undefined) => void> = [];
  private exited = false;
  stderr = '';

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => {
      this.buffered += chunk;
      let nl;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const reader = this.readers.shift();
        if (reader) reader(line);
        else this.lines.push(line);
      }
    });
    this.child.stderr.on('data', (d) => (this.stderr += d));
    this.child.on('close', () => {
      this.exited = true;
      for (const r of this.readers.splice(0)) r(undefined);
    });
  }

  /** The next line of output; rejects after timeoutMs or when the child exits. */
  next(timeoutMs = 15_000): Promise<string> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.exited) return Promise.reject(new Error(`child exited; stderr: ${this.stderr}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readers = this.readers.filter((r) => r !== reader);
        reject(new Error(`no reply within ${timeoutMs} ms; stderr: ${this.stderr}`));
      }, timeoutMs);
      const reader = (line: string | undefined) => {
        clearTimeout(timer);
        if (line === undefined) reject(new Error(`child exited; stderr: ${this.stderr}`));
        else resolve(line);
      };
      this.readers.push(reader);
    });
  }

  send(command: string): void {
    this.child.stdin.write(`${command}\n`);
  }

  /** Send a command and return its reply line. */
  ask(command: string, timeoutMs?: number): Promise<string> {
    this.send(command);
    return this.next(timeoutMs);
  }

  /** Send quit and wait for the exit code (the child is killed after 15 s). */
  quit(): Promise<number | null> {
    if (this.exited) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      this.child.on('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
      this.child.stdin.end('quit\n');
    });
  }
}

/** Start the C ABI driver on dbFile (the file must exist). `noLoad`: skip load_extension. */
export async function startCDriver(dbFile: string, opts: { noLoad?: boolean } = {}): Promise<LineProcess> {
  const args = [extPath, dbFile];
  if (opts.noLoad) args.push('--no-load');
  return new LineProcess(watcherWaitBinary(), args, childEnv(sanitized));
}

/** Start test/fixtures/watcher-sql.py (the SQL functions in /usr/bin/python3) on dbFile. */
export function startSqlDriver(dbFile: string): LineProcess {
  const script = path.join(repoRoot, 'test', 'fixtures', 'watcher-sql.py');
  return new LineProcess(systemPython, [script], { ...childEnv(true), DB: dbFile, EXT: extStem });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
