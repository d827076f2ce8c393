/**
 * queue client: the API of db.queue<T>() against a real database file —
 * enqueue options, claim/ack/retry/fail/heartbeat and their results, stats,
 * getJob, cancel, expiry sweep, dead letters, and the synchronous errors
 * (exact messages, nothing written).
 */
import test, { type ExecutionContext } from './helpers/test.js';
import Database from 'better-sqlite3';
import { HonkerError, type HonkerDatabase } from '../src/index.js';
import { openTemp, sleep, syncError } from './helpers/queue-client.js';

type Email = { to: string; orderId: number };

const unixNow = (): number => Math.floor(Date.now() / 1000);
const count = (db: HonkerDatabase, table: string): number =>
  db.raw.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

/** Wait until unixepoch() is past `s` (a claim_expires_at or expires_at). */
async function until(s: number): Promise<void> {
  while (unixNow() <= s) await sleep(50);
}

test('enqueue with no options: a pending, due job with the queue defaults and the typed payload', (t) => {
  const { db } = openTemp(t);
  const emails = db.queue<Email>('emails', { maxAttempts: 5 });
  const before = unixNow();
  const id = emails.enqueue({ to: 'alice', orderId: 42 });
  const job = emails.getJob(id);
  t.truthy(job);
  if (!job) return;
  const p: Email = job.payload; // typed
  t.deepEqual(p, { to: 'alice', orderId: 42 });
  t.is(job.queue, 'emails');
  t.is(job.state, 'pending');
  t.is(job.priority, 0);
  t.is(job.maxAttempts, 5);
  t.is(job.attempts, 0);
  t.is(job.expiresAt, null);
  t.is(job.workerId, null);
  t.is(job.lastError, null);
  t.true(job.runAt >= before && job.runAt <= unixNow());
  t.deepEqual(emails.stats(), { pending: 1, scheduled: 0, processing: 0, dead: 0 });
  t.is(db.queue('emails').maxAttempts, 3, 'default maxAttempts');
  t.is(db.queue('emails').visibilityTimeoutS, 300, 'default visibilityTimeoutS');
});

test('enqueue delayS: scheduled, not claimable until due; delayS wins over runAt', (t) => {
  const { db } = openTemp(t);
  const q = db.queue<number>('q');
  const before = unixNow();
  const id = q.enqueue(1, { delayS: 3600 });
  const job = q.getJob(id);
  t.true(job !== null && job.runAt >= before + 3600 && job.runAt <= unixNow() + 3600);
  t.deepEqual(q.stats(), { pending: 0, scheduled: 1, processing: 0, dead: 0 });
  t.is(q.claimOne('w'), null);
  const both = q.enqueue(2, { delayS: 0, runAt: before + 99_999 });
  t.true((q.getJob(both)?.runAt ?? 0) <= unixNow(), 'delayS 0 wins over a far runAt');
  t.is(q.claimOne('w')?.id, both);
});

test('enqueue runAt as a Date and as unix seconds; a past runAt is due now', (t) => {
  const { db } = openTemp(t);
  const q = db.queue('q');
  const date = new Date(Date.UTC(2100, 0, 2, 3, 4, 5, 999));
  const a = q.enqueue('a', { runAt: date });
  t.is(q.getJob(a)?.runAt, Math.floor(date.getTime() / 1000));
  const b = q.enqueue('b', { runAt: 4_102_444_800 });
  t.is(q.getJob(b)?.runAt, 4_102_444_800);
  const c = q.enqueue('c', { runAt: new Date(Date.now() - 60_000) });
  const d = q.enqueue('d', { runAt: 0 });
  t.deepEqual(q.stats(), { pending: 2, scheduled: 2, processing: 0, dead: 0 });
  t.deepEqual(
    q.claimBatch('w', 10).map((j) => j.id),
    [d, c],
    'past run_at is due, oldest first',
  );
});

test('enqueue priority: higher first, negative allowed; claimBatch returns best first', (t) => {
  const { db } = openTemp(t);
  const q = db.queue<string>('q');
  const low = q.enqueue('low', { priority: -5 });
  const mid = q.enqueue('mid');
  const high = q.enqueue('high', { priority: 10 });
  const mid2 = q.enqueue('mid2');
  const jobs = q.claimBatch('w', 3);
  t.deepEqual(
    jobs.map((j) => [j.id, j.payload]),
    [
      [high, 'high'],
      [mid, 'mid'],
      [mid2, 'mid2'],
    ],
  );
  t.is(q.getJob(low)?.priority, -5);
  t.is(q.claimOne('w')?.id, low);
});

