/**
 * scheduler.run() across processes: one leader at a time, takeover after a
 * SIGKILL within the lease (with catch-up of the boundaries nobody ticked),
 * prompt takeover after a clean stop or a close, and a paused (SIGSTOP)
 * leader that stops ticking when it resumes. Children:
 * test/fixtures/client-scheduler-runner.ts (via helpers/scheduler-client.ts).
 */
import test, { type ExecutionContext } from './helpers/test.js';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { open, type HonkerDatabase } from '../src/index.js';
import { runFixture, tempDbPath, tempDir } from './helpers/db.js';
import { firedBoundaries, Runner, sleep } from './helpers/scheduler-client.js';

const LEASE_S = 2;

function setup(t: ExecutionContext, schedule: string): { db: HonkerDatabase; file: string } {
  const file = tempDbPath(t);
  const db = open(file);
  t.teardown(() => db.close());
  db.scheduler().add({ name: 'tick', queue: 'q', schedule });
  return { db, file };
}

/** Start two runners and wait until one of them leads; returns [leader, standby]. */
async function twoRunners(t: ExecutionContext, file: string, leaseS: number): Promise<[Runner, Runner]> {
  const a = new Runner(t, file, leaseS);
  const b = new Runner(t, file, leaseS);
  const deadline = Date.now() + 30_000;
  while (!a.leading && !b.leading) {
    if (Date.now() > deadline || !a.running || !b.running) throw new Error(`no leader: ${a.stderr} ${b.stderr}`);
    await sleep(5);
  }
  return a.leading ? [a, b] : [b, a];
}

/** Jobs per boundary of the one task, checked for duplicates and gaps. */
function boundaries(db: HonkerDatabase): { runAts: number[]; duplicates: number[]; gaps: number[] } {
  const runAts = db.raw.prepare("SELECT run_at FROM _honker_live WHERE queue = 'q' ORDER BY run_at").pluck().all() as number[];
  return { runAts, ...firedBoundaries(runAts) };
}

/** Stop the runners; each must report that run() resolved, then exit 0. */
async function stopAll(t: ExecutionContext, ...runners: Runner[]): Promise<void> {
  for (const r of runners) if (r.running) r.send('stop');
  const codes = await Promise.all(runners.map((r) => r.exited));
  runners.forEach((r, i) => {
    const done = r.lines.find((l) => l.done);
    t.is(done?.done, 'resolved', `runner ${r.pid} never reported run() resolved; lines ${JSON.stringify(r.lines)}; stderr: ${r.stderr}`);
    t.is(codes[i], 0, r.stderr);
  });
}

test.serial('SIGKILL of the leader: the standby takes over within the lease, catches up, and no boundary fires twice', async (t) => {
  const { db, file } = setup(t, '@every 1s');
  const [leader, standby] = await twoRunners(t, file, LEASE_S);
  await sleep(3500); // several renewals and ticks
  t.true(leader.leading);
  t.deepEqual(standby.changes, [], 'exactly one leader, and no flapping');
  t.deepEqual(leader.changes.map((c) => c.leader), [true]);
  const before = boundaries(db);
  t.true(before.runAts.length >= 2, `the leader ticked ${before.runAts.length} boundaries`);

  const killedAt = Date.now();
  leader.signal('SIGKILL');
  const took = await standby.waitFor((l) => l.leader === true, 20_000);
  const takeoverMs = took.t! - killedAt;
  t.log(`takeover ${takeoverMs} ms after SIGKILL (leaseS ${LEASE_S}; a lease lapses ${LEASE_S - 1}..${LEASE_S} s after the last renew)`);
  t.true(takeoverMs <= 2 * LEASE_S * 1000 + 1000, `takeover took ${takeoverMs} ms`);

  await sleep(2500); // the new leader catches up and ticks on
  const after = boundaries(db);
  await stopAll(t, standby);
  t.deepEqual(after.duplicates, [], 'no boundary enqueued twice');
  t.deepEqual(after.gaps, [], 'no boundary lost: those nobody ticked were caught up');
  const tookS = Math.floor(took.t! / 1000);
  t.true(after.runAts[0] <= before.runAts[0]);
  t.true(after.runAts.at(-1)! >= tookS + 1, 'the new leader ticks on after the catch-up');
  t.true(
    after.runAts.includes(Math.floor(killedAt / 1000) + 1),
    'the boundary right after the kill (no leader alive) was caught up',
  );
});

