/**
 * The one child-process line reader of the tests and the benches. A
 * LineChild spawns a process and reads its stdout line by line, as text
 * (`LineChild.text`) or as one JSON value per line (`LineChild.json`: blank
 * lines are skipped, any other line that is not JSON fails every wait and
 * the test). A test awaits the next line, the next line matching a
 * predicate, the first line (from some index) matching one, or any
 * condition on what the child printed; each wait has a timeout, and its
 * error names the child, its last lines and the tail of its stderr.
 *
 * In a test, start children through `owned(t, …)` or `fixtureChild(t, …)`:
 * the test's teardown then kills (SIGKILL) and reaps any child still
 * running, so nothing outlives its test. A bench has no teardown: it awaits
 * `finish()` itself.
 *
 * It lives in test/helpers because the benches already borrow the tests'
 * helpers (repoRoot, the watcher fixture and its driver): bench/*.ts import
 * it from here rather than keep a copy of their own.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './db.js';

/** One line of a JSON-speaking child. */
export type Line = Record<string, unknown>;

/** The default bound of every wait. */
// Under the sanitizers (npm run test:sanitize) every child node preloads ASan and UBSan: a child
// that starts tsx and opens a watcher took over 30 s to print its first line under that suite's load.
const DEFAULT_TIMEOUT_MS = process.env.HONKER_SANITIZED === '1' ? 60_000 : 30_000;
/** How much of stderr an error quotes. */
const STDERR_TAIL = 2000;

export interface LineChildOptions<L> {
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** The child's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Names the child in errors (default: the command's file name). */
  label?: string;
  /** Default bound of each wait in ms (default 30 s; Infinity: none). */
  timeoutMs?: number;
  /** Called with each line as it arrives, before any wait sees it. */
  onLine?: (line: L) => void;
}

/** A pending wait: poll() settles it once its condition holds or the child is gone. */
interface Waiter {
  poll(): void;
  fail(err: Error): void;
}

/** A child process whose stdout is read line by line; see the file header. */
export class LineChild<L = string> {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly label: string;
  /** Every complete stdout line so far, in order (a partial last line at exit is dropped). */
  readonly lines: L[] = [];
  /** Everything the child wrote on stdout, as text. */
  stdout = '';
  stderr = '';
  /** The exit code once the child exited and its output was read (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  private readonly reaped: Promise<void>;
  private readonly defaultTimeoutMs: number;
  private readonly onLine?: (line: L) => void;
  private readonly waiters = new Set<Waiter>();
  private buffered = '';
  /** Index of the next line next() returns. */
  private cursor = 0;
  private closed = false;
  /** A JSON child printed a line that is not JSON (or the spawn failed). */
  private failure: Error | undefined;

  /** A child whose lines are kept as text (blank lines too). */
  static text(command: string, args: string[], opts: LineChildOptions<string> = {}): LineChild<string> {
    return new LineChild<string>(command, args, false, opts);
  }

  /** A child that prints one JSON value per line. */
  static json<L = Line>(command: string, args: string[], opts: LineChildOptions<L> = {}): LineChild<L> {
    return new LineChild<L>(command, args, true, opts);
  }