test('enqueue expiresS: expiresAt set; sweepExpired dead-letters it once expired', async (t) => {
  const { db } = openTemp(t);
  const q = db.queue('q');
  const id = q.enqueue('x', { expiresS: 1, delayS: 60 });
  const keep = q.enqueue('y', { expiresS: 3600 });
  const job = q.getJob(id);
  t.truthy(job?.expiresAt);
  t.is(job?.expiresAt, (job?.createdAt ?? 0) + 1);
  t.is(q.sweepExpired(), 0, 'not expired yet');
  await until((job?.expiresAt ?? 0) - 1); // expired means expires_at <= now
  t.is(q.sweepExpired(), 1);
  t.is(q.getJob(id), null);
  t.truthy(q.getJob(keep));
  const dead = q.dead.list();
  for (const d of dead) t.deepEqual(q.dead.get(d.id), d, 'dead.get returns the row dead.list shows');
  t.is(q.dead.get(987654), null);
  t.deepEqual(
    dead.map((d) => [d.id, d.lastError]),
    [[id, 'expired']],
  );
});

test('enqueue maxAttempts: per-job override; the last retry dead-letters', (t) => {
  const { db } = openTemp(t);
  const q = db.queue('q', { maxAttempts: 4 });
  const id = q.enqueue('x', { maxAttempts: 1 });
  t.is(q.getJob(id)?.maxAttempts, 1);
  const job = q.claimOne('w');
  t.is(job?.attempts, 1);
  t.true(job?.retry({ error: 'no luck' }));
  t.is(q.getJob(id), null);
  const [dead] = q.dead.list();
  t.like(dead, { id, attempts: 1, maxAttempts: 1, lastError: 'no luck', payload: 'x' });
});

test('enqueue key: idempotent while live, returns the holder id, free again after ack', (t) => {
  const { db } = openTemp(t);
  const q = db.queue<{ n: number }>('q');
  const first = q.enqueue({ n: 1 }, { key: 'user:42' });
  const again = q.enqueue({ n: 2 }, { key: 'user:42', priority: 9 });
  t.is(again, first);
  t.is(count(db, '_honker_live'), 1);
  t.deepEqual(q.getJob(first)?.payload, { n: 1 }, 'the holder is left as it was');
  t.is(q.getJob(first)?.priority, 0);
  const other = db.queue('other').enqueue({ n: 3 }, { key: 'user:42' });
  t.not(other, first, 'keys are per queue');
  const job = q.claimOne('w');
  t.is(q.enqueue({ n: 4 }, { key: 'user:42' }), first, 'a processing job still holds its key');
  t.true(job?.ack());
  const fresh = q.enqueue({ n: 5 }, { key: 'user:42' });
  t.not(fresh, first);
  t.deepEqual(q.getJob(fresh)?.payload, { n: 5 });
});

test('claimOne, claimBatch, ackBatch: counts, worker check, empty queue', (t) => {
  const { db } = openTemp(t);
  const q = db.queue<number>('q');
  t.is(q.claimOne('w'), null);
  t.deepEqual(q.claimBatch('w', 5), []);
  const ids = [1, 2, 3, 4, 5].map((n) => q.enqueue(n));
  t.deepEqual(q.claimBatch('w', 0), []);
  const jobs = q.claimBatch('w1', 3, { visibilityTimeoutS: 60 });
  t.deepEqual(
    jobs.map((j) => j.payload),
    [1, 2, 3],
  );
  for (const j of jobs) {
    t.is(j.workerId, 'w1');
    t.is(j.queue, 'q');
    t.is(j.attempts, 1);
    t.true(j.claimExpiresAt >= unixNow() + 55 && j.claimExpiresAt <= unixNow() + 60);
  }
  t.deepEqual(q.stats(), { pending: 2, scheduled: 0, processing: 3, dead: 0 });
  t.is(q.ackBatch(jobs.map((j) => j.id), 'w2'), 0, 'another worker acks nothing');
  t.is(q.ackBatch([jobs[0].id, jobs[1].id, 999], 'w1'), 2);
  t.is(q.ackBatch([jobs[0].id], 'w1'), 0, 'already acked');
  t.is(q.ackBatch([], 'w1'), 0);
  const one = q.claimOne('w1');
  t.is(one?.id, ids[3]);
  t.deepEqual(q.stats(), { pending: 1, scheduled: 0, processing: 2, dead: 0 });
});

