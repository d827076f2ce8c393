/**
 * The behaviours both engines share, written once and run on SQLite (a
 * file) and on Postgres (a throwaway server, test/helpers/pg.ts): exactly-once
 * claims across processes, retries and dead letters, wake across processes,
 * streams that resume, scheduler leadership, and SIGKILLed workers whose jobs
 * come back. Each test names its engine: `[sqlite] …`, `[postgres] …`.
 * The engine-specific suites (test/*.test.ts for SQLite, test/postgres/ for
 * Postgres) keep their own detail; this file is the cross-engine proof.
 */
import { fixtureChild } from './helpers/child.js';
import { matrix } from './helpers/engines.js';
import { percentiles, sleep } from './helpers/queue-client.js';

const engines = matrix();
const nowMs = () => performance.timeOrigin + performance.now();

/** Poll cond every 20 ms until it holds (throws after ms, naming what). */
async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

for (const e of engines) {
  const args = (target: string, ...rest: string[]) => [e.name, target, ...rest];

  e.test('queue: three worker processes drain 300 jobs enqueued here, each job handed out exactly once', async (t) => {
    const { db, target } = await e.fresh(t);
    const workers = ['w1', 'w2', 'w3'].map((w) => fixtureChild(t, 'matrix-claimer', args(target, 'bulk', w, '4')));
    await Promise.all(workers.map((w) => w.waitFor((l) => l.kind === 'ready')));
    const q = db.queue('bulk');
    const ids: number[] = [];
    for (let i = 0; i < 300; i++) ids.push(await q.enqueue({ i }));
    const seen = () => workers.flatMap((w) => w.lines.filter((l) => l.kind === 'job').map((l) => l.id as number));
    await until('300 jobs', () => seen().length >= 300, 60_000);
    await sleep(300); // a duplicate would show up now
    for (const w of workers) await w.close();
    const got = seen().sort((a, b) => a - b);
    t.deepEqual(got, ids, 'every job once, none twice');
    t.is(workers.flatMap((w) => w.lines.filter((l) => l.kind === 'lost')).length, 0);
    t.log(`per worker: ${workers.map((w) => w.lines.filter((l) => l.kind === 'job').length).join(', ')}`);
    t.deepEqual(await q.stats(), { pending: 0, scheduled: 0, processing: 0, dead: 0 });
  });

  e.test('queue: retries with their errors, then the dead letter; handle.get rejects with the last error', async (t) => {
    const { db } = await e.fresh(t);
    const q = db.queue('flaky');
    let calls = 0;
    const flaky = q.task('flaky', () => {
      calls++;
      if (calls < 3) throw new Error(`boom ${calls}`);
      return 'ok';
    }, { retries: 2 });
    const doomed = q.task('doomed', () => {
      throw new Error('always');
    }, { retries: 1 });
    const h1 = await flaky();
    const h2 = await doomed();
    const ac = new AbortController();
    const worker = db.worker({ queues: ['flaky'], concurrency: 2 });
    const run = worker.run({ signal: ac.signal });
    t.is(await h1.get({ timeoutMs: 10_000 }), 'ok');
    const err = await t.throwsAsync(h2.get({ timeoutMs: 10_000 }));
    t.regex(err!.message, /task doomed \(job \d+\) died after 2 attempt\(s\): always/);
    ac.abort();
    const summary = await run;
    t.like(summary, { completed: 1, failed: 4, retried: 3, dead: 1 });
    const dead = await q.dead.list();
    t.is(dead.length, 1);
    t.like(dead[0], { id: h2.id, attempts: 2, maxAttempts: 2, lastError: 'always' });
    t.true(await q.dead.requeue(h2.id));
    t.like(await q.getJob(h2.id), { state: 'pending', attempts: 0, lastError: 'always' });
  });

  e.test('wake: a waiting worker process and a listener process wake on commits made here', async (t) => {
    const { db, target } = await e.fresh(t);
    const worker = fixtureChild(t, 'matrix-claimer', args(target, 'ping', 'w', '1'));
    const listener = fixtureChild(t, 'matrix-listener', args(target, 'orders'));
    await worker.waitFor((l) => l.kind === 'ready');
    await listener.waitFor((l) => l.kind === 'ready');
    await sleep(300);
    const q = db.queue('ping');
    const jobLat: number[] = [];
    const noteLat: number[] = [];
    for (let i = 0; i < 20; i++) {
      const sent = nowMs();
      await q.enqueue({ i });
      const job = await worker.waitFor((l) => l.kind === 'job' && (l.payload as { i: number }).i === i, 10_000);
      jobLat.push((job.t as number) - sent);
      const sent2 = nowMs();
      await db.notify('orders', { i });
      const note = await listener.waitFor((l) => l.kind === 'note' && (l.payload as { i: number }).i === i, 10_000);
      noteLat.push((note.t as number) - sent2);
      await sleep(20);
    }
    const a = percentiles(jobLat);
    const b = percentiles(noteLat);
    t.log(`enqueue -> claim in another process: p50 ${a.p50.toFixed(2)} ms, max ${a.max.toFixed(2)} ms`);
    t.log(`notify -> listen in another process: p50 ${b.p50.toFixed(2)} ms, max ${b.max.toFixed(2)} ms`);
    t.true(a.p50 < 100 && b.p50 < 100, 'woken by the commit, not by a poll');
  });

  e.test('stream: a consumer process killed while holding an event resumes with that event, skipping none', async (t) => {
    const { db, target } = await e.fresh(t);
    const s = db.stream('events');
    for (let i = 1; i <= 10; i++) await s.publish({ i });
    const first = fixtureChild(t, 'matrix-stream-consumer', args(target, 'events', 'billing'));
    for (let i = 1; i <= 4; i++) {
      const ev = await first.waitFor((l) => l.kind === 'event' && (l.payload as { i: number }).i === i);
      t.truthy(ev);
      if (i < 4) first.send('next');
    }
    await first.kill('SIGKILL'); // holding event 4: events 1-3 are finished
    t.is(await s.offset('billing'), (await s.readSince(0, 3)).at(-1)!.offset);
    const second = fixtureChild(t, 'matrix-stream-consumer', args(target, 'events', 'billing'));
    const seen: number[] = [];
    for (let i = 4; i <= 10; i++) {
      const ev = await second.waitFor((l) => l.kind === 'event' && (l.payload as { i: number }).i === i);
      seen.push((ev.payload as { i: number }).i);
      second.send('next');
    }
    await s.publish({ i: 11 });
    const live = await second.waitFor((l) => l.kind === 'event' && (l.payload as { i: number }).i === 11);
    t.truthy(live, 'then new events as they are committed');
    t.deepEqual(seen, [4, 5, 6, 7, 8, 9, 10]);
    await second.close();
  });

  e.test('scheduler: one leader across processes; a SIGKILLed leader is replaced and no boundary fires twice', async (t) => {
    const { db, target } = await e.fresh(t);
    await db.scheduler().add({ name: 'tick', queue: 'ticks', schedule: '@every 1s', payload: {} });
    const a = fixtureChild(t, 'matrix-scheduler', args(target, '2'));
    const b = fixtureChild(t, 'matrix-scheduler', args(target, '2'));
    await a.waitFor((l) => l.kind === 'ready');
    await b.waitFor((l) => l.kind === 'ready');
    const leaderOf = () => [a, b].find((c) => c.lines.some((l) => l.kind === 'leader' && l.leader === true));
    await until('a leader', () => leaderOf() !== undefined, 10_000);
    const leader = leaderOf()!;
    const standby = leader === a ? b : a;
    t.false(standby.lines.some((l) => l.kind === 'leader' && l.leader === true), 'only one leader');
    await sleep(2500);
    const killedAt = Date.now();
    await leader.kill('SIGKILL');
    const took = await standby.waitFor((l) => l.kind === 'leader' && l.leader === true, 10_000);
    t.log(`standby took over ${(took.t as number) - killedAt} ms after the leader was killed (lease 2 s)`);
    await sleep(2000);
    await standby.close();
    const jobs = await db.queue('ticks').claimBatch('check', 1000);
    const boundaries = jobs.map((j: { id: number }) => j.id);
    t.true(boundaries.length >= 4, `fired ${boundaries.length} jobs`);
    const fired = await Promise.all(jobs.map(async (j: { id: number }) => (await db.queue('ticks').getJob(j.id)).runAt));
    t.is(new Set(fired).size, fired.length, 'each boundary once');
  });

  e.test('worker: a SIGKILLed worker process gives its jobs back in seconds, not after the visibility timeout', async (t) => {
    const { db, target } = await e.fresh(t);
    const q = db.queue('work');
    const work = q.task('work', async (i: number) => i);
    const handles = [];
    for (let i = 0; i < 6; i++) handles.push(await work(i, 60_000));
    const doomed = fixtureChild(t, 'matrix-task-worker', args(target, 'work', '6', 'doomed'));
    // Starting a child (tsx, the client) takes long on a loaded machine: count from its ready line.
    await doomed.waitFor((l) => l.kind === 'ready', 60_000);
    await until('6 started', () => doomed.lines.filter((l) => l.kind === 'started').length === 6, 20_000);
    // A second worker whose handler is quick, ready before the kill (so the time measured is the
    // rescue, not a child's start): the rescued jobs run again (attempt 2) and finish.
    const rescuer = fixtureChild(t, 'matrix-task-worker', args(target, 'work', '6', 'rescuer'));
    await rescuer.waitFor((l) => l.kind === 'ready', 60_000);
    await doomed.kill('SIGKILL');
    const killedAt = Date.now();
    const values = await Promise.all(handles.map((h: { get: (o: object) => Promise<unknown> }) => h.get({ timeoutMs: 20_000 }).catch((err: Error) => err.message)));
    t.log(`6 jobs of the killed worker finished elsewhere ${Date.now() - killedAt} ms after the kill`);
    t.true(Date.now() - killedAt < 15_000);
    // The results come through the database; the rescuer's "started" lines through its stdout pipe,
    // which may be read after them.
    await until('the rescuer started 6', () => rescuer.lines.filter((l) => l.kind === 'started').length >= 6, 10_000);
    t.is(rescuer.lines.filter((l) => l.kind === 'started').length, 6);
    t.deepEqual(values, [0, 1, 2, 3, 4, 5]);
    await rescuer.close();
  });
}

