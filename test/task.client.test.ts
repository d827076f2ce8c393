/**
 * Tasks in one process: the envelope, transactions, argument errors,
 * handle.get() with an in-process worker, and periodicTask with scheduler.tick.
 */
import test from './helpers/test.js';
import { HonkerError, registeredTasks, type WorkerSummary } from '../src/index.js';
import { openClient, syncError } from './helpers/client.js';
import { sqliteCli, tempDbPath } from './helpers/db.js';

test('calling a task enqueues the documented envelope with max_attempts = retries + 1', (t) => {
  const db = openClient(t);
  const q = db.queue('emails');
  const send = q.task('send_email', (to: string, n: number) => `${to}:${n}`, { retries: 3, priority: 7, expiresS: 60 });
  const h = send('alice', 2);
  t.is(h.taskName, 'send_email');
  const row = db.raw.prepare('SELECT payload, max_attempts, priority, expires_at FROM _honker_live WHERE id = ?').get(h.id) as {
    payload: string;
    max_attempts: number;
    priority: number;
    expires_at: number | null;
  };
  t.is(row.payload, '{"task":"send_email","args":["alice",2],"v":1}');
  t.is(row.max_attempts, 4);
  t.is(row.priority, 7);
  t.truthy(row.expires_at);
  // Default retries: the queue's maxAttempts - 1.
  const other = db.queue('other', { maxAttempts: 5 }).task('x', () => 1)();
  t.is(db.raw.prepare('SELECT max_attempts FROM _honker_live WHERE id = ?').pluck().get(other.id), 5);
});

test('a call inside db.transaction joins it: rolled back with it', (t) => {
  const db = openClient(t);
  const add = db.queue('q').task('add', (a: number, b: number) => a + b);
  t.throws(() =>
    db.transaction(() => {
      add(1, 2);
      throw new Error('rollback');
    }),
  );
  t.is(db.queue('q').stats().pending, 0);
  const id = db.transaction(() => add(1, 2).id);
  t.is(db.queue('q').getJob(id)?.state, 'pending');
});