test('job.ack: true once, then false; false after cancel', (t) => {
  const { db } = openTemp(t);
  const q = db.queue('q');
  q.enqueue('a');
  q.enqueue('b');
  const a = q.claimOne('w');
  t.true(a?.ack());
  t.false(a?.ack());
  const b = q.claimOne('w');
  t.true(q.cancel(b?.id ?? 0));
  t.false(q.cancel(b?.id ?? 0));
  t.false(b?.ack());
  t.false(b?.heartbeat(10));
  t.false(b?.retry());
  t.false(b?.fail('x'));
  t.is(count(db, '_honker_live'), 0);
  t.is(count(db, '_honker_dead'), 0);
});

test('job.retry: back to pending with lastError, attempts counted, delayS applied', (t) => {
  const { db } = openTemp(t);
  const q = db.queue<Email>('q', { maxAttempts: 3 });
  const id = q.enqueue({ to: 'bob', orderId: 1 });
  const job = q.claimOne('w');
  t.true(job?.retry({ delayS: 30, error: 'smtp timeout' }));
  const row = q.getJob(id);
  t.like(row, { state: 'pending', attempts: 1, lastError: 'smtp timeout', workerId: null, claimExpiresAt: null });
  t.true((row?.runAt ?? 0) >= unixNow() + 25);
  t.deepEqual(row?.payload, { to: 'bob', orderId: 1 });
  t.false(job?.ack(), 'the retried claim is gone');
  t.deepEqual(q.stats(), { pending: 0, scheduled: 1, processing: 0, dead: 0 });
  // retry without delay: due again at once; an Error's message is recorded
  const id2 = q.enqueue({ to: 'carol', orderId: 2 });
  const j2 = q.claimOne('w');
  t.is(j2?.id, id2);
  t.true(j2?.retry({ error: new Error('kaput').message }));
  t.is(q.getJob(id2)?.lastError, 'kaput');
  const again = q.claimOne('w');
  t.is(again?.id, id2);
  t.is(again?.attempts, 2);
  t.true(again?.retry());
  t.is(q.getJob(id2)?.lastError, 'retried', 'default error text');
});

test('job.fail: dead-letters at once with the error (an Error gives its message)', (t) => {
  const { db } = openTemp(t);
  const q = db.queue<number>('q', { maxAttempts: 10 });
  const a = q.enqueue(1);
  const b = q.enqueue(2);
  t.true(q.claimOne('w')?.fail(new Error('bad address')));
  t.true(q.claimOne('w')?.fail());
  const dead = q.dead.list();
  t.deepEqual(
    dead.map((d) => [d.id, d.payload, d.lastError, d.attempts]).sort(),
    [
      [a, 1, 'bad address', 1],
      [b, 2, 'failed', 1],
    ],
  );
  t.deepEqual(q.stats(), { pending: 0, scheduled: 0, processing: 0, dead: 2 });
});

test('job.heartbeat extends the claim; after the claim lapsed heartbeat, ack, retry and fail return false', async (t) => {
  const { db } = openTemp(t);
  const q = db.queue('q', { visibilityTimeoutS: 1 });
  q.enqueue('a');
  q.enqueue('b');
  const [a, b] = q.claimBatch('w', 2);
  t.true(a.heartbeat(600));
  t.true(a.claimExpiresAt >= unixNow() + 595);
  t.is(q.getJob(a.id)?.claimExpiresAt, a.claimExpiresAt);
  await until(b.claimExpiresAt); // b's claim lapsed (nobody reclaimed it)
  t.false(b.heartbeat(600));
  t.false(b.ack());
  t.false(b.retry());
  t.false(b.fail('late'));
  t.is(q.getJob(b.id)?.state, 'processing', 'still there for a reclaim');
  t.true(a.ack(), 'the extended claim is still valid');
  const re = q.claimOne('w2');
  t.is(re?.id, b.id);
  t.is(re?.attempts, 2);
});

test('stats, getJob and cancel', (t) => {
  const { db } = openTemp(t);
  const q = db.queue<{ a: number[] }>('q');
  const other = db.queue('other');
  other.enqueue(1);
  const due = q.enqueue({ a: [1] });
  q.enqueue({ a: [2] }, { delayS: 100 });
  const taken = q.enqueue({ a: [3] });
  t.deepEqual(q.stats(), { pending: 2, scheduled: 1, processing: 0, dead: 0 });
  q.claimBatch('w', 2);
  t.deepEqual(q.stats(), { pending: 0, scheduled: 1, processing: 2, dead: 0 });
  const row = q.getJob(taken);
  t.like(row, { state: 'processing', workerId: 'w', attempts: 1 });
  t.deepEqual(row?.payload.a, [3]);
  t.is(q.getJob(123456), null);
  t.true(q.cancel(due));
  t.is(q.getJob(due), null);
  t.deepEqual(q.stats(), { pending: 0, scheduled: 1, processing: 1, dead: 0 });
  t.deepEqual(other.stats(), { pending: 1, scheduled: 0, processing: 0, dead: 0 });
});

