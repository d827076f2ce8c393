/**
 * queue client: the claim iterator in one process — wakes on commits, hands
 * out batches one job at a time, stops on abort, rejects on close, and wakes
 * at deadlines (a delayed job's run_at, a lapsed claim) with no commit at all.
 * Latencies are measured and logged (t.log); bounds are generous (shared CI).
 */
import test from './helpers/test.js';
import { HonkerError } from '../src/index.js';
import { nextWithin, openTemp, sleep } from './helpers/queue-client.js';
import { orAfter } from './helpers/client.js';

const unixNow = (): number => Math.floor(Date.now() / 1000);

test('claim: a waiting iterator yields a job enqueued later in the same process', async (t) => {
  const { db } = openTemp(t);
  const q = db.queue<{ n: number }>('q');
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const it = q.claim('w', { signal: ac.signal });
  const pending = it.next();
  t.is((await nextWithin(it, 200, pending)).kind, 'timeout', 'nothing to claim yet');
  const latencies: number[] = [];
  let p = pending;
  for (let i = 0; i < 5; i++) {
    const sent = performance.now();
    const id = q.enqueue({ n: i });
    const r = await nextWithin(it, 5000, p);
    if (r.kind !== 'value') return t.fail(`job ${i}: ${r.kind}`);
    latencies.push(performance.now() - sent);
    t.is(r.value.id, id);
    t.deepEqual(r.value.payload, { n: i });
    t.true(r.value.ack());
    p = it.next();
    await sleep(20);
  }
  t.log(`enqueue -> yield, same process (ms): ${latencies.map((l) => l.toFixed(2)).join(' ')}`);
  t.true(Math.max(...latencies) < 1000);
  ac.abort();
  t.is((await nextWithin(it, 1000, p)).kind, 'done');
});

test('claim batchSize 5: claims five in one round trip, hands them out one at a time', async (t) => {
  const { db } = openTemp(t);
  const q = db.queue<number>('q');
  for (let i = 0; i < 7; i++) q.enqueue(i);
  const ac = new AbortController();
  const it = q.claim('w', { batchSize: 5, signal: ac.signal, visibilityTimeoutS: 30 });
  const first = await it.next();
  t.false(first.done);
  t.is(first.value?.payload, 0);
  const exp = first.value?.claimExpiresAt ?? 0;
  const nowS = unixNow();
  t.true(exp >= nowS + 20 && exp <= nowS + 30, `the claim option overrides the queue default (300): ${exp - nowS}`);
  t.deepEqual(q.stats(), { pending: 2, scheduled: 0, processing: 5, dead: 0 }, 'one batch of 5 claimed');
  const seen = [first.value?.payload];
  first.value?.ack();
  for (let i = 1; i < 7; i++) {
    const r = await it.next();
    if (r.done) return t.fail();
    t.false(Array.isArray(r.value), 'one job, not a batch');
    seen.push(r.value.payload);
    t.true(r.value.ack());
  }
  t.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6]);
  ac.abort();
  t.true((await it.next()).done);
  t.deepEqual(q.stats(), { pending: 0, scheduled: 0, processing: 0, dead: 0 });
});

test('claim: abort while idle ends the iterator promptly; an already aborted signal yields nothing', async (t) => {
  const { db } = openTemp(t);
  const q = db.queue('q');
  const ac = new AbortController();
  const it = q.claim('w', { signal: ac.signal });
  const p = it.next();
  await sleep(100);
  const started = performance.now();
  ac.abort();
  const r = await nextWithin(it, 1000, p);
  t.is(r.kind, 'done');
  t.log(`abort while idle -> done: ${(performance.now() - started).toFixed(2)} ms`);
  q.enqueue('after');
  t.true((await it.next()).done, 'stays done');
  t.is(q.stats().processing, 0);

  const pre = new AbortController();
  pre.abort(new Error('stop'));
  const it2 = q.claim('w', { signal: pre.signal });
  t.true((await it2.next()).done);
  t.is(q.stats().pending, 1, 'claimed nothing');
});