test('argument errors are thrown synchronously and write nothing', (t) => {
  const db = openClient(t);
  const q = db.queue('q');
  t.is(syncError(t, () => q.task('', () => 1)).message, 'queue.task: name must be a non-empty string (got "")');
  t.is(syncError(t, () => q.task('a', 5 as unknown as () => void)).message, 'queue.task: fn must be a function (got 5)');
  t.is(syncError(t, () => q.task('a', () => 1, { retries: -1 })).message, 'queue.task: retries must be an integer >= 0 (got -1)');
  t.is(syncError(t, () => q.task('a', () => 1, { backoff: 0.5 })).message, 'queue.task: backoff must be a number >= 1 (got 0.5)');
  t.is(syncError(t, () => q.task('a', () => 1, { timeoutS: 0 })).message, 'queue.task: timeoutS must be an integer between 1 and 2147483 (got 0)');
  t.is(
    syncError(t, () => q.task('a', () => 1, { retires: 1 } as never)).message,
    'queue.task: unknown option "retires" (did you mean "retries"?)',
  );
  const f = q.task('f', (x: unknown) => x);
  const e = syncError(t, () => f(undefined));
  t.is(e.message, 'task f: args[0] must be JSON-serialisable (got undefined)');
  t.is((e as HonkerError).code, 'INVALID_ARGUMENT');
  t.regex(syncError(t, () => f(10n)).message, /^task f: args\[0\] must be JSON-serialisable/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  t.regex(syncError(t, () => f(cyclic)).message, /^task f: args\[0\] must be JSON-serialisable/);
  t.is(q.stats().pending, 0);
  t.is(syncError(t, () => f(1).get({ timeoutMs: -1 })).message, 'task.get: timeoutMs must be an integer >= 0 (got -1)');
  t.is(syncError(t, () => q.periodicTask('not a cron', 'p', () => 1)).message.startsWith('scheduler.add:'), true);
  t.is(db.scheduler().list().length, 0);
});

test('handle.get resolves with the value; rejects with TIMEOUT when nobody runs it', async (t) => {
  const db = openClient(t);
  const add = db.queue('q').task('add', async (a: number, b: number) => ({ sum: a + b }));
  const nobody = add(0, 0);
  const timeout = await t.throwsAsync(nobody.get({ timeoutMs: 50 }));
  t.is(timeout?.message, `task.get: task add (job ${nobody.id}) has no result within 50 ms`);
  t.is((timeout as HonkerError).code, 'TIMEOUT');
  const h = add(2, 3);
  const ac = new AbortController();
  const run = db.worker({ queues: ['q'] }).run({ signal: ac.signal });
  t.deepEqual(await h.get({ timeoutMs: 30_000 }), { sum: 5 });
  t.deepEqual(await add.handle(nobody.id).get({ timeoutMs: 30_000 }), { sum: 0 });
  // The stored result envelope, as another language reads it.
  t.is(db.raw.prepare('SELECT honker_result_get(?)').pluck().get(h.id), '{"ok":true,"value":{"sum":5}}');
  ac.abort();
  const summary: WorkerSummary = await run;
  t.is(summary.completed, 2);
});

test('periodicTask registers a scheduler entry whose fired job runs the task', async (t) => {
  const db = openClient(t);
  let runs = 0;
  const ping = db.queue('cron').periodicTask('* * * * * *', 'ping', () => ++runs, { retries: 1, priority: 3 });
  t.is(ping.taskName, 'ping');
  const [entry] = db.scheduler().list();
  t.like(entry, { name: 'ping', queue: 'cron', schedule: '* * * * * *', priority: 3, maxAttempts: 2 });
  t.deepEqual(entry.payload, { task: 'ping', args: [], v: 1 });
  const fired = db.scheduler().tick(entry.nextFireAt);
  t.is(fired.length, 1);
  const ac = new AbortController();
  const run = db.worker({ queues: ['cron'] }).run({ signal: ac.signal });
  t.is(await ping.handle(fired[0].jobId).get({ timeoutMs: 30_000 }), 1);
  ac.abort();
  await run;
  t.is(runs, 1);
});

test('registeredTasks lists what the worker will run; the same name on two queues is two tasks', (t) => {
  const db = openClient(t);
  db.queue('b').task('z', () => 1, { timeoutS: 5, retries: 1 });
  db.queue('a').task('y', () => 1);
  db.queue('a').task('x', () => 1, { retryDelayS: 2, backoff: 1.5 });
  db.queue('b').task('x', () => 2, { retries: 0 });
  t.deepEqual(
    registeredTasks(db).map((r) => [r.queue, r.name, r.retries, r.timeoutS, r.retryDelayS, r.backoff]),
    [
      ['a', 'x', 2, null, 2, 1.5],
      ['a', 'y', 2, null, 0, 1],
      ['b', 'x', 0, null, 0, 1],
      ['b', 'z', 1, 5, 0, 1],
    ],
  );
  t.deepEqual(registeredTasks(openClient(t)), []);
});

test('get() of a job that died without a worker result reads its dead row; a cancelled one rejects', async (t) => {
  const db = openClient(t);
  const q = db.queue('q');
  const task = q.task('t', () => 1);
  const h = task();
  const job = q.claimOne('someone')!;
  t.is(job.id, h.id);
  const waiting = h.get({ timeoutMs: 30_000 });
  job.fail('failed by hand');
  const err = await t.throwsAsync(waiting);
  t.is(err?.message, `task t (job ${h.id}) died after 1 attempt(s): failed by hand`);
  t.is((err as HonkerError).code, 'JOB_FAILED');
  const c = task();
  const waitingC = c.get();
  q.cancel(c.id);
  t.is(
    (await t.throwsAsync(waitingC))?.message,
    `task t (job ${c.id}) is no longer queued and has no result (cancelled, its result expired, or it never existed)`,
  );
  t.is(((await t.throwsAsync(task.handle(999).get())) as HonkerError).code, 'JOB_FAILED');
});

test('another language enqueues the envelope with raw SQL and reads the result envelope back', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const add = db.queue('q').task('add', (a: number, b: number) => a + b);
  const enq = sqliteCli(file, `SELECT honker_enqueue('q', '{"task":"add","args":[2,3],"v":1}', NULL, NULL, 0, 1, NULL);`);
  t.is(enq.status, 0, enq.stderr);
  const id = Number(enq.stdout.trim());
  const ac = new AbortController();
  const run = db.worker({ queues: ['q'] }).run({ signal: ac.signal });
  t.is(await add.handle(id).get({ timeoutMs: 30_000 }), 5);
  ac.abort();
  await run;
  const got = sqliteCli(file, `SELECT honker_result_get(${id});`);
  t.is(got.stdout.trim(), '{"ok":true,"value":5}');
});

test('queue.task: a second registration of a name on a queue is an error; nothing is registered or written', (t) => {
  const db = openClient(t);
  const q = db.queue('emails');
  const send = q.task('send', (to: string) => `first:${to}`);
  const before = registeredTasks(db);
  const message =
    'queue.task: name must not repeat a task of queue "emails" (got "send"): give this task another name, or register it once and import it where it is needed';
  t.is(syncError(t, () => q.task('send', (to: string) => `second:${to}`)).message, message);
  t.is((syncError(t, () => db.queue('emails').task('send', () => 2)) as HonkerError).code, 'INVALID_ARGUMENT');
  t.is(
    syncError(t, () => q.periodicTask('@hourly', 'send', () => 3)).message,
    message.replace('queue.task:', 'queue.periodicTask:'),
  );
  t.deepEqual(registeredTasks(db), before);
  t.deepEqual(db.scheduler().list(), [], 'no scheduler entry');
  t.is(q.stats().pending, 0);
  send('a'); // still the first registration's task
  t.is(q.stats().pending, 1);
});