test('dead letters: list newest first, requeue resets attempts, purge', (t) => {
  const { db } = openTemp(t);
  const q = db.queue<string>('q');
  const ids = ['a', 'b', 'c'].map((p) => q.enqueue(p));
  for (const j of q.claimBatch('w', 3)) j.fail(`bad ${j.payload}`);
  const list = q.dead.list();
  t.is(list.length, 3);
  t.deepEqual(
    list.map((d) => d.id),
    [...ids].reverse(),
    'newest first (same second: id desc)',
  );
  t.is(q.dead.list({ limit: 1 }).length, 1);
  t.like(list[2], { id: ids[0], payload: 'a', lastError: 'bad a', queue: 'q', attempts: 1 });
  t.true(list[2].diedAt >= list[2].createdAt);
  t.true(q.dead.requeue(ids[0]));
  t.false(q.dead.requeue(ids[0]), 'no longer dead');
  t.like(q.getJob(ids[0]), { state: 'pending', attempts: 0, lastError: 'bad a' });
  t.is(q.dead.purge({ olderThanS: 3600 }), 0, 'nothing that old');
  t.is(q.dead.purge(), 2);
  t.deepEqual(q.dead.list(), []);
  t.deepEqual(q.stats(), { pending: 1, scheduled: 0, processing: 0, dead: 0 });
});

test('a claim iterator stopped mid-batch hands the jobs it did not hand out back, attempts and place kept', async (t) => {
  const { db } = openTemp(t);
  const q = db.queue<number>('q');
  const ids = [1, 2, 3, 4].map((n) => q.enqueue(n));
  for await (const job of q.claim('w', { batchSize: 4 })) {
    t.is(job.id, ids[0]);
    job.ack();
    break;
  }
  t.deepEqual(q.stats(), { pending: 3, scheduled: 0, processing: 0, dead: 0 });
  t.like(q.getJob(ids[1]), { state: 'pending', attempts: 0, lastError: null, workerId: null });
  t.deepEqual(
    q.claimBatch('w2', 10).map((j) => j.id),
    ids.slice(1),
  );
});

// --- errors: thrown synchronously, exact message, nothing written --------------------------

interface ErrorCase {
  name: string;
  run: (db: HonkerDatabase) => unknown;
  message: string;
  code?: string;
}

const big = (): unknown => ({ n: 10n });
const circular = (): unknown => {
  const o: Record<string, unknown> = {};
  o.self = o;
  return o;
};
// Deliberately wrong types, as JavaScript callers can pass them.
const anyQ = (db: HonkerDatabase, ...args: unknown[]): ReturnType<HonkerDatabase['queue']> =>
  (db.queue as (...a: unknown[]) => ReturnType<HonkerDatabase['queue']>)(...args);
const enq = (db: HonkerDatabase, payload: unknown, options?: unknown): unknown =>
  (db.queue('q').enqueue as (p: unknown, o?: unknown) => number)(payload, options);

