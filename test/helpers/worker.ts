/**
 * Helpers of the task and worker tests: a worker child process
 * (test/fixtures/worker-run.ts) that prints JSON lines and can be signalled.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './db.js';

export type Line = Record<string, unknown>;

export class WorkerChild {
  readonly lines: Line[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly listeners = new Set<() => void>();
  private buffer = '';
  private hasExited = false;

  constructor(args: { file: string; concurrency?: number; batchSize?: number; visibilityTimeoutS?: number; graceMs?: number; name: string }) {
    const fixture = path.join(repoRoot, 'test', 'fixtures', 'worker-run.ts');
    const argv = [
      args.file,
      String(args.concurrency ?? 1),
      String(args.batchSize ?? args.concurrency ?? 1),
      String(args.visibilityTimeoutS ?? 300),
      String(args.graceMs ?? 30_000),
      args.name,
    ];
    this.proc = spawn(process.execPath, ['--import=tsx', fixture, ...argv], { cwd: repoRoot, stdio: 'pipe' });
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
    this.exited = new Promise((resolve) =>
      this.proc.on('close', (code) => {
        this.hasExited = true;
        resolve(code);
        for (const l of [...this.listeners]) l();
      }),
    );
  }

  /** The first line (from the start) matching pred; rejects on exit or after timeoutMs. */
  waitFor(pred: (line: Line) => boolean, timeoutMs = 60_000): Promise<Line> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.lines.find(pred);
        if (hit) return finish(() => resolve(hit));
        if (this.hasExited) return finish(() => reject(new Error(`worker exited before the expected line; stderr: ${this.stderr}`)));
        return false;
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no expected line within ${timeoutMs} ms; last: ${JSON.stringify(this.lines.slice(-5))}; stderr: ${this.stderr}`))),
        timeoutMs,
      );
      const finish = (fn: () => void): true => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        fn();
        return true;
      };
      const listener = (): void => void check();
      if (!check()) this.listeners.add(listener);
    });
  }

  of(kind: string): Line[] {
    return this.lines.filter((l) => l.kind === kind);
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig);
  }
}

/** Start a worker child; SIGKILLed after the test if still running. */
export function workerChild(t: ExecutionContext, args: ConstructorParameters<typeof WorkerChild>[0]): WorkerChild {
  const c = new WorkerChild(args);
  t.teardown(() => c.signal('SIGKILL'));
  return c;
}
