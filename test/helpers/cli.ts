/**
 * Helpers for the `honker` command line tests: run the real CLI
 * (node --import=tsx src/cli.ts …) as a child process, to completion or as a
 * long-running child whose stdout lines are awaited.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { open } from '../../src/index.js';
import { repoRoot, runTsx, type ScriptResult } from './db.js';

const cliEntry = path.join(repoRoot, 'src', 'cli.ts');

export type CliResult = ScriptResult;

/** Run `honker <args>` to completion. */
export function runCli(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return runTsx(cliEntry, args, { ...opts, label: `honker ${args.join(' ')}` });
}

/** A running `honker <args>` whose output lines can be awaited. */
export class CliChild {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdoutLines: string[] = [];
  stderr = '';
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(args: string[], env?: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, ['--import=tsx', cliEntry, ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
    let partial = '';
    this.child.stdout.on('data', (d: Buffer) => {
      partial += d.toString();
      const lines = partial.split('\n');
      partial = lines.pop()!;
      this.stdoutLines.push(...lines);
      this.wake();
    });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      this.wake();
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => {
      this.wake();
      resolve(code);
    }));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolve once pred() holds (checked after each output chunk); reject after timeoutMs. */
  async until(what: string, pred: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (this.child.exitCode !== null) throw new Error(`honker exited (${this.child.exitCode}) before ${what}; stderr: ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; stdout: ${this.stdoutLines.join('|')} stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Wait for the stderr "ready" line (e.g. "listening on"). */
  ready(marker: string): Promise<void> {
    return this.until(`'${marker}' on stderr`, () => this.stderr.includes(marker));
  }

  /** Wait until at least n stdout lines were printed. */
  lines(n: number): Promise<string[]> {
    return this.until(`${n} stdout lines`, () => this.stdoutLines.length >= n).then(() => this.stdoutLines.slice(0, n));
  }

  /** Send SIGINT and resolve with the exit code. */
  interrupt(): Promise<number | null> {
    this.child.kill('SIGINT');
    return this.exited;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * Fill a fresh honker database for a test. Recipes:
 *   empty      bootstrapped, nothing in it;
 *   queues     emails: alice (due, 30 s old), bob (due, priority 5), carol
 *              (scheduled in 1 h), dave (processing, worker-1), erin and frank
 *              (dead: "smtp down", "bad address"); reports: 1 due job;
 *   dead <n>   queue "bulk" with n dead jobs;
 *   schedules  nightly (0 3 * * *, backups) and often (@every 1m, pings).
 */
export function setupDb(file: string, recipe: 'empty' | 'queues' | 'dead' | 'schedules', n = 0): void {
  const db = open(file);
  try {
    if (recipe === 'queues') {
      const emails = db.queue('emails', { maxAttempts: 1 });
      db.transaction(() => {
        emails.enqueue({ to: 'alice' }, { runAt: Math.floor(Date.now() / 1000) - 30 });
        emails.enqueue({ to: 'bob' }, { priority: 5 });
        emails.enqueue({ to: 'carol' }, { delayS: 3600 });
        emails.enqueue({ to: 'dave' }, { priority: 9 });
        emails.enqueue({ to: 'erin' }, { priority: 9 });
        emails.enqueue({ to: 'frank' }, { priority: 9 });
      });
      const claimed = emails.claimBatch('worker-1', 3); // dave, erin, frank
      claimed[1]!.fail(new Error('smtp down'));
      claimed[2]!.fail(new Error('bad address'));
      db.queue('reports').enqueue({ day: '2026-11-26' });
    } else if (recipe === 'dead') {
      const bulk = db.queue('bulk', { maxAttempts: 1 });
      db.transaction(() => {
        for (let i = 0; i < n; i++) bulk.enqueue({ i });
      });
      for (;;) {
        const jobs = bulk.claimBatch('w', 1000);
        if (jobs.length === 0) break;
        db.transaction(() => {
          for (const job of jobs) job.fail('boom');
        });
      }
    } else if (recipe === 'schedules') {
      const s = db.scheduler();
      s.add({ name: 'nightly', queue: 'backups', schedule: '0 3 * * *', payload: { full: true } });
      s.add({ name: 'often', queue: 'pings', schedule: '@every 1m' });
    }
  } finally {
    db.close();
  }
}

/** Everything a command could have changed, to prove a failed command wrote nothing. */
export function snapshot(file: string): string {
  const raw = new Database(file, { readonly: true });
  try {
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    return JSON.stringify(tables.map((t) => [t, raw.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all()]));
  } finally {
    raw.close();
  }
}