const errorCases: ErrorCase[] = [
  { name: 'queue name type', run: (db) => anyQ(db, 42), message: 'db.queue: name must be a non-empty string (got 42)' },
  { name: 'empty queue name', run: (db) => anyQ(db, ''), message: 'db.queue: name must be a non-empty string (got "")' },
  {
    name: 'queue option hint',
    run: (db) => anyQ(db, 'q', { visibility: 5 }),
    message: 'db.queue: unknown option "visibility" (did you mean "visibilityTimeoutS"?)',
  },
  {
    name: 'queue visibilityTimeoutS 0',
    run: (db) => anyQ(db, 'q', { visibilityTimeoutS: 0 }),
    message: 'db.queue: visibilityTimeoutS must be an integer >= 1 (got 0)',
  },
  {
    name: 'BigInt payload',
    run: (db) => enq(db, big()),
    message: 'queue.enqueue: payload must be JSON-serialisable (Do not know how to serialize a BigInt)',
  },
  {
    name: 'circular payload',
    run: (db) => enq(db, circular()),
    message:
      "queue.enqueue: payload must be JSON-serialisable (Converting circular structure to JSON\n    --> starting at object with constructor 'Object'\n    --- property 'self' closes the circle)",
  },
  { name: 'undefined payload', run: (db) => enq(db, undefined), message: 'queue.enqueue: payload must be JSON-serialisable (got undefined)' },
  { name: 'function payload', run: (db) => enq(db, () => 1), message: 'queue.enqueue: payload must be JSON-serialisable (got a function)' },
  { name: 'negative delayS', run: (db) => enq(db, 1, { delayS: -1 }), message: 'queue.enqueue: delayS must be an integer >= 0 (got -1)' },
  { name: 'delayS 3.5', run: (db) => enq(db, 1, { delayS: 3.5 }), message: 'queue.enqueue: delayS must be an integer >= 0 (got 3.5)' },
  { name: 'delayS string', run: (db) => enq(db, 1, { delayS: '5' }), message: 'queue.enqueue: delayS must be an integer >= 0 (got "5")' },
  { name: 'unknown option hint', run: (db) => enq(db, 1, { delay: 5 }), message: 'queue.enqueue: unknown option "delay" (did you mean "delayS"?)' },
  { name: 'unknown option hint (case)', run: (db) => enq(db, 1, { runat: 5 }), message: 'queue.enqueue: unknown option "runat" (did you mean "runAt"?)' },
  { name: 'unknown option no hint', run: (db) => enq(db, 1, { colour: 'red' }), message: 'queue.enqueue: unknown option "colour"' },
  { name: 'options not an object', run: (db) => enq(db, 1, 5), message: 'queue.enqueue: options must be an object (got 5)' },
  { name: 'runAt string', run: (db) => enq(db, 1, { runAt: 'tomorrow' }), message: 'queue.enqueue: runAt must be a Date or unix seconds (an integer >= 0) (got "tomorrow")' },
  { name: 'runAt ms float', run: (db) => enq(db, 1, { runAt: 1.5 }), message: 'queue.enqueue: runAt must be a Date or unix seconds (an integer >= 0) (got 1.5)' },
  { name: 'runAt invalid Date', run: (db) => enq(db, 1, { runAt: new Date('nope') }), message: 'queue.enqueue: runAt must be a valid Date (got "Invalid Date")' },
  { name: 'priority 1.5', run: (db) => enq(db, 1, { priority: 1.5 }), message: 'queue.enqueue: priority must be an integer (got 1.5)' },
  { name: 'expiresS 0', run: (db) => enq(db, 1, { expiresS: 0 }), message: 'queue.enqueue: expiresS must be an integer >= 1 (got 0)' },
  { name: 'maxAttempts 0', run: (db) => enq(db, 1, { maxAttempts: 0 }), message: 'queue.enqueue: maxAttempts must be an integer >= 1 (got 0)' },
  { name: 'empty key', run: (db) => enq(db, 1, { key: '' }), message: 'queue.enqueue: key must be a non-empty string (got "")' },
  { name: 'key number', run: (db) => enq(db, 1, { key: 7 }), message: 'queue.enqueue: key must be a non-empty string (got 7)' },
  {
    name: 'claimBatch n -1',
    run: (db) => db.queue('q').claimBatch('w', -1),
    message: 'queue.claimBatch: n must be an integer >= 0 (got -1)',
  },
  {
    name: 'claimOne empty worker',
    run: (db) => db.queue('q').claimOne(''),
    message: 'queue.claimOne: workerId must be a non-empty string (got "")',
  },
  {
    name: 'claimOne option hint',
    run: (db) => (db.queue('q').claimOne as (w: string, o: unknown) => unknown)('w', { visibilityTimeout: 5 }),
    message: 'queue.claimOne: unknown option "visibilityTimeout" (did you mean "visibilityTimeoutS"?)',
  },
  {
    name: 'claimBatch empty worker',
    run: (db) => db.queue('q').claimBatch('', 2),
    message: 'queue.claimBatch: workerId must be a non-empty string (got "")',
  },
  {
    name: 'ackBatch not an array',
    run: (db) => (db.queue('q').ackBatch as (i: unknown, w: string) => number)('[1]', 'w'),
    message: 'queue.ackBatch: ids must be an array of job ids (got "[1]")',
  },
  {
    name: 'ackBatch bad element',
    run: (db) => db.queue('q').ackBatch([1, 2.5], 'w'),
    message: 'queue.ackBatch: ids[1] must be an integer >= 1 (got 2.5)',
  },
  {
    name: 'claim option hint (sync)',
    run: (db) => (db.queue('q').claim as (w: string, o: unknown) => unknown)('w', { batch: 2 }),
    message: 'queue.claim: unknown option "batch" (did you mean "batchSize"?)',
  },
  {
    name: 'claim batchSize 0 (sync)',
    run: (db) => db.queue('q').claim('w', { batchSize: 0 }),
    message: 'queue.claim: batchSize must be an integer >= 1 (got 0)',
  },
  {
    name: 'claim bad signal (sync)',
    run: (db) => (db.queue('q').claim as (w: string, o: unknown) => unknown)('w', { signal: {} }),
    message: 'queue.claim: signal must be an AbortSignal (got an object)',
  },
  { name: 'getJob id 0', run: (db) => db.queue('q').getJob(0), message: 'queue.getJob: id must be an integer >= 1 (got 0)' },
  { name: 'cancel id string', run: (db) => (db.queue('q').cancel as (i: unknown) => boolean)('1'), message: 'queue.cancel: id must be an integer >= 1 (got "1")' },
  {
    name: 'dead.purge negative',
    run: (db) => db.queue('q').dead.purge({ olderThanS: -1 }),
    message: 'queue.dead.purge: olderThanS must be an integer >= 0 (got -1)',
  },
  {
    name: 'dead.list hint',
    run: (db) => (db.queue('q').dead.list as (o: unknown) => unknown)({ limt: 1 }),
    message: 'queue.dead.list: unknown option "limt" (did you mean "limit"?)',
  },
  // Input never silently changed: what JSON.stringify would alter is refused, naming the path.
  {
    name: 'Map payload',
    run: (db) => enq(db, new Map([[1, 2]])),
    message: 'queue.enqueue: payload must be a plain object or array (got a Map): JSON would store {}; pass Object.fromEntries(map)',
  },
  {
    name: 'NaN payload',
    run: (db) => enq(db, NaN),
    message: 'queue.enqueue: payload must be a finite number (got NaN): JSON would store null; pass null or a number',
  },
  {
    name: 'function property',
    run: (db) => enq(db, { f: () => 1, a: 1 }),
    message: 'queue.enqueue: payload.f must be JSON-serialisable (got a function): JSON would drop it; leave it out or pass null',
  },
  {
    name: 'Infinity deep inside, path named',
    run: (db) => enq(db, { order: { 'line items': [{ qty: 1 }, { qty: -Infinity }] } }),
    message:
      'queue.enqueue: payload.order["line items"][1].qty must be a finite number (got -Infinity): JSON would store null; pass null or a number',
  },
  {
    name: 'Set in an object',
    run: (db) => enq(db, { tags: new Set(['a']) }),
    message: 'queue.enqueue: payload.tags must be a plain object or array (got a Set): JSON would store {}; pass [...set]',
  },
  {
    name: 'undefined in an array',
    run: (db) => enq(db, { items: [1, undefined] }),
    message: 'queue.enqueue: payload.items[1] must be JSON-serialisable (got undefined): JSON would store null; pass null',
  },
  {
    name: 'a hole in a sparse array',
    // eslint-disable-next-line no-sparse-arrays
    run: (db) => enq(db, { items: [1, , 3] }),
    message: 'queue.enqueue: payload.items[1] must not be a hole of a sparse array (got an empty slot): JSON would store null; pass null',
  },
  {
    name: 'a symbol in an array',
    run: (db) => enq(db, [Symbol('s')]),
    message: 'queue.enqueue: payload[0] must be JSON-serialisable (got Symbol(s)): JSON would store null; pass null',
  },
  {
    name: 'a typed array',
    run: (db) => enq(db, { bytes: new Uint8Array([1, 2]) }),
    message: 'queue.enqueue: payload.bytes must be a plain object or array (got a Uint8Array): JSON would store an object keyed by index; pass Array.from(value)',
  },
  {
    name: 'a class instance without toJSON',
    run: (db) => enq(db, { at: new (class Point { x = 1 })() }),
    message:
      'queue.enqueue: payload.at must be a plain object or array (got a Point): JSON would keep only its own fields and drop its class; pass a plain object ({ ...value }) or give the class a toJSON()',
  },
  {
    name: 'an Invalid Date',
    run: (db) => enq(db, { when: new Date('nope') }),
    message: 'queue.enqueue: payload.when must be a valid Date (got Invalid Date): JSON would store null; pass null or a valid Date',
  },
  {
    name: 'runAt in milliseconds',
    run: (db) => enq(db, 1, { runAt: 1764967000000 }),
    message: 'queue.enqueue: runAt 1764967000000 looks like milliseconds (year 57899): pass new Date(ms) or Math.floor(ms / 1000)',
  },
  {
    name: 'runAt past 9999 (not milliseconds either)',
    run: (db) => enq(db, 1, { runAt: 1e15 }),
    message: 'queue.enqueue: runAt must be a Date or unix seconds up to 9999-12-31T23:59:59Z (got 1000000000000000)',
  },
  {
    name: 'runAt a Date past 9999',
    run: (db) => enq(db, 1, { runAt: new Date('+010000-01-01T00:00:00Z') }),
    message: 'queue.enqueue: runAt must be a Date or unix seconds up to 9999-12-31T23:59:59Z (got +010000-01-01T00:00:00.000Z)',
  },
  {
    name: 'delayS Number.MAX_SAFE_INTEGER',
    run: (db) => enq(db, 1, { delayS: Number.MAX_SAFE_INTEGER }),
    message: 'queue.enqueue: delayS must end by 9999-12-31T23:59:59Z (got 9007199254740991)',
  },
  {
    name: 'expiresS past 9999',
    run: (db) => enq(db, 1, { expiresS: 253402300799 }),
    message: 'queue.enqueue: expiresS must end by 9999-12-31T23:59:59Z (got 253402300799)',
  },
  { name: 'blank queue name', run: (db) => anyQ(db, '  '), message: 'db.queue: name must not be blank (got "  ")' },
  { name: 'blank key', run: (db) => enq(db, 1, { key: '\t\u3000' }), message: 'queue.enqueue: key must not be blank (got "\\t\u3000")' },
  { name: 'blank workerId', run: (db) => db.queue('q').claimOne(' '), message: 'queue.claimOne: workerId must not be blank (got " ")' },
  {
    name: 'queue visibilityTimeoutS past 9999',
    run: (db) => anyQ(db, 'q', { visibilityTimeoutS: Number.MAX_SAFE_INTEGER }),
    message: 'db.queue: visibilityTimeoutS must end by 9999-12-31T23:59:59Z (got 9007199254740991)',
  },
  {
    name: 'claim visibilityTimeoutS past 9999 (sync)',
    run: (db) => db.queue('q').claim('w', { visibilityTimeoutS: 253402300799 }),
    message: 'queue.claim: visibilityTimeoutS must end by 9999-12-31T23:59:59Z (got 253402300799)',
  },
];

