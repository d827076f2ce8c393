/**
 * The client's scheduler in one process: add/list/pause/resume/remove/tick/
 * soonest, their validation (thrown synchronously, nothing written), and
 * run(): leadership, renew-with-tick, abort, close.
 */
import test, { type ExecutionContext } from './helpers/test.js';
import { getEventListeners } from 'node:events';
import { open, type HonkerDatabase, type ScheduleEntry } from '../src/index.js';
import { tempDbPath } from './helpers/db.js';
import { sleep } from './helpers/scheduler-client.js';

function openDb(t: ExecutionContext, file = tempDbPath(t)): HonkerDatabase {
  const db = open(file);
  t.teardown(() => db.close());
  return db;
}

const nowS = (): number => Math.floor(Date.now() / 1000);

/** The run_at of every job in queue, sorted. */
function runAts(db: HonkerDatabase, queue: string): number[] {
  return db.raw.prepare('SELECT run_at FROM _honker_live WHERE queue = ? ORDER BY run_at').pluck().all(queue) as number[];
}

function leaseRow(db: HonkerDatabase): { owner: string; expires_at: number } | undefined {
  return db.raw.prepare("SELECT owner, expires_at FROM _honker_locks WHERE name = 'honker-scheduler'").get() as
    | { owner: string; expires_at: number }
    | undefined;
}

test('add stores the schedule in the form honker 0.4 also parses, and list shows that form', (t) => {
  const db = openDb(t);
  const s = db.scheduler();
  s.add({ name: 'a', queue: 'q', schedule: '@daily' });
  s.add({ name: 'b', queue: 'q', schedule: '0 9 * * MON-FRI' });
  s.add({ name: 'c', queue: 'q', schedule: '5/15 * * * 7' });
  s.add({ name: 'd', queue: 'q', schedule: '*/10 * * * *' });
  t.deepEqual(
    s.list().map((e) => e.schedule),
    ['0 0 * * *', '0 9 * * 1-5', '5-59/15 * * * 0', '*/10 * * * *'],
  );
});

test('add then list returns typed entries; re-add replaces; a paused entry stays paused', (t) => {
  const db = openDb(t);
  const s = db.scheduler();
  const before = nowS();
  s.add({ name: 'b', queue: 'reports', schedule: '0 3 * * *', payload: { kind: 'nightly' }, priority: -5, expiresS: 60, maxAttempts: 7 });
  s.add({ name: 'a', queue: 'q', schedule: '@every 10s' });
  const [a, b] = s.list();
  t.deepEqual(a, {
    name: 'a',
    queue: 'q',
    schedule: '@every 10s',
    payload: null,
    priority: 0,
    expiresS: null,
    nextFireAt: a.nextFireAt,
    enabled: true,
    maxAttempts: 3,
  });
  t.true(a.nextFireAt > before && a.nextFireAt <= nowS() + 10 && a.nextFireAt % 10 === 0);
  t.deepEqual({ ...b, nextFireAt: 0 }, {
    name: 'b',
    queue: 'reports',
    schedule: '0 3 * * *',
    payload: { kind: 'nightly' },
    priority: -5,
    expiresS: 60,
    nextFireAt: 0,
    enabled: true,
    maxAttempts: 7,
  });
  t.is(typeof b.enabled, 'boolean');

  t.true(s.pause('b'));
  s.add({ name: 'b', queue: 'other', schedule: '@every 1h', payload: [1, 2] });
  const b2 = s.list()[1];
  t.is(b2.enabled, false, 're-adding a paused entry keeps it paused');
  t.is(b2.queue, 'other');
  t.deepEqual(b2.payload, [1, 2]);
  t.is(b2.expiresS, null, 'a re-add replaces every column');
  t.is(b2.maxAttempts, 3);
});

