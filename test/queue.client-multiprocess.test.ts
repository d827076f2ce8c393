/**
 * queue client across processes: worker fixtures (test/fixtures/
 * client-queue-worker.ts) and enqueuer fixtures (client-queue-enqueue.ts)
 * on one database file; the sqlite3 CLI as a foreign host. Every job is
 * handed out exactly once, waiting iterators wake on commits from other
 * processes and at deadlines, and the wake latency is measured (t.log).
 */
import test from './helpers/test.js';
import { sqliteCli } from './helpers/db.js';
import { child, nextWithin, nowMs, openTemp, percentiles, sleep } from './helpers/queue-client.js';

type Sent = { i: number; t: number };

/** Job lines of a worker fixture. */
const jobsOf = (lines: Record<string, unknown>[]): Array<{ id: number; payload: Sent; t: number }> =>
  lines.filter((l) => l.kind === 'job') as unknown as Array<{ id: number; payload: Sent; t: number }>;

test.serial('stress: 100 enqueues with 0-1 ms jitter from this process, a draining worker process gets each once, fast', async (t) => {
  const { db, file } = openTemp(t);
  const q = db.queue<Sent>('stress');
  const worker = child(t, 'client-queue-worker', [file, 'stress', 'w', '1', '100']);
  await worker.waitFor((l) => l.kind === 'ready');
  const ids: number[] = [];
  for (let i = 0; i < 100; i++) {
    ids.push(q.enqueue({ i, t: nowMs() }));
    const pause = Math.floor(Math.random() * 2);
    if (pause) await sleep(pause);
  }
  await worker.waitFor((l) => l.kind === 'done', 30_000);
  t.is(await worker.exited, 0, worker.stderr);
  const jobs = jobsOf(worker.lines);
  t.deepEqual(
    jobs.map((j) => j.id).sort((a, b) => a - b),
    ids,
  );
  t.is(worker.of('lost').length, 0);
  const lat = percentiles(jobs.map((j) => j.t - j.payload.t));
  t.log(`enqueue (this process) -> yield (worker process), ms: p50 ${lat.p50.toFixed(2)} p99 ${lat.p99.toFixed(2)} max ${lat.max.toFixed(2)}`);
  t.true(lat.max < 5000, `worst latency ${lat.max} ms`);
  t.deepEqual(q.stats(), { pending: 0, scheduled: 0, processing: 0, dead: 0 });
});

test.serial('stress: 100 enqueues with 0-1 ms jitter from another process, a draining iterator here gets each once, fast', async (t) => {
  const { db, file } = openTemp(t);
  const q = db.queue<Sent>('stress');
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const received: Array<{ id: number; lat: number }> = [];
  const it = q.claim('here', { signal: ac.signal });
  const first = it.next(); // waiting before the other process starts
  const enq = child(t, 'client-queue-enqueue', [file, 'stress', '100', '1']);
  let r = await nextWithin(it, 30_000, first);
  while (r.kind === 'value') {
    received.push({ id: r.value.id, lat: nowMs() - r.value.payload.t });
    r.value.ack();
    if (received.length === 100) break;
    r = await nextWithin(it, 30_000);
  }
  t.is(r.kind, 'value', `stopped after ${received.length} jobs: ${r.kind}`);
  const done = await enq.waitFor((l) => l.kind === 'done');
  t.deepEqual(
    received.map((x) => x.id).sort((a, b) => a - b),
    done.ids as number[],
  );
  const lat = percentiles(received.map((x) => x.lat));
  t.log(`enqueue (other process) -> yield (here), ms: p50 ${lat.p50.toFixed(2)} p99 ${lat.p99.toFixed(2)} max ${lat.max.toFixed(2)}`);
  t.true(lat.max < 5000, `worst latency ${lat.max} ms`);
});