/** Rows that a failed call must not have written. */
function snapshot(file: string): unknown {
  const raw = new Database(file, { readonly: true });
  try {
    return raw
      .prepare(
        'SELECT (SELECT count(*) FROM _honker_live), (SELECT count(*) FROM _honker_dead),' +
          ' (SELECT count(*) FROM _honker_job_errors), (SELECT group_concat(state) FROM _honker_live)',
      )
      .raw()
      .get();
  } finally {
    raw.close();
  }
}

function seed(db: HonkerDatabase): void {
  const q = db.queue('q');
  q.enqueue('seed-1');
  q.enqueue('seed-2', { key: 'k' });
}

for (const c of errorCases) {
  test(`error: ${c.name}`, (t: ExecutionContext) => {
    const { db, file } = openTemp(t);
    seed(db);
    const before = snapshot(file);
    const err = syncError(t, () => c.run(db));
    t.is(err.message, c.message);
    t.true(err instanceof HonkerError);
    t.is(err.code, c.code ?? 'INVALID_ARGUMENT');
    t.deepEqual(snapshot(file), before, 'nothing written');
  });
}

test('errors on job methods: exact messages, the claim untouched', (t) => {
  const { db, file } = openTemp(t);
  const q = db.queue('q');
  q.enqueue('x');
  const job = q.claimOne('w');
  if (!job) return t.fail();
  const before = snapshot(file);
  t.is(syncError(t, () => job.heartbeat(0)).message, 'job.heartbeat: extendS must be an integer >= 1 (got 0)');
  t.is(syncError(t, () => job.heartbeat(1.5)).message, 'job.heartbeat: extendS must be an integer >= 1 (got 1.5)');
  t.is(syncError(t, () => job.retry({ delayS: -2 })).message, 'job.retry: delayS must be an integer >= 0 (got -2)');
  t.is(
    syncError(t, () => (job.retry as (o: unknown) => boolean)({ delay: 1 })).message,
    'job.retry: unknown option "delay" (did you mean "delayS"?)',
  );
  t.deepEqual(snapshot(file), before);
  t.true(job.ack());
});