test('pause/resume/remove return whether they changed something; soonest ignores paused entries', (t) => {
  const db = openDb(t);
  const s = db.scheduler();
  t.is(s.soonest(), 0);
  s.add({ name: 'x', queue: 'q', schedule: '@every 1h' });
  s.add({ name: 'y', queue: 'q', schedule: '@every 1d' });
  const [x, y] = s.list();
  t.is(s.soonest(), Math.min(x.nextFireAt, y.nextFireAt));
  t.true(s.pause('x'));
  t.false(s.pause('x'));
  t.false(s.pause('nope'));
  t.is(s.soonest(), y.nextFireAt);
  t.true(s.pause('y'));
  t.is(s.soonest(), 0);
  t.true(s.resume('x'));
  t.false(s.resume('x'));
  t.false(s.resume('nope'));
  t.is(s.soonest(), x.nextFireAt);
  t.true(s.remove('x'));
  t.false(s.remove('x'));
  t.deepEqual(
    s.list().map((e) => [e.name, e.enabled]),
    [['y', false]],
  );
});

test('tick enqueues each due boundary once, with the entry\'s payload, priority, attempts and expiry, and catches up', (t) => {
  const db = openDb(t);
  const s = db.scheduler();
  s.add({ name: 'ten', queue: 'q', schedule: '@every 10s', payload: { n: 1 }, priority: -3, expiresS: 5, maxAttempts: 2 });
  const first = s.list()[0].nextFireAt;
  t.deepEqual(s.tick(first - 1), []);
  const fired = s.tick(first);
  t.is(fired.length, 1);
  t.deepEqual({ ...fired[0], jobId: 0 }, { name: 'ten', queue: 'q', fireAt: first, jobId: 0 });
  t.true(Number.isInteger(fired[0].jobId) && fired[0].jobId > 0);
  const job = db.raw.prepare('SELECT payload, priority, max_attempts, run_at, expires_at FROM _honker_live WHERE id = ?').get(fired[0].jobId);
  t.deepEqual(job, { payload: '{"n":1}', priority: -3, max_attempts: 2, run_at: first, expires_at: first + 5 });
  t.deepEqual(s.tick(first), [], 'the same boundary never fires twice');
  // 35 s later: the three boundaries that passed are caught up, in order.
  t.deepEqual(
    s.tick(first + 35).map((f) => f.fireAt),
    [first + 10, first + 20, first + 30],
  );
  t.is(s.list()[0].nextFireAt, first + 40);
  t.deepEqual(runAts(db, 'q'), [first, first + 10, first + 20, first + 30]);
  // A paused entry does not fire.
  s.pause('ten');
  t.deepEqual(s.tick(first + 100), []);
});

test('tick catches up at most 64 boundaries per entry: the oldest are enqueued, the rest skipped', (t) => {
  const db = openDb(t);
  const s = db.scheduler();
  s.add({ name: 'sec', queue: 'q', schedule: '* * * * * *' });
  const first = s.list()[0].nextFireAt;
  const fired = s.tick(first + 99).map((f) => f.fireAt);
  t.deepEqual(fired, Array.from({ length: 64 }, (_, i) => first + i));
  t.is(s.list()[0].nextFireAt, first + 100, 'the skipped boundaries never fire');
  t.deepEqual(s.tick(first + 99), []);
});

test('a 6-field schedule fires every second', (t) => {
  const db = openDb(t);
  const s = db.scheduler();
  s.add({ name: 'sec', queue: 'q', schedule: '* * * * * *' });
  const first = s.list()[0].nextFireAt;
  t.true(first >= nowS() - 2 && first <= nowS() + 1, 'the next second after add');
  t.deepEqual(
    s.tick(first + 2).map((f) => f.fireAt),
    [first, first + 1, first + 2],
  );
});

