/**
 * A test fixture (test/fixtures/<name>.ts, run with tsx) as a child process
 * that prints one JSON object per line: await lines, signal or stop it.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './db.js';

export type Line = Record<string, unknown>;

/** A child process (test/fixtures/<name>.ts) that prints one JSON object per line. */
export class FixtureChild {
  readonly lines: Line[] = [];
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
        if (line.trim()) this.lines.push(JSON.parse(line) as Line);
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
  waitFor(pred: (line: Line) => boolean, timeoutMs = 30_000): Promise<Line> {
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
  of(kind: string): Line[] {
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

  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig);
  }
}

/** Start a fixture and kill it after the test if it is still running. */
export function fixtureChild(t: ExecutionContext, name: string, args: string[]): FixtureChild {
  const c = new FixtureChild(name, args);
  t.teardown(() => c.kill());
  return c;
}
