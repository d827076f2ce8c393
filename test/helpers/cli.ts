/**
 * Helpers for the `honker` command line tests: run the real CLI
 * (node --import=tsx src/cli.ts …) as a child process, to completion or as a
 * long-running child whose stdout lines are awaited.
 */
import Database from 'better-sqlite3';
import type { ExecutionContext } from 'ava';
import path from 'node:path';
import { open } from '../../src/index.js';
import { LineChild, owned, tsxCommand } from './child.js';
import { repoRoot, runTsx, type ScriptResult } from './db.js';
import { AS_NOBODY } from './test-if.js';

const cliEntry = path.join(repoRoot, 'src', 'cli.ts');

export type CliResult = ScriptResult;

/** Run `honker <args>` to completion. */
export function runCli(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return runTsx(cliEntry, args, { ...opts, label: `honker ${args.join(' ')}` });
}

/** Run `honker <args>` to completion as the user nobody (see AS_NOBODY in test-if.ts). */
export function runCliAsNobody(args: string[]): Promise<CliResult> {
  return runTsx(cliEntry, args, { prefix: AS_NOBODY, label: `nobody: honker ${args.join(' ')}` });
}

/** A running `honker <args>` (env added to this process's) whose stdout lines can be awaited; killed after the test. */
export function cliChild(t: ExecutionContext, args: string[], env?: NodeJS.ProcessEnv): LineChild {
  const [command, argv] = tsxCommand(cliEntry, args);
  return owned(t, LineChild.text(command, argv, { env: { ...process.env, ...env }, label: `honker ${args[0] ?? ''}` }));
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
    const tables = raw.prepare("SELECT name, sql LIKE '%WITHOUT ROWID' AS keyed FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string; keyed: number }>;
    // A WITHOUT ROWID table (_honker_history) has no rowid: its primary key orders it.
    return JSON.stringify(tables.map((t) => [t.name, raw.prepare(`SELECT * FROM "${t.name}"${t.keyed ? '' : ' ORDER BY rowid'}`).all()]));
  } finally {
    raw.close();
  }
}