const base: ScheduleEntry = { name: 'n', queue: 'q', schedule: '@every 1m' };
const addErrors: [string, unknown, string][] = [
  ['undefined entry', undefined, 'scheduler.add: entry must be an object (got undefined)'],
  ['array entry', [], 'scheduler.add: entry must be an object (got an array)'],
  ['unknown option', { ...base, priorty: 1 }, 'scheduler.add: unknown option "priorty" (did you mean "priority"?)'],
  ['unknown option (prefix)', { ...base, expires: 1 }, 'scheduler.add: unknown option "expires" (did you mean "expiresS"?)'],
  ['unknown option (no hint)', { ...base, zzzzzz: 1 }, 'scheduler.add: unknown option "zzzzzz"'],
  ['empty name', { ...base, name: '' }, 'scheduler.add: name must be a non-empty string (got "")'],
  ['queue not a string', { ...base, queue: 7 }, 'scheduler.add: queue must be a non-empty string (got 7)'],
  ['missing schedule', { name: 'n', queue: 'q' }, 'scheduler.add: schedule must be a non-empty string (got undefined)'],
  ['schedule out of range', { ...base, schedule: '61 * * * *' }, 'scheduler.add: schedule "61 * * * *" is invalid: minute field: 61 is out of range 0-59'],
  ['schedule field count', { ...base, schedule: '* * * *' }, 'scheduler.add: schedule "* * * *" is invalid: expected 5 or 6 fields (got 4)'],
  ['schedule never matches', { ...base, schedule: '0 0 30 2 *' }, 'scheduler.add: schedule "0 0 30 2 *" is invalid: never matches: no selected day-of-month exists in the selected months'],
  ['@every 0s', { ...base, schedule: '@every 0s' }, 'scheduler.add: schedule "@every 0s" is invalid: @every: n must be >= 1 (got 0)'],
  ['priority not an integer', { ...base, priority: 1.5 }, 'scheduler.add: priority must be an integer (got 1.5)'],
  ['priority a string', { ...base, priority: '1' }, 'scheduler.add: priority must be an integer (got "1")'],
  ['priority unsafe', { ...base, priority: 2 ** 53 }, 'scheduler.add: priority must be an integer (got 9007199254740992)'],
  ['expiresS 0', { ...base, expiresS: 0 }, 'scheduler.add: expiresS must be an integer between 1 and 253402300799 (got 0)'],
  ['expiresS too big', { ...base, expiresS: 253402300800 }, 'scheduler.add: expiresS must be an integer between 1 and 253402300799 (got 253402300800)'],
  ['expiresS null', { ...base, expiresS: null }, 'scheduler.add: expiresS must be an integer between 1 and 253402300799 (got null)'],
  ['maxAttempts 0', { ...base, maxAttempts: 0 }, 'scheduler.add: maxAttempts must be an integer >= 1 (got 0)'],
  ['maxAttempts 2.5', { ...base, maxAttempts: 2.5 }, 'scheduler.add: maxAttempts must be an integer >= 1 (got 2.5)'],
  ['payload BigInt', { ...base, payload: 1n }, 'scheduler.add: payload must be JSON-serialisable (Do not know how to serialize a BigInt)'],
  ['payload function', { ...base, payload: () => 1 }, 'scheduler.add: payload must be JSON-serialisable (got a function)'],
  ['payload Map', { ...base, payload: new Map([[1, 2]]) }, 'scheduler.add: payload must be a plain object or array (got a Map): JSON would store {}; pass Object.fromEntries(map)'],
  ['payload NaN inside', { ...base, payload: { every: [NaN] } }, 'scheduler.add: payload.every[0] must be a finite number (got NaN): JSON would store null; pass null or a number'],
  ['payload function property', { ...base, payload: { run: () => 1, a: 1 } }, 'scheduler.add: payload.run must be JSON-serialisable (got a function): JSON would drop it; leave it out or pass null'],
  ['blank name', { ...base, name: ' ' }, 'scheduler.add: name must not be blank (got " ")'],
  ['blank queue', { ...base, queue: '\r\n' }, 'scheduler.add: queue must not be blank (got "\\r\\n")'],
  ['expiresS past 9999', { ...base, expiresS: 253402300799 }, 'scheduler.add: expiresS must end by 9999-12-31T23:59:59Z (got 253402300799)'],
];
for (const [title, entry, message] of addErrors) {
  test(`scheduler.add refuses ${title} synchronously and writes nothing`, (t) => {
    const db = openDb(t);
    const s = db.scheduler();
    s.add({ name: 'n', queue: 'kept', schedule: '@every 1h', priority: 4 });
    const before = s.list();
    const version = db.raw.prepare('SELECT total_changes()').pluck().get();
    const err = t.throws(() => s.add(entry as ScheduleEntry), { message });
    t.is((err as { code?: string }).code, 'INVALID_ARGUMENT');
    t.deepEqual(s.list(), before, 'the existing entry of that name is untouched');
    t.is(db.raw.prepare('SELECT total_changes()').pluck().get(), version);
    t.is(db.raw.prepare('SELECT count(*) FROM _honker_scheduler_tasks').pluck().get(), 1);
  });
}