test('calling into a closed database: CLOSED errors naming the method, nothing written', (t) => {
  const { db, file } = openTemp(t);
  const q = db.queue<number>('q');
  q.enqueue(1);
  const job = q.claimOne('w');
  q.enqueue(2);
  db.close();
  const before = snapshot(file);
  const cases: Array<[() => unknown, string]> = [
    [() => q.enqueue(3), 'queue.enqueue: the database is closed'],
    [() => q.claimOne('w'), 'queue.claimOne: the database is closed'],
    [() => q.claimBatch('w', 2), 'queue.claimBatch: the database is closed'],
    [() => q.claim('w'), 'queue.claim: the database is closed'],
    [() => q.ackBatch([1], 'w'), 'queue.ackBatch: the database is closed'],
    [() => q.stats(), 'queue.stats: the database is closed'],
    [() => q.getJob(1), 'queue.getJob: the database is closed'],
    [() => q.cancel(1), 'queue.cancel: the database is closed'],
    [() => q.sweepExpired(), 'queue.sweepExpired: the database is closed'],
    [() => q.dead.list(), 'queue.dead.list: the database is closed'],
    [() => q.dead.requeue(1), 'queue.dead.requeue: the database is closed'],
    [() => q.dead.purge(), 'queue.dead.purge: the database is closed'],
    [() => job?.ack(), 'job.ack: the database is closed'],
    [() => job?.retry(), 'job.retry: the database is closed'],
    [() => job?.fail(), 'job.fail: the database is closed'],
    [() => job?.heartbeat(5), 'job.heartbeat: the database is closed'],
    [() => db.queue('q'), 'db.queue: the database is closed'],
  ];
  for (const [fn, message] of cases) {
    const err = syncError(t, fn);
    t.is(err.message, message);
    t.is(err.code, 'CLOSED');
  }
  t.deepEqual(snapshot(file), before, 'nothing written');
});