test('claim: abort between jobs stops before claiming the next one (batchSize 1 and 3)', async (t) => {
  const { db } = openTemp(t);
  const q = db.queue<number>('q');
  for (let i = 0; i < 6; i++) q.enqueue(i);
  for (const batchSize of [1, 3]) {
    const ac = new AbortController();
    const it = q.claim('w', { batchSize, signal: ac.signal });
    const r = await it.next();
    if (r.done) return t.fail();
    t.true(r.value.ack());
    ac.abort();
    const started = performance.now();
    t.true((await it.next()).done);
    t.true(performance.now() - started < 1000);
    t.is(q.stats().processing, 0, `batchSize ${batchSize}: nothing left claimed`);
  }
  t.deepEqual(q.stats(), { pending: 4, scheduled: 0, processing: 0, dead: 0 });
});

test('claim: db.close() while waiting rejects with CLOSED within 1 s; closing between jobs too', async (t) => {
  const a = openTemp(t);
  const it = a.db.queue('q').claim('w');
  const p = it.next();
  await sleep(100);
  const started = performance.now();
  a.db.close();
  const r = await nextWithin(it, 1000, p);
  if (r.kind !== 'error') return t.fail(`expected a rejection, got ${r.kind}`);
  t.log(`close while waiting -> reject: ${(performance.now() - started).toFixed(2)} ms`);
  t.true(r.error instanceof HonkerError);
  t.is(r.error.code, 'CLOSED');
  t.regex(r.error.message, /^honker: the database .* was closed$/);

  const b = openTemp(t);
  const q = b.db.queue('q');
  q.enqueue(1);
  q.enqueue(2);
  const it2 = q.claim('w');
  const first = await it2.next();
  t.false(first.done);
  b.db.close();
  const r2 = await nextWithin(it2, 1000);
  t.is(r2.kind, 'error');
  if (r2.kind === 'error') t.is(r2.error.code, 'CLOSED');
});

test('claim: wakes at the run_at of a delayed job with no commit to wake it', async (t) => {
  const { db } = openTemp(t);
  const q = db.queue<string>('q');
  const id = q.enqueue('later', { delayS: 2 });
  const runAt = q.getJob(id)?.runAt ?? 0;
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const it = q.claim('w', { signal: ac.signal });
  const r = await nextWithin(it, 5000);
  if (r.kind !== 'value') return t.fail(`expected the delayed job, got ${r.kind}`);
  const late = Date.now() - runAt * 1000;
  t.log(`delayed job yielded ${late} ms after its run_at`);
  t.is(r.value.id, id);
  t.true(late >= 0, 'not before it was due');
  t.true(late < 1000, `yielded within 1 s of run_at (was ${late} ms)`);
});

test('claim: reclaims a lapsed claim of another worker right after it lapses', async (t) => {
  const { db } = openTemp(t);
  const q = db.queue<string>('q', { maxAttempts: 3 });
  q.enqueue('x');
  const other = q.claimOne('crashed', { visibilityTimeoutS: 1 });
  if (!other) return t.fail();
  const lapseMs = (other.claimExpiresAt + 1) * 1000; // claim_expires_at < now from this second on
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const it = q.claim('w', { signal: ac.signal });
  const r = await nextWithin(it, 6000);
  if (r.kind !== 'value') return t.fail(`expected the reclaimed job, got ${r.kind}`);
  const late = Date.now() - lapseMs;
  t.log(`lapsed claim reclaimed ${late} ms after it became reclaimable`);
  t.is(r.value.id, other.id);
  t.is(r.value.attempts, 2);
  t.is(r.value.workerId, 'w');
  t.true(late >= 0);
  t.true(late < 1000, `within 1 s (was ${late} ms)`);
  t.false(other.ack(), 'the crashed worker lost it');
  t.true(r.value.ack());
});