test('negative priorities, expiresS near its maximum and maxAttempts 1 are accepted', (t) => {
  const db = openDb(t);
  const s = db.scheduler();
  // The first boundary of @every 1m is at most 60 s away; its jobs must expire by 9999-12-31T23:59:59Z.
  const expiresS = 253402300799 - Math.floor(Date.now() / 1000) - 62;
  s.add({ name: 'n', queue: 'q', schedule: '@every 1m', priority: -(2 ** 53) + 1, expiresS, maxAttempts: 1 });
  const [e] = s.list();
  t.is(e.priority, -(2 ** 53) + 1);
  t.is(e.expiresS, expiresS);
  t.is(e.maxAttempts, 1);
  t.throws(() => s.add({ name: 'n', queue: 'q', schedule: '@every 1m', expiresS: 253402300799 }), {
    message: 'scheduler.add: expiresS must end by 9999-12-31T23:59:59Z (got 253402300799)',
  });
  t.deepEqual(s.list(), [e], 'the refused add changed nothing');
});

test('the other methods validate synchronously and refuse a closed database', (t) => {
  const db = openDb(t);
  const s = db.scheduler();
  t.throws(() => s.remove(''), { message: 'scheduler.remove: name must be a non-empty string (got "")' });
  t.throws(() => s.pause(1 as unknown as string), { message: 'scheduler.pause: name must be a non-empty string (got 1)' });
  t.throws(() => s.resume(undefined as unknown as string), { message: 'scheduler.resume: name must be a non-empty string (got undefined)' });
  t.throws(() => s.tick(-1), { message: 'scheduler.tick: nowS must be an integer between 0 and 253402300799 (got -1)' });
  t.throws(() => s.tick(253402300800), { message: 'scheduler.tick: nowS must be an integer between 0 and 253402300799 (got 253402300800)' });
  t.throws(() => s.tick(1.5), { message: 'scheduler.tick: nowS must be an integer between 0 and 253402300799 (got 1.5)' });
  t.throws(() => s.run({ leaseS: 1 }), { message: 'scheduler.run: leaseS must be an integer between 2 and 86400 (got 1)' });
  t.throws(() => s.run({ leaseS: 2.5 }), { message: 'scheduler.run: leaseS must be an integer between 2 and 86400 (got 2.5)' });
  t.throws(() => s.run({ lease: 2 } as never), { message: 'scheduler.run: unknown option "lease" (did you mean "leaseS"?)' });
  t.throws(() => s.run({ signal: {} as AbortSignal }), { message: 'scheduler.run: signal must be an AbortSignal (got an object)' });
  t.throws(() => s.run({ onLeaderChange: 5 as never }), { message: 'scheduler.run: onLeaderChange must be a function (got 5)' });
  t.is(leaseRow(db), undefined, 'a refused run() takes no lease');
  db.close();
  for (const [fn, where] of [
    [() => s.add(base), 'scheduler.add'],
    [() => s.list(), 'scheduler.list'],
    [() => s.tick(), 'scheduler.tick'],
    [() => s.soonest(), 'scheduler.soonest'],
    [() => s.pause('n'), 'scheduler.pause'],
    [() => s.run(), 'scheduler.run'],
  ] as const) {
    t.throws(fn, { message: `${where}: the database is closed` });
  }
});

