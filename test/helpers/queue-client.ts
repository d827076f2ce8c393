/**
 * Helpers of the queue and transaction client tests: an open client database
 * closed after the test, child processes that talk JSON lines, and bounded
 * waits on async iterators.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { open, type HonkerDatabase, type OpenOptions } from '../../src/index.js';
import { repoRoot, tempDbPath } from './db.js';

export { nowMs, sleep, syncError } from './client.js';

/** A client database on a fresh temp file, closed after the test. */
export function openTemp(t: ExecutionContext, options?: OpenOptions): { db: HonkerDatabase; file: string } {
  const file = tempDbPath(t);
  const db = open(file, options);
  t.teardown(() => db.close());
  return { db, file };
}

/** Outcome of an iterator's next() raced against a timer. */
export type Raced<T> =
  | { kind: 'value'; value: T; ms: number }
  | { kind: 'done'; ms: number }
  | { kind: 'error'; error: Error & { code?: string }; ms: number }
  | { kind: 'timeout'; ms: number };

/** it.next() or a timeout after ms; `ms` in the result is how long it took. */
export async function nextWithin<T>(it: AsyncIterator<T>, ms: number, pending?: Promise<IteratorResult<T>>): Promise<Raced<T>> {
  const started = performance.now();
  const p = pending ?? it.next();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  try {
    const r = await Promise.race([p.then((v) => ({ v }), (e: unknown) => ({ e })), timeout]);
    const took = performance.now() - started;
    if (r === 'timeout') return { kind: 'timeout', ms: took };
    if ('e' in r) return { kind: 'error', error: r.e as Error, ms: took };
    return r.v.done ? { kind: 'done', ms: took } : { kind: 'value', value: r.v.value, ms: took };
  } finally {
    clearTimeout(timer);
  }
}

/** A child process (test/fixtures/<name>.ts) that prints one JSON object per line. */
export class Child {
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly listeners = new Set<() => void>();
  private buffer = '';

  constructor(name: string, args: string[]) {
    const fixture = path.join(repoRoot, 'test', 'fixtures', `${name}.ts`);
    this.proc = spawn(process.execPath, ['--import=tsx', fixture, ...args], { cwd: repoRoot, stdio: 'pipe' });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d: string) => {
      this.buffer += d;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      for (const l of [...this.listeners]) l();
    });
    this.proc.stderr.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.proc.on('close', (code) => resolve(code)));
    this.exited.then(() => {
      for (const l of [...this.listeners]) l();
    });
  }

  /** Resolve with the first line (from the start) matching pred; rejects after timeoutMs. */
  waitFor(pred: (line: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      let exited = false;
      this.exited.then(() => (exited = true));
      const check = (): boolean => {
        const hit = this.lines.find(pred);
        if (hit) {
          done();
          resolve(hit);
          return true;
        }
        if (exited) {
          done();
          reject(new Error(`child exited before the expected line; stderr: ${this.stderr}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no expected line within ${timeoutMs} ms; lines: ${JSON.stringify(this.lines.slice(-5))}; stderr: ${this.stderr}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = (): void => void check();
      if (!check()) this.listeners.add(listener);
    });
  }

  /** Lines whose `kind` is kind. */
  of(kind: string): Record<string, unknown>[] {
    return this.lines.filter((l) => l.kind === kind);
  }

  /** Close stdin: the fixtures stop cleanly on it. Resolves with the exit code. */
  async stop(): Promise<number | null> {
    this.proc.stdin.end();
    return this.exited;
  }

  kill(): void {
    this.proc.kill('SIGKILL');
  }
}

/** Start a fixture and kill it after the test if it is still running. */
export function child(t: ExecutionContext, name: string, args: string[]): Child {
  const c = new Child(name, args);
  t.teardown(() => c.kill());
  return c;
}

/** p50/p99/max of a list of numbers. */
export function percentiles(values: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1], n: s.length };
}