  protected constructor(
    command: string,
    args: string[],
    private readonly json: boolean,
    opts: LineChildOptions<L>,
  ) {
    this.label = opts.label ?? path.basename(command);
    this.defaultTimeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.onLine = opts.onLine;
    this.proc = spawn(command, args, { cwd: opts.cwd ?? repoRoot, env: opts.env ?? process.env, stdio: 'pipe' });
    this.proc.stdin.on('error', () => undefined); // EPIPE when the child is gone: its exit tells the story
    this.proc.stdout.setEncoding('utf8');
    this.proc.stderr.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk: string) => this.read(chunk));
    this.proc.stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
      this.wake();
    });
    this.proc.on('error', (err) => this.fail(new Error(`${this.label}: ${err.message}`)));
    this.reaped = new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.once('close', () => resolve());
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('close', (code, signal) => {
        this.closed = true;
        this.exitCode = code;
        this.signalCode = signal;
        this.wake();
        resolve(code);
      });
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  /** Until the child exited and its output was read. */
  get running(): boolean {
    return !this.closed;
  }

  /* --- waiting ------------------------------------------------------------ */

  /** Resolve once cond() holds (checked on each output and at exit); `what` names it in errors. */
  until(what: string, cond: () => boolean, timeoutMs = this.defaultTimeoutMs): Promise<void> {
    return this.wait(what, () => (cond() ? true : undefined), timeoutMs).then(() => undefined);
  }

  /** The next line not yet returned by next(), readUntil() or finish(). */
  next<T = L>(timeoutMs = this.defaultTimeoutMs): Promise<T> {
    return this.wait(`line ${this.cursor + 1}`, () => (this.cursor < this.lines.length ? [this.lines[this.cursor++]] : undefined), timeoutMs).then(
      ([line]) => line as unknown as T,
    );
  }

  /** The next line parsed as JSON (for a text child that answers in JSON). */
  async nextJson<T = Line>(timeoutMs = this.defaultTimeoutMs): Promise<T> {
    return JSON.parse(String(await this.next(timeoutMs))) as T;
  }

  /** The next lines up to the first that matches pred (that one included). */
  readUntil<T = L>(pred: (line: T) => boolean, timeoutMs = this.defaultTimeoutMs): Promise<T[]> {
    const read: T[] = [];
    return this.wait(
      'a matching line',
      () => {
        while (this.cursor < this.lines.length) {
          const line = this.lines[this.cursor++] as unknown as T;
          read.push(line);
          if (pred(line)) return read;
        }
        return undefined;
      },
      timeoutMs,
    );
  }

  /** The next line that matches pred (the lines before it are read past). */
  async nextMatching<T = L>(pred: (line: T) => boolean, timeoutMs = this.defaultTimeoutMs): Promise<T> {
    return (await this.readUntil(pred, timeoutMs)).at(-1)!;
  }

  /** The first line from index `from` on that matches pred, whether read or not (next() is not moved). */
  waitFor<T = L>(pred: (line: T) => boolean, timeoutMs = this.defaultTimeoutMs, from = 0): Promise<T> {
    let scanned = from;
    return this.wait(
      'a matching line',
      () => {
        for (; scanned < this.lines.length; scanned++) {
          const line = this.lines[scanned] as unknown as T;
          if (pred(line)) return line;
        }
        return undefined;
      },
      timeoutMs,
    );
  }

  /** The first n lines. */
  async first(n: number, timeoutMs = this.defaultTimeoutMs): Promise<L[]> {
    await this.until(`${n} lines`, () => this.lines.length >= n, timeoutMs);
    return this.lines.slice(0, n);
  }

  /** Resolve once stderr holds marker (e.g. a "listening on" banner). */
  waitForStderr(marker: string, timeoutMs = this.defaultTimeoutMs): Promise<void> {
    return this.until(`'${marker}' on stderr`, () => this.stderr.includes(marker), timeoutMs);
  }

  /** The lines (of a JSON child) whose `kind` is kind. */
  of(kind: string): L[] {
    return this.lines.filter((l) => (l as Line).kind === kind);
  }

  /* --- talking and ending ------------------------------------------------- */

  /** Write one line on the child's stdin. */
  send(line: string): void {
    this.proc.stdin.write(`${line}\n`);
  }

  /** Send a line and return the next line (its answer). */
  ask(line: string, timeoutMs = this.defaultTimeoutMs): Promise<L> {
    this.send(line);
    return this.next(timeoutMs);
  }

  /** Send a signal if the child still runs. */
  signal(sig: NodeJS.Signals): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(sig);
  }

  /** Send a signal (SIGKILL by default) and resolve with the exit code. */
  kill(sig: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    this.signal(sig);
    return this.exited;
  }

  /** Close the child's stdin, after writing one last line when given. */
  end(line?: string): void {
    if (!this.closed) this.proc.stdin.end(line === undefined ? undefined : `${line}\n`);
  }

  /**
   * Close stdin (after writing `say`, e.g. "quit") and resolve with the exit
   * code; SIGKILL after killAfterMs (default: never).
   */
  async stop(opts: { say?: string; killAfterMs?: number } = {}): Promise<number | null> {
    this.end(opts.say);
    const ms = opts.killAfterMs ?? Infinity;
    const timer = Number.isFinite(ms) ? setTimeout(() => this.signal('SIGKILL'), ms) : undefined;
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Await the exit (SIGKILL after timeoutMs) and return the lines next() has
   * not returned; throws when the child exited other than with 0.
   */
  async finish(timeoutMs = this.defaultTimeoutMs): Promise<L[]> {
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => this.signal('SIGKILL'), timeoutMs) : undefined;
    const code = await this.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`${this.label} exited with ${code ?? this.signalCode}; ${this.tail()}`);
    if (this.failure) throw this.failure;
    const rest = this.lines.slice(this.cursor);
    this.cursor = this.lines.length;
    return rest;
  }

  /** Kill the child if it still runs and wait until it is reaped; throws a JSON child's protocol error. */
  async close(): Promise<void> {
    this.signal('SIGKILL');
    await this.reaped;
    if (this.failure) throw this.failure;
  }

  /* --- internals ---------------------------------------------------------- */

  /** The child's recent output, for error messages. */
  private tail(): string {
    const lines = this.lines.slice(-5).map((l) => (typeof l === 'string' ? l : JSON.stringify(l)));
    return `last lines: ${JSON.stringify(lines)}; stderr: ${this.stderr.slice(-STDERR_TAIL)}`;
  }

  private read(chunk: string): void {
    this.stdout += chunk;
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const text = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (!this.json) this.push(text as L);
      else if (text.trim() !== '') {
        let value: L;
        try {
          value = JSON.parse(text) as L;
        } catch {
          this.fail(new Error(`${this.label} printed a line that is not JSON: ${text.slice(0, 500)}`));
          continue;
        }
        this.push(value);
      }
    }
    this.wake();
  }

  private push(line: L): void {
    this.lines.push(line);
    this.onLine?.(line);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of [...this.waiters]) w.fail(this.failure);
  }

  private wake(): void {
    for (const w of [...this.waiters]) w.poll();
  }

  /** Resolve with poll()'s first defined value; reject on timeout, exit or failure. */
  private wait<R>(what: string, poll: () => R | undefined, timeoutMs: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const waiter: Waiter = {
        poll: () => {
          const hit = poll();
          if (hit !== undefined) {
            done();
            resolve(hit);
          } else if (this.closed) {
            done();
            reject(new Error(`${this.label} exited (${this.exitCode ?? this.signalCode}) before ${what}; ${this.tail()}`));
          }
        },
        fail: (err) => {
          done();
          reject(err);
        },
      };
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            done();
            reject(new Error(`${this.label}: no ${what} within ${timeoutMs} ms; ${this.tail()}`));
          }, timeoutMs)
        : undefined;
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (this.failure) return waiter.fail(this.failure);
      this.waiters.add(waiter);
      waiter.poll();
    });
  }
}