test.serial('run(): leads alone, ticks each boundary once, and an abort resolves promptly, releases the lease and leaves nothing behind', async (t) => {
  const db = openDb(t);
  const s = db.scheduler();
  s.add({ name: 'sec', queue: 'q', schedule: '@every 1s' });
  db.watcher(); // its poll timer exists before and after
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const timersBefore = timers();
  const controller = new AbortController();
  const changes: boolean[] = [];
  const running = s.run({ signal: controller.signal, leaseS: 2, onLeaderChange: (l) => changes.push(l) });
  t.deepEqual(changes, [true], 'the first run leads at once');
  t.truthy(leaseRow(db));
  const started = nowS();
  const cpu = process.cpuUsage();
  const wall = performance.now();
  await sleep(3300);
  const used = process.cpuUsage(cpu);
  const share = (used.user + used.system) / 1000 / (performance.now() - wall);
  t.log(`leading a 1 s schedule used ${(share * 100).toFixed(1)}% of a core`);
  t.true(share < 0.3, 'no busy loop: a renewal does not wake the leader into another one');
  const fired = runAts(db, 'q');
  t.true(fired.length >= 2, `ticked ${fired.length} boundaries`);
  t.deepEqual(fired, [...new Set(fired)], 'no boundary twice');
  t.deepEqual(fired, fired.map((_, i) => fired[0] + i), 'no boundary lost');
  t.true(fired[0] <= started + 1);
  t.true(s.list()[0].nextFireAt > nowS() - 1, 'next_fire_at keeps up with the clock');
  t.is(db.watcher().stats().waiters, 1);

  t.true(timers() > timersBefore, 'the waiting run holds a deadline timer');
  const abortedAt = performance.now();
  controller.abort();
  await running;
  const ms = performance.now() - abortedAt;
  t.log(`run() resolved ${ms.toFixed(1)} ms after abort`);
  t.true(ms < 1000);
  t.deepEqual(changes, [true, false]);
  t.is(leaseRow(db), undefined, 'the lease was released');
  t.is(db.watcher().stats().waiters, 0, 'no waiter (and so no timer) is left');
  t.is(timers(), timersBefore, 'no timer is left');
  t.is(getEventListeners(controller.signal, 'abort').length, 0);
  t.is(getEventListeners(db.closeSignal, 'abort').length, 0);
  const count = runAts(db, 'q').length;
  await sleep(1500);
  t.is(runAts(db, 'q').length, count, 'nothing ticks after run() returned');
});

test('run() with an aborted signal returns at once without leading', async (t) => {
  const db = openDb(t);
  const changes: boolean[] = [];
  await db.scheduler().run({ signal: AbortSignal.abort(), onLeaderChange: (l) => changes.push(l) });
  t.deepEqual(changes, []);
  t.is(leaseRow(db), undefined);
});

test.serial('a second run on the same file stands by, and takes over at once when the leader aborts', async (t) => {
  const file = tempDbPath(t);
  const db1 = openDb(t, file);
  const db2 = openDb(t, file);
  const c1 = new AbortController();
  const c2 = new AbortController();
  const ch1: boolean[] = [];
  const ch2: number[] = [];
  const r1 = db1.scheduler().run({ signal: c1.signal, leaseS: 5, onLeaderChange: (l) => ch1.push(l) });
  const r2 = db2.scheduler().run({ signal: c2.signal, leaseS: 5, onLeaderChange: (l) => ch2.push(l ? Date.now() : -1) });
  await sleep(2500);
  t.deepEqual(ch1, [true]);
  t.deepEqual(ch2, [], 'the standby does not lead while the lease is renewed');
  const abortedAt = Date.now();
  c1.abort();
  await r1;
  while (ch2.length === 0 && Date.now() - abortedAt < 10_000) await sleep(5);
  t.is(ch2.length, 1);
  const ms = ch2[0] - abortedAt;
  t.log(`standby led ${ms} ms after the leader's abort (lease 5 s)`);
  t.true(ms < 2000, 'well under the lease: the release woke the standby');
  c2.abort();
  await r2;
});

