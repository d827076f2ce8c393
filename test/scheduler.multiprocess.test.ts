/**
 * scheduler: tickers in separate processes (test/fixtures/scheduler-ticker.ts),
 * released at once by a barrier file, tick the same database at the same
 * `now` values; every due boundary of every task must be enqueued exactly
 * once (spec/sql.md "Scheduler": two tickers never fire a boundary twice).
 */
import test from './helpers/test.js';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freshDb, runFixture, tempDir, type Db } from './helpers/db.js';

type Fire = { name: string; queue: string; fire_at: number; job_id: number };

/** Start n tickers that tick each of `nows` in order, open the barrier, return their fires. */
async function race(dir: string, file: string, n: number, nows: number[], pauseMs = 0): Promise<Fire[][]> {
  const barrier = path.join(dir, 'go');
  const children = Array.from({ length: n }, (_, i) =>
    runFixture('scheduler-ticker', [file, barrier, String(i), nows.join(','), String(pauseMs)], { timeoutMs: 90_000 }),
  );
  const deadline = Date.now() + 60_000;
  while (readdirSync(dir).filter((f) => f.startsWith('go.ready.')).length < n) {
    if (Date.now() > deadline) throw new Error('tickers never got ready');
    await new Promise((r) => setTimeout(r, 5));
  }
  if (!existsSync(barrier)) writeFileSync(barrier, '');
  const done = await Promise.all(children);
  return done.map((c) => {
    if (c.code !== 0) throw new Error(`ticker failed (${c.code}): ${c.stderr}`);
    return JSON.parse(c.stdout) as Fire[];
  });
}

/** Register each task on its own queue with next_fire_at forced to `first`. */
function register(db: Db, tasks: Record<string, string>, first: number) {
  for (const [name, expr] of Object.entries(tasks)) {
    db.prepare("SELECT honker_scheduler_register(?, ?, ?, 'p', 0, NULL)").get(name, `q-${name}`, expr);
  }
  db.prepare('UPDATE _honker_scheduler_tasks SET next_fire_at = ?').run(first);
}

/** Boundaries of a period-aligned schedule from `first` up to `last` (inclusive). */
function boundaries(first: number, last: number, periodS: number): number[] {
  const out: number[] = [];
  for (let t = first; t <= last; t = (Math.floor(t / periodS) + 1) * periodS) out.push(t);
  return out;
}

/** run_at of every live job per queue, in id order. */
function jobsByQueue(db: Db): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const r of db.prepare('SELECT queue, run_at FROM _honker_live ORDER BY id').all() as Array<{ queue: string; run_at: number }>) {
    (out[r.queue] ??= []).push(r.run_at);
  }
  return out;
}

/** The fires reported by all tickers must be exactly the live jobs, none twice. */
function assertFiresAreTheJobs(t: import('ava').ExecutionContext, db: Db, fires: Fire[][]) {
  const all = fires.flat().sort((a, b) => a.job_id - b.job_id);
  t.is(new Set(all.map((f) => f.job_id)).size, all.length);
  const rows = db.prepare('SELECT id, queue, run_at FROM _honker_live ORDER BY id').all();
  t.deepEqual(
    rows,
    all.map((f) => ({ id: f.job_id, queue: f.queue, run_at: f.fire_at })),
  );
  const dup = db.prepare('SELECT queue, run_at, count(*) AS n FROM _honker_live GROUP BY queue, run_at HAVING n > 1').all();
  t.deepEqual(dup, []);
}

const BASE = 1_000_020; // a multiple of 60

test('scheduler.multiprocess two tickers ticking the same nows enqueue each boundary once', async (t) => {
  const dir = tempDir(t);
  const { db, file } = freshDb(t);
  const tasks = {
    e10: '@every 10s',
    e7: '@every 7s',
    e3: '@every 3s',
    s1: '* * * * * *',
    s5: '*/5 * * * * *',
    m1: '* * * * *',
  };
  const periods: Record<string, number> = { e10: 10, e7: 7, e3: 3, s1: 1, s5: 5, m1: 60 };
  register(db, tasks, BASE);
  // 40 ticks 13 s apart, each ticker in the same order: at most 14 boundaries per task per tick (no catch-up cap)
  const nows = Array.from({ length: 40 }, (_, i) => BASE + 13 * (i + 1));
  const last = nows[nows.length - 1];
  const fires = await race(dir, file, 2, nows, 2); // pauses let the two interleave
  t.log(`fires per ticker: ${fires.map((f) => f.length).join(', ')}`);

  const expected = Object.fromEntries(Object.keys(tasks).map((n) => [`q-${n}`, boundaries(BASE, last, periods[n])]));
  t.deepEqual(jobsByQueue(db), expected);
  assertFiresAreTheJobs(t, db, fires);
  const next = db.prepare('SELECT name, next_fire_at FROM _honker_scheduler_tasks').all() as Array<{ name: string; next_fire_at: number }>;
  for (const r of next) t.is(r.next_fire_at, (Math.floor(last / periods[r.name]) + 1) * periods[r.name], r.name);
});

test('scheduler.multiprocess four tickers at one now: one tick fires everything (64-cap included), the others nothing', async (t) => {
  const dir = tempDir(t);
  const { db, file } = freshDb(t);
  const tasks: Record<string, string> = { burst: '@every 1s' };
  for (let i = 0; i < 20; i++) tasks[`t${String(i).padStart(2, '0')}`] = '@every 10s';
  register(db, tasks, BASE);
  const now = BASE + 10 * 49; // 50 boundaries per '@every 10s' task, 491 for 'burst'
  const fires = await race(dir, file, 4, [now]);

  t.deepEqual(
    fires.map((f) => f.length).sort((a, b) => a - b),
    [0, 0, 0, 20 * 50 + 64],
  );
  const jobs = jobsByQueue(db);
  t.deepEqual(jobs['q-burst'], boundaries(BASE, BASE + 63, 1)); // the oldest 64, the rest skipped
  for (let i = 0; i < 20; i++) t.deepEqual(jobs[`q-t${String(i).padStart(2, '0')}`], boundaries(BASE, now, 10));
  assertFiresAreTheJobs(t, db, fires);
  t.is(
    db.prepare("SELECT next_fire_at FROM _honker_scheduler_tasks WHERE name = 'burst'").pluck().get(),
    now + 1,
  );
});
