/**
 * Exactly once where it can be: a transaction task (TaskOptions.transaction)
 * runs its handler inside the transaction that acks the job and saves its
 * result, and job.ackWith(fn) does the same for the claim iterator. Their
 * writes commit with the ack or not at all. (Across SIGKILLed worker
 * processes: test/reliability/crash.workers.test.ts.)
 */
import test from './helpers/test.js';
import { HonkerError, type HonkerDatabase } from '../src/index.js';
import { openClient, syncError } from './helpers/client.js';

function ledger(db: HonkerDatabase): () => number[] {
  db.raw.exec('CREATE TABLE ledger (job_id INTEGER NOT NULL)');
  const rows = db.raw.prepare('SELECT job_id FROM ledger ORDER BY rowid').pluck();
  return () => rows.all() as number[];
}

/** Run a worker on queue q until fn's condition holds, then stop it; resolves with its summary. */
async function workUntil(db: HonkerDatabase, done: () => boolean) {
  const ac = new AbortController();
  const worker = db.worker({ queues: ['q'], batchSize: 4, concurrency: 4 });
  const failures: string[] = [];
  worker.on('failed', (e) => failures.push(e.error));
  const running = worker.run({ signal: ac.signal });
  while (!done()) await new Promise((r) => setTimeout(r, 5));
  ac.abort();
  return { summary: await running, failures };
}

test('transaction task: the handler’s rows, the ack and the result commit together', async (t) => {
  const db = openClient(t);
  const rows = ledger(db);
  const insert = db.raw.prepare('INSERT INTO ledger VALUES (?)');
  const record = db.queue('q').task(
    'record',
    function (n: number) {
      t.true(db.raw.inTransaction, 'the handler runs inside the transaction');
      insert.run(this.jobId);
      return n * 2;
    },
    { transaction: true },
  );
  const handles = [record(1), record(2), record(3)];
  const { summary } = await workUntil(db, () => rows().length === 3 && db.queue('q').stats().pending === 0);
  t.like(summary, { completed: 3, failed: 0 });
  t.deepEqual(await Promise.all(handles.map((h) => h.get({ timeoutMs: 5000 }))), [2, 4, 6]);
  t.deepEqual(rows().sort(), handles.map((h) => h.id).sort());
  t.deepEqual(db.queue('q').stats(), { pending: 0, scheduled: 0, processing: 0, dead: 0 });
});

test('transaction task: a throw rolls its writes back; the retry that succeeds writes once', async (t) => {
  const db = openClient(t);
  const rows = ledger(db);
  const insert = db.raw.prepare('INSERT INTO ledger VALUES (?)');
  const flaky = db.queue('q').task(
    'flaky',
    function () {
      insert.run(this.jobId); // written, then rolled back on the first two attempts
      if (this.attempt < 3) throw new Error(`attempt ${this.attempt} fails`);
      return 'done';
    },
    { transaction: true, retries: 5 },
  );
  const h = flaky();
  const { failures } = await workUntil(db, () => db.results.get(h.id) !== undefined);
  t.is(await h.get({ timeoutMs: 5000 }), 'done');
  t.deepEqual(failures, ['attempt 1 fails', 'attempt 2 fails']);
  t.deepEqual(rows(), [h.id], 'one row: the attempts that threw left nothing');
});

test('transaction task: a Promise or a value that is not JSON fails the attempt and writes nothing', async (t) => {
  const db = openClient(t);
  const rows = ledger(db);
  const insert = db.raw.prepare('INSERT INTO ledger VALUES (?)');
  const q = db.queue('q');
  const promised = q.task(
    'promised',
    function () {
      insert.run(this.jobId);
      return Promise.resolve(1);
    },
    { transaction: true, retries: 0 },
  );
  const bigint = q.task(
    'bigint',
    function () {
      insert.run(this.jobId);
      return 10n;
    },
    { transaction: true, retries: 0 },
  );
  const [a, b] = [promised(), bigint()];
  const { failures } = await workUntil(db, () => q.stats().dead === 2);
  t.deepEqual(failures.sort(), [
    'task bigint returned a value that is not JSON: results.save: value must be JSON-serialisable (Do not know how to serialize a BigInt)',
    'task promised is a transaction task but returned a Promise: its handler must be synchronous',
  ]);
  t.deepEqual(rows(), []);
  await t.throwsAsync(a.get({ timeoutMs: 5000 }), { message: /returned a Promise/ });
  await t.throwsAsync(b.get({ timeoutMs: 5000 }), { message: /not JSON/ });
});

test('transaction task: an async handler or a timeout is refused at registration, nothing registered', (t) => {
  const db = openClient(t);
  const q = db.queue('q');
  const errAsync = syncError(t, () => q.task('a', async () => 1, { transaction: true }));
  t.is(
    errAsync.message,
    "queue.task: a transaction task's handler must be synchronous (got an async function): it runs inside the transaction that acks the job, which cannot span an await",
  );
  const errTimeout = syncError(t, () => q.task('b', () => 1, { transaction: true, timeoutS: 5 }));
  t.is(
    errTimeout.message,
    'queue.task: timeoutS cannot apply to a transaction task: its handler runs synchronously and cannot be interrupted; drop timeoutS or transaction',
  );
  const errType = syncError(t, () => q.task('c', () => 1, { transaction: 'yes' as unknown as boolean }));
  t.is(errType.message, 'queue.task: transaction must be a boolean (got "yes")');
  t.throws(() => db.worker().run(), { message: /no queues to work/ }, 'none of them was registered');
});

test('job.ackWith: fn and the ack in one transaction; a lost claim rolls fn back with CLAIM_LOST', (t) => {
  const db = openClient(t);
  const rows = ledger(db);
  const insert = db.raw.prepare('INSERT INTO ledger VALUES (?)');
  const q = db.queue<{ n: number }>('q');
  q.enqueue({ n: 1 });
  q.enqueue({ n: 2 });
  const [first, second] = q.claimBatch('w', 2);
  t.is(
    first!.ackWith(() => insert.run(first!.id).changes),
    1,
  );
  t.is(q.getJob(first!.id), null, 'acked');
  t.true(q.cancel(second!.id), 'the claim is gone');
  const err = t.throws(() => second!.ackWith(() => insert.run(second!.id)));
  t.true(err instanceof HonkerError);
  t.is((err as HonkerError).code, 'CLAIM_LOST');
  t.is(err?.message, `job.ackWith: the claim of job ${second!.id} was lost (it lapsed or was cancelled); nothing was written`);
  t.deepEqual(rows(), [first!.id], 'the second row rolled back with the failed ack');
});