test.serial('db.close() releases the lease and rejects run() with CLOSED', async (t) => {
  const file = tempDbPath(t);
  const db = open(file);
  const other = openDb(t, file);
  const changes: boolean[] = [];
  const running = db.scheduler().run({ leaseS: 30, onLeaderChange: (l) => changes.push(l) });
  t.truthy(leaseRow(other));
  await sleep(100);
  db.close();
  const err = await t.throwsAsync(running);
  t.is((err as { code?: string }).code, 'CLOSED');
  t.regex(err!.message, /was closed/);
  t.deepEqual(changes, [true, false]);
  t.is(leaseRow(other), undefined, 'released before the connection closed');
  t.is(getEventListeners(db.closeSignal, 'abort').length, 0);
});

test.serial('a leader whose lease is taken stops ticking at its next boundary and says so', async (t) => {
  const db = openDb(t);
  const s = db.scheduler();
  s.add({ name: 'sec', queue: 'q', schedule: '@every 1s' });
  const controller = new AbortController();
  const changes: boolean[] = [];
  // A long lease: the next renewal is ~10 s away, so only the tick's own renew can notice.
  const running = s.run({ signal: controller.signal, leaseS: 31, onLeaderChange: (l) => changes.push(l) });
  await sleep(1500);
  t.true(runAts(db, 'q').length >= 1);
  // Another owner takes the lease (as if ours had lapsed while this process was paused).
  db.raw.prepare("UPDATE _honker_locks SET owner = 'thief', expires_at = unixepoch() + 60 WHERE name = 'honker-scheduler'").run();
  const stolenAt = nowS();
  await sleep(2500);
  t.deepEqual(changes, [true, false], 'it noticed at its next tick');
  t.deepEqual(
    runAts(db, 'q').filter((r) => r > stolenAt),
    [],
    'no tick without the lease',
  );
  t.is(leaseRow(db)?.owner, 'thief');
  controller.abort();
  await running;
  t.is(leaseRow(db)?.owner, 'thief', 'a standby does not release what it does not hold');
});

test.serial('a write lock held by someone else past busy_timeout does not end run(): it retries and ticks every boundary once', async (t) => {
  const file = tempDbPath(t);
  const db = open(file, { busyTimeoutMs: 50 });
  t.teardown(() => db.close());
  const blocker = openDb(t, file);
  const s = db.scheduler();
  s.add({ name: 'sec', queue: 'q', schedule: '@every 1s' });
  const controller = new AbortController();
  const changes: boolean[] = [];
  let failed: unknown;
  const running = s.run({ signal: controller.signal, leaseS: 2, onLeaderChange: (l) => changes.push(l) }).catch((err) => {
    failed = err;
  });
  await sleep(1200);
  blocker.raw.exec('BEGIN IMMEDIATE');
  await sleep(2500); // longer than the lease: renewals and ticks hit SQLITE_BUSY
  blocker.raw.exec('COMMIT');
  await sleep(2500);
  controller.abort();
  await running;
  t.is(failed, undefined, 'run() kept going');
  t.log(`leader changes: ${JSON.stringify(changes)}`);
  t.is(changes[0], true);
  t.is(changes.at(-1), false);
  t.true(changes.length === 2 || changes.length === 4, 'it may have stepped down while blocked, then led again');
  const fired = runAts(db, 'q');
  t.deepEqual(fired, [...new Set(fired)], 'no boundary twice');
  t.deepEqual(fired, fired.map((_, i) => fired[0] + i), 'the blocked boundaries were caught up');
  t.true(fired.at(-1)! >= nowS() - 2);
});

test.serial('an onLeaderChange that throws rejects run() with its error and releases the lease', async (t) => {
  const db = openDb(t);
  const boom = new Error('boom');
  const calls: boolean[] = [];
  const err = await t.throwsAsync(
    db.scheduler().run({
      leaseS: 5,
      onLeaderChange: (l) => {
        calls.push(l);
        if (l) throw boom;
      },
    }),
  );
  t.is(err, boom);
  t.deepEqual(calls, [true, false]);
  t.is(leaseRow(db), undefined);
});