test('queue.enqueue: runAt Date.now() (milliseconds) is refused with the hint; a Date or seconds at the bound work', (t) => {
  const { db } = openTemp(t);
  const q = db.queue('q');
  const before = q.stats();
  const ms = Date.now();
  const err = syncError(t, () => q.enqueue('x', { runAt: ms }));
  const year = new Date(ms * 1000).getUTCFullYear();
  t.is(err.message, `queue.enqueue: runAt ${ms} looks like milliseconds (year ${year}): pass new Date(ms) or Math.floor(ms / 1000)`);
  t.deepEqual(q.stats(), before, 'nothing written');
  t.is(q.getJob(q.enqueue('x', { runAt: new Date(ms) }))?.runAt, Math.floor(ms / 1000));
  t.is(q.getJob(q.enqueue('x', { runAt: 253402300799 }))?.runAt, 253402300799);
  t.is(q.getJob(q.enqueue('x', { runAt: new Date('9999-12-31T23:59:59.999Z') }))?.runAt, 253402300799);
});

test('queue.enqueue: what JSON keeps as it is (toJSON, undefined properties) is stored as JSON.stringify writes it', (t) => {
  const { db } = openTemp(t);
  const q = db.queue('q');
  const when = new Date(Date.UTC(2030, 0, 2));
  const id = q.enqueue({ when, buf: Buffer.from('hi'), gone: undefined, nested: { ok: [1, 'two', null, true] }, bare: Object.create(null) });
  t.is(
    db.raw.prepare('SELECT payload FROM _honker_live WHERE id = ?').pluck().get(id),
    '{"when":"2030-01-02T00:00:00.000Z","buf":{"type":"Buffer","data":[104,105]},"nested":{"ok":[1,"two",null,true]},"bare":{}}',
  );
});

test('job.retry and job.heartbeat refuse a time past 9999-12-31 and keep the claim', (t) => {
  const { db } = openTemp(t);
  const q = db.queue('q');
  q.enqueue('x');
  const job = q.claimOne('w')!;
  const row = () => db.raw.prepare('SELECT state, worker_id, claim_expires_at, run_at, attempts FROM _honker_live').get();
  const before = row();
  t.is(syncError(t, () => job.retry({ delayS: Number.MAX_SAFE_INTEGER })).message, 'job.retry: delayS must end by 9999-12-31T23:59:59Z (got 9007199254740991)');
  t.is(syncError(t, () => job.heartbeat(253402300799)).message, 'job.heartbeat: extendS must end by 9999-12-31T23:59:59Z (got 253402300799)');
  t.deepEqual(row(), before);
  t.true(job.ack());
});

test('queue.enqueue: the JSON check walks any depth JSON.stringify takes, without recursion', (t) => {
  const { db } = openTemp(t);
  const q = db.queue('q');
  let deep: unknown = 1;
  for (let i = 0; i < 3000; i++) deep = i % 2 ? { a: deep } : [deep];
  t.true(q.enqueue(deep) > 0);
  let bad: unknown = NaN;
  for (let i = 0; i < 3000; i++) bad = i % 2 ? { a: bad } : [bad];
  const err = syncError(t, () => q.enqueue(bad));
  t.is(err.message, `queue.enqueue: payload${'.a[0]'.repeat(1500)} must be a finite number (got NaN): JSON would store null; pass null or a number`);
  t.is(q.stats().pending, 1);
});