test('queue.periodicTask: registering the same periodic task twice is an error and leaves the first entry', (t) => {
  const db = openClient(t);
  const q = db.queue('cron');
  q.periodicTask('@hourly', 'report', () => 1);
  const entries = db.scheduler().list();
  t.is(
    syncError(t, () => q.periodicTask('@daily', 'report', () => 2)).message,
    'queue.periodicTask: name must not repeat a task of queue "cron" (got "report"): give this task another name, or register it once and import it where it is needed',
  );
  t.deepEqual(db.scheduler().list(), entries, 'the schedule is still @hourly');
});

test('queue.periodicTask: the same name on another queue is an error (one schedule entry per name) and leaves the first', (t) => {
  const db = openClient(t);
  db.queue('a').periodicTask('@hourly', 'cleanup', () => 1);
  const entries = db.scheduler().list();
  const before = registeredTasks(db);
  t.is(
    syncError(t, () => db.queue('b').periodicTask('@daily', 'cleanup', () => 2)).message,
    'queue.periodicTask: name must not repeat the periodic task of queue "a" (got "cleanup"): a schedule is named by its task alone, so this one would take that one\'s schedule; give this one another name',
  );
  t.deepEqual(db.scheduler().list(), entries, 'still on queue a, @hourly');
  t.deepEqual(registeredTasks(db), before);
  db.queue('b').task('cleanup', () => 3); // a plain task of that name on another queue is fine
  t.notThrows(() => db.queue('b').periodicTask('@daily', 'cleanup-b', () => 4));
});

test('queue.task: option hints and bounds ("retry" suggests "retries"; retryDelayS at most a year)', (t) => {
  const db = openClient(t);
  const q = db.queue('q');
  t.is(syncError(t, () => q.task('a', () => 1, { retry: 3 } as never)).message, 'queue.task: unknown option "retry" (did you mean "retries"?)');
  t.is(syncError(t, () => q.task('a', () => 1, { retryDelay: 3 } as never)).message, 'queue.task: unknown option "retryDelay" (did you mean "retryDelayS"?)');
  t.is(
    syncError(t, () => q.task('a', () => 1, { retryDelayS: 365 * 86400 + 1 })).message,
    'queue.task: retryDelayS must be an integer between 0 and 31536000 (got 31536001)',
  );
  t.is(
    syncError(t, () => q.task('a', () => 1, { expiresS: Number.MAX_SAFE_INTEGER })).message,
    'queue.task: expiresS must end by 9999-12-31T23:59:59Z (got 9007199254740991)',
  );
  t.is(
    syncError(t, () => q.task('a', () => 1, { resultTtlS: 253402300799 })).message,
    'queue.task: resultTtlS must end by 9999-12-31T23:59:59Z (got 253402300799)',
  );
  t.is(syncError(t, () => q.task(' \n', () => 1)).message, 'queue.task: name must not be blank (got " \\n")');
  t.deepEqual(registeredTasks(db), []);
});

test('a task call refuses arguments JSON would change, naming the path; nothing is enqueued', (t) => {
  const db = openClient(t);
  const q = db.queue('q');
  const book = q.task('book', (_who: string, _opts: unknown) => 1);
  t.is(
    syncError(t, () => book('ann', { when: new Date('nope') })).message,
    'task book: args[1].when must be a valid Date (got Invalid Date): JSON would store null; pass null or a valid Date',
  );
  t.is(
    syncError(t, () => book('ann', { seats: new Map([['a1', true]]) })).message,
    'task book: args[1].seats must be a plain object or array (got a Map): JSON would store {}; pass Object.fromEntries(map)',
  );
  t.is(
    syncError(t, () => book('ann', { price: NaN })).message,
    'task book: args[1].price must be a finite number (got NaN): JSON would store null; pass null or a number',
  );
  t.is(q.stats().pending, 0);
  // a Date is its ISO string, as JSON writes it
  const h = book('ann', { when: new Date(Date.UTC(2030, 0, 1)) });
  t.is(db.raw.prepare('SELECT payload FROM _honker_live WHERE id = ?').pluck().get(h.id), '{"task":"book","args":["ann",{"when":"2030-01-01T00:00:00.000Z"}],"v":1}');
});
