/**
 * The worker in one process: events, dead-lettering of unknown tasks and bad
 * envelopes, retry/backoff delays, results that are not JSON, stopping with
 * unstarted claimed jobs, and argument errors.
 */
import test from './helpers/test.js';
import { HonkerError, type WorkerEventMap, type Worker } from '../src/index.js';
import { openClient, syncError } from './helpers/client.js';

/** Every event of worker, in order, as [name, event]. */
function record(worker: Worker): Array<[string, Record<string, unknown>]> {
  const seen: Array<[string, Record<string, unknown>]> = [];
  for (const name of ['completed', 'failed', 'retried', 'dead', 'released', 'lost'] as const) {
    worker.on(name, (e: WorkerEventMap[typeof name]) => seen.push([name, e as unknown as Record<string, unknown>]));
  }
  return seen;
}

test('unknown task names and bad envelopes are dead at once with an error that names them', async (t) => {
  const db = openClient(t);
  const q = db.queue('q');
  const known = q.task('known', () => 'ok');
  const unknown = q.enqueue({ task: 'nope', args: [], v: 1 });
  const notEnvelope = q.enqueue({ hello: 1 });
  const badVersion = q.enqueue({ task: 'known', args: [], v: 2 });
  const worker = db.worker({ queues: ['q'], batchSize: 8 });
  const seen = record(worker);
  const ac = new AbortController();
  const run = worker.run({ signal: ac.signal });
  const h = known();
  t.is(await h.get({ timeoutMs: 30_000 }), 'ok');
  const dead = new Map(q.dead.list().map((d) => [d.id, d]));
  t.is(dead.get(unknown)?.lastError, 'unknown task "nope" on queue "q" (this worker knows: known)');
  t.is(dead.get(notEnvelope)?.lastError, 'payload is not a task envelope {"task":<name>,"args":[...],"v":1} (got {"hello":1})');
  t.is(dead.get(badVersion)?.lastError, 'task envelope version 2 is not supported (this worker reads v 1)');
  t.is(dead.get(unknown)?.attempts, 1);
  const err = await t.throwsAsync(known.handle(unknown).get({ timeoutMs: 30_000 }));
  t.is(err?.message, `task known (job ${unknown}) died after 1 attempt(s): unknown task "nope" on queue "q" (this worker knows: known)`);
  t.is((err as HonkerError).code, 'JOB_FAILED');
  ac.abort();
  const summary = await run;
  t.like(summary, { claimed: 4, completed: 1, dead: 3, failed: 0, released: 0 });
  t.deepEqual(
    seen.map(([name, e]) => [name, e.jobId]).sort(),
    [['completed', h.id], ['dead', unknown], ['dead', notEnvelope], ['dead', badVersion]].sort(),
  );
  const deadEvent = seen.find(([name, e]) => name === 'dead' && e.jobId === unknown)![1];
  t.like(deadEvent, { queue: 'q', task: 'nope', attempt: 1 });
});