test.serial('deadline: a delayed job enqueued by another process wakes the waiting iterator at its run_at', async (t) => {
  const { db, file } = openTemp(t);
  const q = db.queue<Sent>('later');
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const it = q.claim('here', { signal: ac.signal });
  const pending = it.next();
  const enq = child(t, 'client-queue-enqueue', [file, 'later', '1', '0', '2']);
  const sent = await enq.waitFor((l) => l.kind === 'sent');
  const r = await nextWithin(it, 6000, pending);
  if (r.kind !== 'value') return t.fail(r.kind);
  const late = Date.now() - (sent.runAt as number) * 1000;
  t.log(`delayed job (other process, delayS 2) yielded ${late} ms after its run_at`);
  t.is(r.value.id, sent.id as number);
  t.true(late >= 0, 'not before run_at');
  t.true(late < 1000, `within 1 s of run_at (was ${late} ms)`);
});

test.serial('deadline: a worker process reclaims a job whose claim (visibilityTimeoutS 1) lapsed, right after', async (t) => {
  const { db, file } = openTemp(t);
  const q = db.queue<string>('q');
  const worker = child(t, 'client-queue-worker', [file, 'q', 'rescuer', '1', '1']);
  await worker.waitFor((l) => l.kind === 'ready');
  // Enqueue and claim in one commit, so the waiting worker never sees it pending.
  const job = db.transaction(() => {
    q.enqueue('abandoned');
    return q.claimOne('crashed', { visibilityTimeoutS: 1 });
  });
  if (!job) return t.fail();
  const got = await worker.waitFor((l) => l.kind === 'job', 8000);
  const late = (got.t as number) - (job.claimExpiresAt + 1) * 1000;
  t.log(`lapsed claim reclaimed by the worker process ${late.toFixed(1)} ms after it became reclaimable`);
  t.is(got.id, job.id);
  t.is(got.attempts, 2);
  t.true(late >= -50, 'not before the claim lapsed (50 ms clock slack)');
  t.true(late < 1000, `within 1 s (was ${late} ms)`);
  t.false(job.ack());
  t.is(await worker.exited, 0, worker.stderr);
});

test('cross-process: a worker process drains 500 jobs enqueued by another process, each exactly once', async (t) => {
  const { db, file } = openTemp(t);
  const worker = child(t, 'client-queue-worker', [file, 'bulk', 'w1', '8', '500']);
  await worker.waitFor((l) => l.kind === 'ready');
  const started = performance.now();
  const enq = child(t, 'client-queue-enqueue', [file, 'bulk', '500', '0']);
  const done = await enq.waitFor((l) => l.kind === 'done', 60_000);
  await worker.waitFor((l) => l.kind === 'done', 60_000);
  t.log(`500 jobs enqueued by one process and drained by another in ${(performance.now() - started).toFixed(0)} ms`);
  t.is(await worker.exited, 0, worker.stderr);
  const ids = jobsOf(worker.lines).map((j) => j.id);
  t.is(ids.length, 500);
  t.is(new Set(ids).size, 500, 'no job twice');
  t.deepEqual([...ids].sort((a, b) => a - b), done.ids as number[]);
  t.deepEqual(
    jobsOf(worker.lines).map((j) => j.payload.i),
    Array.from({ length: 500 }, (_, i) => i),
    'in enqueue order',
  );
  t.deepEqual(db.queue('bulk').stats(), { pending: 0, scheduled: 0, processing: 0, dead: 0 });
});