test.serial('a clean stop releases the lease: the standby takes over well under leaseS', async (t) => {
  const leaseS = 5;
  const { db, file } = setup(t, '* * * * * *');
  const [leader, standby] = await twoRunners(t, file, leaseS);
  await sleep(1500);
  const stoppedAt = Date.now();
  leader.send('stop');
  const took = await standby.waitFor((l) => l.leader === true, 20_000);
  const ms = took.t! - stoppedAt;
  t.log(`takeover ${ms} ms after a clean stop (leaseS ${leaseS})`);
  t.true(ms < 2500, 'much sooner than a lapse (>= 4 s)');
  await leader.exited;
  t.deepEqual(leader.changes.map((c) => c.leader), [true, false]);
  t.is(leader.lines.find((l) => l.done)?.done, 'resolved');
  await sleep(1500);
  const { runAts, duplicates, gaps } = boundaries(db);
  await stopAll(t, standby);
  t.true(runAts.length >= 3);
  t.deepEqual(duplicates, []);
  t.deepEqual(gaps, []);
});

test.serial('closing the database rejects run() with CLOSED and hands the lease over at once', async (t) => {
  const leaseS = 5;
  const { file } = setup(t, '@every 1s');
  const [leader, standby] = await twoRunners(t, file, leaseS);
  const closedAt = Date.now();
  leader.send('close');
  const done = await leader.waitFor((l) => l.done !== undefined);
  t.is(done.done, 'rejected');
  t.is(done.code, 'CLOSED');
  const took = await standby.waitFor((l) => l.leader === true, 20_000);
  t.log(`takeover ${took.t! - closedAt} ms after the leader closed its database (leaseS ${leaseS})`);
  t.true(took.t! - closedAt < 2500);
  await stopAll(t, standby);
});

test.serial('a paused leader (SIGSTOP) loses the lease, reports it on resume and never ticks a boundary twice', async (t) => {
  const { db, file } = setup(t, '@every 1s');
  const [leader, standby] = await twoRunners(t, file, 3);
  await sleep(1500);
  const stoppedAt = Date.now();
  leader.signal('SIGSTOP');
  const took = await standby.waitFor((l) => l.leader === true, 20_000);
  t.log(`takeover ${took.t! - stoppedAt} ms after SIGSTOP`);
  await sleep(1500); // the new leader ticks while the old one is frozen
  const from = leader.lines.length;
  leader.signal('SIGCONT');
  const lost = await leader.waitFor((l) => l.leader === false, 20_000, from);
  t.true(lost.t! >= took.t!);
  await sleep(2500); // both alive again: the old leader must stand by
  t.false(leader.leading, 'the resumed process stands by');
  t.true(standby.leading, 'the new leader keeps the lease');
  t.deepEqual(standby.changes.map((c) => c.leader), [true]);
  const { runAts, duplicates, gaps } = boundaries(db);
  await stopAll(t, leader, standby);
  t.true(runAts.length >= 5);
  t.deepEqual(duplicates, [], 'no boundary enqueued twice');
  t.deepEqual(gaps, []);
});

test('3 processes racing scheduler.tick() over the same seconds fire each boundary exactly once', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'test.db');
  const db = open(file);
  t.teardown(() => db.close());
  db.scheduler().add({ name: 'tick', queue: 'q', schedule: '* * * * * *' });
  const first = db.scheduler().list()[0].nextFireAt;
  const barrier = path.join(dir, 'go');
  const children = [0, 1, 2].map((i) =>
    runFixture('client-scheduler-ticker', [file, barrier, String(i), String(first), '200'], { timeoutMs: 90_000 }),
  );
  while (readdirSync(dir).filter((f) => f.startsWith('go.ready.')).length < 3) await sleep(5);
  if (!existsSync(barrier)) writeFileSync(barrier, '');
  const outputs = await Promise.all(children);
  const fired = outputs.flatMap((o) => {
    t.is(o.code, 0, o.stderr);
    return JSON.parse(o.stdout) as number[];
  });
  t.log(`fires per process: ${outputs.map((o) => (JSON.parse(o.stdout) as number[]).length).join(', ')}`);
  t.deepEqual([...fired].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => first + i), 'each boundary once across processes');
  const { runAts, duplicates, gaps } = boundaries(db);
  t.is(runAts.length, 200);
  t.deepEqual(duplicates, []);
  t.deepEqual(gaps, []);
});