test('claim: a deadline that passed while the consumer was busy is picked up at once', async (t) => {
  const { db } = openTemp(t);
  const q = db.queue<string>('q');
  q.enqueue('now');
  const laterId = q.enqueue('later', { delayS: 1 });
  const runAt = q.getJob(laterId)?.runAt ?? 0;
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const it = q.claim('w', { signal: ac.signal });
  const first = await it.next();
  t.is(first.value?.payload, 'now');
  // Busy past the delayed job's run_at (and past a whole extra second).
  while (Date.now() < runAt * 1000 + 1500) await sleep(50);
  first.value?.ack();
  const r = await nextWithin(it, 3000);
  if (r.kind !== 'value') return t.fail(r.kind);
  t.log(`after a missed deadline the next job came in ${r.ms.toFixed(2)} ms`);
  t.is(r.value.id, laterId);
  t.true(r.ms < 1000);
});

test('claim: a delayed job enqueued while waiting moves the deadline earlier', async (t) => {
  const { db } = openTemp(t);
  const q = db.queue<string>('q');
  q.enqueue('far', { delayS: 3600 });
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const it = q.claim('w', { signal: ac.signal });
  const p = it.next();
  await sleep(100);
  const id = q.enqueue('soon', { delayS: 1 });
  const runAt = q.getJob(id)?.runAt ?? 0;
  const r = await nextWithin(it, 4000, p);
  if (r.kind !== 'value') return t.fail(r.kind);
  const late = Date.now() - runAt * 1000;
  t.log(`re-armed deadline: yielded ${late} ms after run_at`);
  t.is(r.value.id, id);
  t.true(late >= 0 && late < 1000);
});

test('claim: several iterators on one queue share the work, each job once', async (t) => {
  const { db } = openTemp(t);
  const q = db.queue<number>('q');
  const ac = new AbortController();
  const got: Array<[string, number]> = [];
  const N = 60;
  let done = 0;
  let finish: () => void = () => undefined;
  const all = new Promise<void>((r) => (finish = r));
  const loops = ['a', 'b', 'c'].map(async (w) => {
    for await (const job of q.claim(w, { signal: ac.signal, batchSize: 2 })) {
      got.push([w, job.payload]);
      job.ack();
      await sleep(1);
      if (++done === N) finish();
    }
  });
  for (let i = 0; i < N; i++) {
    q.enqueue(i);
    if (i % 7 === 0) await sleep(5);
  }
  await orAfter(all, 20_000, undefined);
  ac.abort();
  await Promise.all(loops);
  t.is(got.length, N);
  t.deepEqual(
    got.map(([, n]) => n).sort((a, b) => a - b),
    Array.from({ length: N }, (_, i) => i),
  );
  t.deepEqual(q.stats(), { pending: 0, scheduled: 0, processing: 0, dead: 0 });
});

test.serial('claim: when the second turns between the empty claim and the deadline read, it looks again at once', async (t) => {
  const { db } = openTemp(t);
  const q = db.queue<string>('q');
  const id = q.enqueue('due soon', { delayS: 1 });
  const runAtMs = (q.getJob(id)?.runAt ?? 0) * 1000;
  // Make the race certain: the first deadline read happens only once the job is due.
  const stmt = db.sql('SELECT honker_queue_next_claim_at(?)');
  const get = stmt.get.bind(stmt);
  let calls = 0;
  stmt.get = ((...args: unknown[]) => {
    // Busy (serial test: it blocks the event loop): the claim just before saw nothing due.
    if (calls++ === 0) while (Date.now() < runAtMs + 5);
    return get(...args);
  }) as typeof stmt.get;
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const it = q.claim('w', { signal: ac.signal });
  const r = await nextWithin(it, 4000);
  if (r.kind !== 'value') return t.fail(r.kind);
  const late = Date.now() - runAtMs;
  t.log(`missed deadline (second turned mid-check): yielded ${late} ms after run_at`);
  t.is(r.value.id, id);
  t.true(calls >= 1);
  t.true(late < 500, `looked again at once, not a second later (was ${late} ms)`);
});