test('a failing task is retried with retryDelayS * backoff^(attempt-1), every error kept, then dead', async (t) => {
  const db = openClient(t);
  const q = db.queue('q');
  const flaky = q.task(
    'flaky',
    function () {
      throw new Error(`fail ${this.attempt}`);
    },
    { retries: 2, retryDelayS: 10, backoff: 3 },
  );
  const h = flaky();
  const worker = db.worker({ queues: ['q'] });
  const seen = record(worker);
  const ac = new AbortController();
  const run = worker.run({ signal: ac.signal });
  // Attempt 1 fails: retried after 10 s. Move run_at back instead of waiting.
  const waitFor = async (pred: () => boolean): Promise<void> => {
    const deadline = Date.now() + 30_000;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error('condition not reached');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await waitFor(() => seen.some(([n]) => n === 'retried'));
  const job1 = q.getJob(h.id)!;
  t.is(job1.lastError, 'fail 1');
  t.true(job1.runAt - Math.floor(Date.now() / 1000) >= 8);
  db.raw.prepare('UPDATE _honker_live SET run_at = 0 WHERE id = ?').run(h.id);
  await waitFor(() => seen.filter(([n]) => n === 'retried').length === 2);
  db.raw.prepare('UPDATE _honker_live SET run_at = 0 WHERE id = ?').run(h.id);
  const err = await t.throwsAsync(h.get({ timeoutMs: 30_000 }));
  t.is(err?.message, `task flaky (job ${h.id}) died after 3 attempt(s): fail 3`);
  t.deepEqual(
    seen.filter(([n]) => n === 'retried').map(([, e]) => [e.attempt, e.delayS, e.error]),
    [
      [1, 10, 'fail 1'],
      [2, 30, 'fail 2'],
    ],
  );
  t.deepEqual(
    seen.map(([n]) => n),
    ['failed', 'retried', 'failed', 'retried', 'failed', 'dead'],
  );
  t.is(q.dead.list()[0].lastError, 'fail 3');
  t.deepEqual(
    db.raw.prepare('SELECT attempt, error FROM _honker_job_errors WHERE job_id = ? ORDER BY attempt').all(h.id),
    [
      { attempt: 1, error: 'fail 1' },
      { attempt: 2, error: 'fail 2' },
      { attempt: 3, error: 'fail 3' },
    ],
  );
  ac.abort();
  t.like(await run, { failed: 3, retried: 2, dead: 1, completed: 0 });
});

test('a result that is not JSON fails the attempt; the result and the ack never part', async (t) => {
  const db = openClient(t);
  const q = db.queue('q');
  const bad = q.task('bad', () => 10n as unknown, { retries: 0 });
  const h = bad();
  const ac = new AbortController();
  const run = db.worker({ queues: ['q'] }).run({ signal: ac.signal });
  const err = await t.throwsAsync(h.get({ timeoutMs: 30_000 }));
  t.regex(err!.message, /died after 1 attempt\(s\): task bad returned a value that is not JSON: results\.save: value must be JSON-serialisable/);
  ac.abort();
  t.like(await run, { completed: 0, dead: 1 });
});

test('stopping hands unstarted claimed jobs back and lets running handlers finish', async (t) => {
  const db = openClient(t);
  const q = db.queue('q');
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  let started = 0;
  const slow = q.task('slow', async () => {
    started++;
    await gate;
    return 'done';
  });
  const handles = Array.from({ length: 5 }, () => slow());
  const worker = db.worker({ queues: ['q'], concurrency: 1, batchSize: 5 });
  const seen = record(worker);
  const ac = new AbortController();
  const run = worker.run({ signal: ac.signal });
  const deadline = Date.now() + 30_000;
  while (started === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  ac.abort(); // before the handler finishes: the 4 claimed jobs behind it never start
  release();
  const summary = await run;
  t.like(summary, { claimed: 5, completed: 1, released: 4, abandoned: 0, stoppedBy: 'signal' });
  t.is(await handles[0].get({ timeoutMs: 1000 }), 'done');
  t.is(seen.filter(([n]) => n === 'released').length, 4);
  for (const h of handles.slice(1)) t.like(q.getJob(h.id), { state: 'pending', attempts: 0, workerId: null });
});

test('a handler still running after graceMs is abandoned: signal aborted, job retried', async (t) => {
  const db = openClient(t);
  const q = db.queue('q');
  let aborted = false;
  let started = false;
  const stuck = q.task('stuck', async function () {
    started = true;
    await new Promise<void>((r) => this.signal.addEventListener('abort', () => r()));
    aborted = true;
  });
  const h = stuck();
  const ac = new AbortController();
  const run = db.worker({ queues: ['q'], graceMs: 50 }).run({ signal: ac.signal });
  const deadline = Date.now() + 30_000;
  while (!started && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  ac.abort();
  t.like(await run, { abandoned: 1, retried: 1 });
  t.true(aborted);
  t.like(q.getJob(h.id), { state: 'pending', attempts: 1 });
  t.regex(q.getJob(h.id)!.lastError!, /^worker stopped: task stuck did not finish within the 50 ms grace period$/);
});

test('db.worker and run argument errors are synchronous', (t) => {
  const db = openClient(t);
  t.is(syncError(t, () => db.worker({ concurrency: 0 })).message, 'db.worker: concurrency must be an integer >= 1 (got 0)');
  t.is(syncError(t, () => db.worker({ queues: [] })).message, 'db.worker: queues must be a non-empty array of queue names (got an array)');
  t.is(syncError(t, () => db.worker({ queues: [''] })).message, 'db.worker: queues[0] must be a non-empty string (got "")');
  t.is(
    syncError(t, () => db.worker().run()).message,
    'worker.run: no queues to work: register a task (queue.task) or pass queues',
  );
  const w = db.worker({ queues: ['q'] });
  t.is(syncError(t, () => w.run({ signal: 1 as never })).message, 'worker.run: signal must be an AbortSignal (got 1)');
  const ac = new AbortController();
  ac.abort();
  const p = w.run({ signal: ac.signal });
  t.is(syncError(t, () => w.run()).message, 'worker.run: this worker is already running');
  return p.then((s) => t.is(s.claimed, 0));
});

test('a job cancelled while it runs is "lost": no result is saved without its ack', async (t) => {
  const db = openClient(t);
  const q = db.queue('q');
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  let started = false;
  const task = q.task('t', async () => {
    started = true;
    await gate;
    return 'value';
  });
  const h = task();
  const worker = db.worker({ queues: ['q'] });
  const seen = record(worker);
  const ac = new AbortController();
  const run = worker.run({ signal: ac.signal });
  const deadline = Date.now() + 30_000;
  while (!started && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.true(q.cancel(h.id));
  release();
  while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.deepEqual(
    seen.map(([n, e]) => [n, e.jobId, e.reason]),
    [['lost', h.id, 'claim lost before the result was saved']],
  );
  t.is(db.results.get(h.id), undefined);
  ac.abort();
  t.like(await run, { completed: 0, lost: 1 });
});

test('concurrency bounds the handlers running at once; several queues are worked', async (t) => {
  const db = openClient(t);
  let now = 0;
  let max = 0;
  const make = (queue: string) =>
    db.queue(queue).task('sleep', async () => {
      max = Math.max(max, ++now);
      await new Promise((r) => setTimeout(r, 20));
      now--;
      return queue;
    });
  const a = make('a');
  const b = make('b');
  const handles = db.transaction(() => [...Array.from({ length: 6 }, () => a()), ...Array.from({ length: 6 }, () => b())]);
  const ac = new AbortController();
  const run = db.worker({ queues: ['a', 'b'], concurrency: 3 }).run({ signal: ac.signal });
  const values = await Promise.all(handles.map((h) => h.get({ timeoutMs: 30_000 })));
  t.deepEqual(values, [...Array(6).fill('a'), ...Array(6).fill('b')]);
  t.is(max, 3);
  ac.abort();
  t.like(await run, { claimed: 12, completed: 12 });
});

test('closing the database while the worker waits rejects run() with CLOSED', async (t) => {
  const db = openClient(t);
  db.queue('q').task('x', () => 1);
  const run = db.worker().run();
  await new Promise((r) => setImmediate(r));
  db.close();
  const err = await t.throwsAsync(run);
  t.is((err as HonkerError).code, 'CLOSED');
});
