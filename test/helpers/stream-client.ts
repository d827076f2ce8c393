/**
 * Helpers of the client tests of notify/listen, streams and results: a child
 * process (a test/fixtures/*.ts run with tsx) that prints JSON lines, read
 * one at a time, and that can be killed; plus a clock shared by processes.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './db.js';

export { nowMs } from './client.js';

/** A fixture child process that speaks JSON lines on stdout (and reads lines on stdin). */
export class JsonLineChild {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';
  private buffered = '';
  private readonly lines: unknown[] = [];
  private readonly readers: Array<{ resolve: (v: unknown) => void; reject: (e: Error) => void }> = [];
  private done = false;

  constructor(
    readonly name: string,
    args: string[],
  ) {
    const fixture = path.join(repoRoot, 'test', 'fixtures', `${name}.ts`);
    this.child = spawn(process.execPath, ['--import=tsx', fixture, ...args], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d: string) => (this.stderr += d));
    this.child.stdout.on('data', (chunk: string) => {
      this.buffered += chunk;
      let nl;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        if (line.trim() === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          value = { unparsed: line };
        }
        const reader = this.readers.shift();
        if (reader) reader.resolve(value);
        else this.lines.push(value);
      }
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.done = true;
        for (const r of this.readers.splice(0)) {
          r.reject(new Error(`${this.name} exited (${code ?? signal}) before printing a line; stderr: ${this.stderr}`));
        }
        resolve({ code, signal });
      });
    });
  }

  /** The next JSON line (rejects after timeoutMs or when the child exits first). */
  next<T = Record<string, unknown>>(timeoutMs = 30_000): Promise<T> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready as T);
    if (this.done) return Promise.reject(new Error(`${this.name} has exited; stderr: ${this.stderr}`));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.readers.indexOf(entry);
        if (i >= 0) this.readers.splice(i, 1);
        reject(new Error(`${this.name}: no line within ${timeoutMs} ms; stderr: ${this.stderr}`));
      }, timeoutMs);
      const entry = {
        resolve: (v: unknown) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.readers.push(entry);
    });
  }

  /** Lines until one matches pred (that one included). */
  async until<T = Record<string, unknown>>(pred: (line: T) => boolean, timeoutMs = 30_000): Promise<T[]> {
    const out: T[] = [];
    for (;;) {
      const line = await this.next<T>(timeoutMs);
      out.push(line);
      if (pred(line)) return out;
    }
  }

  /** Send one line on stdin. */
  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Every line printed before exit, once the child exits; fails on a non-zero exit. */
  async finish(timeoutMs = 30_000): Promise<unknown[]> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const { code, signal } = await this.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`${this.name} exited with ${code ?? signal}; stderr: ${this.stderr}`);
    return this.lines.splice(0);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.done) this.child.kill(signal);
    return this.exited;
  }
}

/** Start a fixture child; it is killed after the test if still running. */
export function startChild(t: ExecutionContext, name: string, args: string[]): JsonLineChild {
  const c = new JsonLineChild(name, args);
  t.teardown(async () => {
    await c.kill();
  });
  return c;
}

/** p-th percentile (0..100) of values, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** "p50 x ms, p99 y ms, max z ms" of a list of latencies in ms. */
export function summary(values: number[]): string {
  const f = (v: number) => v.toFixed(2);
  return `n=${values.length} p50 ${f(percentile(values, 50))} ms, p99 ${f(percentile(values, 99))} ms, max ${f(Math.max(...values))} ms`;
}
