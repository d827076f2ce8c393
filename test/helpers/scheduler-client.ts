/**
 * Scheduler processes for the client's multi-process tests: spawn
 * test/fixtures/client-scheduler-runner.ts, read its JSON lines, send it
 * commands, kill it.
 */
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './db.js';

export type RunnerLine = {
  ready?: boolean;
  pid?: number;
  leader?: boolean;
  t?: number;
  done?: 'resolved' | 'rejected';
  code?: string;
  message?: string;
};

export class Runner {
  readonly lines: RunnerLine[] = [];
  stderr = '';
  exited = false;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiters = new Set<() => void>();

  constructor(t: ExecutionContext, file: string, leaseS: number) {
    const fixture = path.join(repoRoot, 'test', 'fixtures', 'client-scheduler-runner.ts');
    this.child = spawn(process.execPath, ['--import=tsx', fixture, file, String(leaseS)], { cwd: repoRoot });
    let buf = '';
    this.child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.push(JSON.parse(buf.slice(0, i)) as RunnerLine);
        buf = buf.slice(i + 1);
        for (const w of [...this.waiters]) w();
      }
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.on('exit', () => {
      this.exited = true;
      for (const w of [...this.waiters]) w();
    });
    t.teardown(() => {
      if (!this.exited) this.child.kill('SIGKILL');
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The leader changes printed so far. */
  get changes(): RunnerLine[] {
    return this.lines.filter((l) => l.leader !== undefined);
  }

  /** Is this process the leader according to its last printed change? */
  get leading(): boolean {
    return this.changes.at(-1)?.leader === true;
  }

  /** Resolve with the first line (from index `from`) that matches, or reject after timeoutMs. */
  waitFor(pred: (l: RunnerLine) => boolean, timeoutMs = 30_000, from = 0): Promise<RunnerLine> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.lines.slice(from).find(pred);
        if (hit) {
          done();
          resolve(hit);
        } else if (this.exited) {
          done();
          reject(new Error(`runner exited; lines ${JSON.stringify(this.lines)}; stderr: ${this.stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out; lines ${JSON.stringify(this.lines)}; stderr: ${this.stderr}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  send(command: 'stop' | 'close'): void {
    this.child.stdin.write(command + '\n');
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Resolves when the process has exited. */
  exit(): Promise<void> {
    return new Promise((resolve) => {
      if (this.exited) resolve();
      else this.child.once('exit', () => resolve());
    });
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The run_at values of the jobs a task fired, from _honker_live (sorted). */
export function firedBoundaries(runAts: number[]): { duplicates: number[]; gaps: number[] } {
  const sorted = [...runAts].sort((a, b) => a - b);
  const duplicates: number[] = [];
  const gaps: number[] = [];
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) duplicates.push(sorted[i]);
    for (let b = sorted[i - 1] + 1; b < sorted[i]; b++) gaps.push(b);
  }
  return { duplicates, gaps };
}
