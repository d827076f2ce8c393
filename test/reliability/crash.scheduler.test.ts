/**
 * Crashes: a scheduler leader SIGKILLed during a tick with 500 due boundaries (issue 6).
 *
 * 10 entries "@every 1m" (queues sq0..sq9), each with next_fire_at moved 50 minutes back: the
 * next tick has 10 x 50 = 500 due boundaries (at most 64 per entry per tick, see ext/scheduler.c,
 * so all 500 fit one tick). A leader process (test/fixtures/reliability-crash-scheduler.ts,
 * db.scheduler().run with a 2 s lease) reports each job its tick inserts and pauses 2 ms after
 * each; the test SIGKILLs it right after it became leader, and after the 1st, 250th and 499th
 * insert of its tick (soak: also 12 random points), starting a new leader each time (it waits for
 * the dead one's lease). A last leader runs unharmed until nothing is due. After every kill and at
 * the end, for every entry: the jobs' run_at values are exactly the boundaries from the first
 * due one up to (excluding) the entry's next_fire_at, each once — so every boundary is enqueued
 * once or still due; none lost, none doubled. integrity_check ok.
 */
import test from '../helpers/test.js';
import { fixtureChild } from '../helpers/child.js';
import { openClient } from '../helpers/client.js';
import { tempDbPath } from '../helpers/db.js';
import { report, until } from './crash-helpers.js';
import { soak } from './soak.js';

const ENTRIES = 10;
const BACKLOG_MIN = 50; // boundaries per entry: 10 x 50 = 500 due in one tick
const LEASE_S = 2;

test('scheduler leader killed during a 500-boundary tick: each boundary enqueued once or still due', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const sched = db.scheduler();
  for (let i = 0; i < ENTRIES; i++) sched.add({ name: `s${i}`, queue: `sq${i}`, schedule: '@every 1m', payload: { s: i } });
  db.raw.prepare("UPDATE _honker_scheduler_tasks SET next_fire_at = next_fire_at - ? WHERE name LIKE 's%'").run(BACKLOG_MIN * 60);
  const first = new Map(sched.list().map((e) => [e.queue, e.nextFireAt]));
  t.is(first.size, ENTRIES);
  const dueNow = sched.list().reduce((s, e) => s + Math.floor((Date.now() / 1000 - e.nextFireAt) / 60) + 1, 0);
  t.true(dueNow >= ENTRIES * BACKLOG_MIN, `${dueNow} boundaries due`);

  const jobsBy = db.raw.prepare("SELECT queue, run_at, count(*) AS n FROM _honker_live WHERE queue LIKE 'sq%' GROUP BY queue, run_at");
  const totalJobs = db.raw.prepare("SELECT count(*) FROM _honker_live WHERE queue LIKE 'sq%'").pluck();
  /** Every entry's jobs are exactly its boundaries [first, next_fire_at), each once. */
  const checkBoundaries = (when: string): number => {
    const rows = jobsBy.all() as { queue: string; run_at: number; n: number }[];
    const got = new Map<string, number[]>();
    for (const r of rows) {
      t.is(r.n, 1, `${when}: boundary ${r.run_at} of ${r.queue} enqueued ${r.n} times`);
      got.set(r.queue, [...(got.get(r.queue) ?? []), r.run_at]);
    }
    for (const e of sched.list()) {
      const want: number[] = [];
      for (let b = first.get(e.queue)!; b < e.nextFireAt; b += 60) want.push(b);
      t.deepEqual((got.get(e.queue) ?? []).sort((a, b) => a - b), want, `${when}: ${e.name}`);
    }
    return rows.length;
  };

  const killPoints: number[] = [0, 1, 250, 499];
  if (soak) for (let i = 0; i < 12; i++) killPoints.push(1 + Math.floor(Math.random() * 499));
  const rounds: { at: number; inserts: number; committed: boolean; killAfterMs: number }[] = [];
  for (const at of killPoints) {
    const child = fixtureChild(t, 'reliability-crash-scheduler', [file, String(LEASE_S), '2']);
    const started = Date.now();
    if (at === 0) await child.waitFor((l) => l.kind === 'leader' && l.leader === true, 30_000);
    else await child.waitFor((l) => l.kind === 'insert' && (l.n as number) >= at, 30_000);
    const killAfterMs = Date.now() - started;
    await child.kill();
    const inserts = child.of('insert').length;
    const committed = (totalJobs.get() as number) > 0;
    rounds.push({ at, inserts, committed, killAfterMs });
    t.is(child.of('error').length, 0);
    checkBoundaries(`after the kill at insert ${at}`);
    t.is(db.raw.pragma('integrity_check', { simple: true }), 'ok');
    if (committed) break; // the tick committed before the kill: nothing left due to kill during
  }
  const killedMidTick = rounds.filter((r) => r.inserts > 0 && !r.committed).length;
  t.true(killedMidTick >= 2, `only ${killedMidTick} kills landed inside a tick: ${JSON.stringify(rounds)}`);

  // A last leader runs until every entry's next boundary is in the future.
  const last = fixtureChild(t, 'reliability-crash-scheduler', [file, String(LEASE_S), '0']);
  const t0 = Date.now();
  await until('every boundary fired', () => sched.list().every((e) => e.nextFireAt > Date.now() / 1000), 30_000);
  const drainMs = Date.now() - t0;
  t.is(await last.stop(), 0);
  t.is(last.of('error').length, 0);
  const enqueued = checkBoundaries('at the end');
  t.true(enqueued >= ENTRIES * BACKLOG_MIN, `${enqueued} boundaries enqueued`);
  t.is(db.raw.pragma('integrity_check', { simple: true }), 'ok');
  report(t, 'scheduler-leader-killed-mid-tick', {
    entries: ENTRIES,
    dueBoundaries: dueNow,
    kills: rounds.length,
    killedMidTick,
    rounds,
    enqueued,
    doubled: 0,
    lost: 0,
    lastLeaderDrainMs: drainMs,
    errors: 0,
  });
});