/** Kill and reap child when the test ends (failing the test on a JSON child's protocol error). */
export function owned<C extends { close(): Promise<void> }>(t: ExecutionContext, child: C): C {
  t.teardown(() => child.close());
  return child;
}

/** `node --import=tsx <script> …args`, as a command and its arguments. */
export function tsxCommand(script: string, args: string[], nodeFlags: string[] = []): [string, string[]] {
  return [process.execPath, [...nodeFlags, '--import=tsx', script, ...args]];
}

/** The path of test/fixtures/<name>.ts. */
export const fixturePath = (name: string): string => path.join(repoRoot, 'test', 'fixtures', `${name}.ts`);

/** Start test/fixtures/<name>.ts (JSON lines), killed and reaped after the test. */
export function fixtureChild<L = Line>(t: ExecutionContext, name: string, args: string[], opts: LineChildOptions<L> = {}): LineChild<L> {
  return owned(t, LineChild.json<L>(...tsxCommand(fixturePath(name), args), { label: name, ...opts }));
}

/* --- the child side ----------------------------------------------------------- */

/**
 * In a fixture: exit with `code` once everything written to stdout has
 * reached the pipe. A bare process.exit() drops what a full pipe still
 * holds (Node writes to a pipe asynchronously), so a parent reading slowly
 * would miss the last lines.
 */
export function exitWhenFlushed(code = 0): void {
  process.stdout.write('', () => process.exit(code));
}