test('cross-process: 2 worker processes drain 1,000 jobs together with no duplicates', async (t) => {
  const { db, file } = openTemp(t);
  const q = db.queue<Sent>('shared');
  const workers = [child(t, 'client-queue-worker', [file, 'shared', 'wa', '4']), child(t, 'client-queue-worker', [file, 'shared', 'wb', '4'])];
  await Promise.all(workers.map((w) => w.waitFor((l) => l.kind === 'ready')));
  const ids: number[] = [];
  const started = performance.now();
  for (let chunk = 0; chunk < 20; chunk++) {
    db.transaction(() => {
      for (let i = 0; i < 50; i++) ids.push(q.enqueue({ i: chunk * 50 + i, t: nowMs() }));
    });
    await sleep(5);
  }
  const deadline = Date.now() + 60_000;
  while (workers.reduce((n, w) => n + jobsOf(w.lines).length, 0) < 1000 && Date.now() < deadline) await sleep(20);
  const drainMs = performance.now() - started;
  await sleep(300); // a duplicate would show up here
  const codes = await Promise.all(workers.map((w) => w.stop()));
  t.deepEqual(codes, [0, 0], workers.map((w) => w.stderr).join('\n'));
  const a = jobsOf(workers[0].lines).map((j) => j.id);
  const b = jobsOf(workers[1].lines).map((j) => j.id);
  t.log(`1,000 jobs drained by 2 worker processes in ${drainMs.toFixed(0)} ms; split ${a.length} / ${b.length}`);
  const all = [...a, ...b];
  t.is(all.length, 1000);
  t.is(new Set(all).size, 1000, 'no duplicates');
  t.deepEqual(all.sort((x, y) => x - y), ids);
  t.true(a.length > 0 && b.length > 0, 'both workers took part');
  t.is(workers[0].of('lost').length + workers[1].of('lost').length, 0);
  t.deepEqual(q.stats(), { pending: 0, scheduled: 0, processing: 0, dead: 0 });
});

test('interop: a job enqueued with raw SQL by the sqlite3 CLI wakes and reaches the waiting claim iterator', async (t) => {
  const { db, file } = openTemp(t);
  const q = db.queue<{ from: string }>('interop');
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const it = q.claim('ts-worker', { signal: ac.signal });
  const pending = it.next();
  t.is((await nextWithin(it, 300, pending)).kind, 'timeout', 'waiting before the CLI commits');
  const sent = performance.now();
  const cli = sqliteCli(file, `SELECT honker_enqueue('interop', '{"from":"cli"}', NULL, NULL, 0, 3, NULL);`);
  t.is(cli.status, 0, cli.stderr);
  const id = Number(cli.stdout.trim());
  const r = await nextWithin(it, 5000, pending);
  if (r.kind !== 'value') return t.fail(r.kind);
  t.log(`CLI commit -> yield: ${(performance.now() - sent).toFixed(1)} ms (includes the CLI process exit)`);
  t.is(r.value.id, id);
  t.deepEqual(r.value.payload, { from: 'cli' });
  t.true(r.value.ack());
  t.deepEqual(q.stats(), { pending: 0, scheduled: 0, processing: 0, dead: 0 });
});

test('interop: a job enqueued by the client is claimed and acked through the sqlite3 CLI', (t) => {
  const { db, file } = openTemp(t);
  const q = db.queue<{ to: string; n: number }>('interop');
  const id = q.enqueue({ to: 'cli', n: 7 }, { priority: 3 });
  const claim = sqliteCli(file, `SELECT honker_claim_batch('interop', 'cli-worker', 1, 300);`);
  t.is(claim.status, 0, claim.stderr);
  const [row] = JSON.parse(claim.stdout) as Array<{ id: number; payload: string; worker_id: string; attempts: number }>;
  t.is(row.id, id);
  t.deepEqual(JSON.parse(row.payload), { to: 'cli', n: 7 });
  t.is(row.attempts, 1);
  t.like(q.getJob(id), { state: 'processing', workerId: 'cli-worker' });
  const ack = sqliteCli(file, `SELECT honker_ack(${id}, 'cli-worker');`);
  t.is(ack.status, 0, ack.stderr);
  t.is(ack.stdout.trim(), '1');
  t.is(q.getJob(id), null);
  t.deepEqual(q.stats(), { pending: 0, scheduled: 0, processing: 0, dead: 0 });
});
