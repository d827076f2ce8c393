/**
 * The client's notify/listen in one process (src/notify.ts): ids, the start
 * position (fixed at the listen() call), replay with afterId, channels, typed
 * payloads, transactions, abort, close, and synchronous argument errors.
 */
import test from './helpers/test.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { open, HonkerError } from '../src/index.js';
import { tempDbPath } from './helpers/db.js';
import { invalidArguments, nextOrPending, nowMs, openClient, syncError, take } from './helpers/client.js';

test('notify returns the new notification id; ids grow', (t) => {
  const db = openClient(t);
  const a = db.notify('orders', { id: 1 });
  const b = db.notify('other', 'x');
  const c = db.notify('orders', null);
  t.true(Number.isInteger(a) && a >= 1);
  t.is(b, a + 1);
  t.is(c, a + 2);
  const rows = db.raw.prepare('SELECT id, channel, payload FROM _honker_notifications ORDER BY id').all();
  t.deepEqual(rows, [
    { id: a, channel: 'orders', payload: '{"id":1}' },
    { id: b, channel: 'other', payload: '"x"' },
    { id: c, channel: 'orders', payload: 'null' },
  ]);
});

test('listen starts at the listen() call: older notifications are not delivered, ones sent before the first next() are', async (t) => {
  const db = openClient(t);
  db.notify('orders', { n: 'old-1' });
  db.notify('orders', { n: 'old-2' });
  const it = db.listen<{ n: string }>('orders');
  // Committed after the call but before the iteration started: delivered.
  const early = db.notify('orders', { n: 'early' });
  const [first] = await take(it, 1);
  t.is(first.id, early);
  t.deepEqual(first.payload, { n: 'early' });
  t.is(first.channel, 'orders');
  t.true(Math.abs(first.createdAt - Date.now() / 1000) < 60);
  db.notify('orders', { n: 'late' });
  t.deepEqual((await take(it, 1)).map((n) => n.payload.n), ['late']);
  t.is(await nextOrPending(it, 150), 'pending');
});

test('listen filters by channel, in id order', async (t) => {
  const db = openClient(t);
  const it = db.listen<number>('a');
  const ids: number[] = [];
  for (let i = 0; i < 20; i++) {
    const id = db.notify(i % 3 === 0 ? 'a' : i % 3 === 1 ? 'b' : 'ab', i);
    if (i % 3 === 0) ids.push(id);
  }
  const got = await take(it, ids.length);
  t.deepEqual(got.map((n) => n.id), ids);
  t.deepEqual(got.map((n) => n.payload), [0, 3, 6, 9, 12, 15, 18]);
  t.true(got.every((n) => n.channel === 'a'));
  t.is(await nextOrPending(it, 150), 'pending');
});

test('listen with afterId replays from that id, then continues live', async (t) => {
  const db = openClient(t);
  const ids = [1, 2, 3, 4].map((i) => db.notify('c', { i }));
  db.notify('other', { i: 99 });
  const all = db.listen<{ i: number }>('c', { afterId: 0 });
  t.deepEqual((await take(all, 4)).map((n) => n.payload.i), [1, 2, 3, 4]);
  const fromSecond = db.listen<{ i: number }>('c', { afterId: ids[1] });
  t.deepEqual((await take(fromSecond, 2)).map((n) => n.id), [ids[2], ids[3]]);
  db.notify('c', { i: 5 });
  t.deepEqual((await take(fromSecond, 1)).map((n) => n.payload.i), [5]);
  t.deepEqual((await take(all, 1)).map((n) => n.payload.i), [5]);
  // afterId beyond the newest id: only later ones.
  const future = db.listen('c', { afterId: 1_000_000 });
  t.is(await nextOrPending(future, 100), 'pending');
});

test('listen more than one page (256) of backlog, in order, exactly once', async (t) => {
  const db = openClient(t);
  db.transaction(() => {
    for (let i = 0; i < 600; i++) db.notify('bulk', i);
  });
  const got = await take(db.listen<number>('bulk', { afterId: 0 }), 600);
  t.deepEqual(
    got.map((n) => n.payload),
    Array.from({ length: 600 }, (_, i) => i),
  );
});

test('typed payloads round-trip; text written by raw SQL that is not JSON arrives as a string', async (t) => {
  type Order = { id: number; items: Array<{ sku: string; qty: number }>; note: string | null; paid: boolean };
  const db = openClient(t);
  const it = db.listen<Order>('orders');
  const order: Order = { id: 7, items: [{ sku: 'a"b\\c\u00e9\u{1F600}', qty: 2 }], note: null, paid: true };
  db.notify('orders', order);
  const [n] = await take(it, 1);
  t.deepEqual(n.payload, order);
  const qty: number = n.payload.items[0].qty; // compile-time: payload is an Order
  t.is(qty, 2);
  const raw = db.listen<unknown>('raw');
  db.raw.prepare("SELECT notify('raw', 'not json {')").get();
  t.is((await take(raw, 1))[0].payload, 'not json {');
  await Promise.all([it.return?.(), raw.return?.()]);
});

test('notify inside db.transaction is delivered on commit, never on rollback (also a rolled-back savepoint)', async (t) => {
  const db = openClient(t);
  const it = db.listen<string>('tx');
  t.throws(
    () =>
      db.transaction(() => {
        db.notify('tx', 'rolled-back');
        throw new Error('boom');
      }),
    { message: 'boom' },
  );
  db.transaction(() => {
    db.notify('tx', 'outer-1');
    try {
      db.transaction(() => {
        db.notify('tx', 'inner-rolled-back');
        throw new Error('inner');
      });
    } catch {
      // the savepoint is rolled back, the outer transaction goes on
    }
    db.notify('tx', 'outer-2');
  });
  t.deepEqual((await take(it, 2)).map((n) => n.payload), ['outer-1', 'outer-2']);
  t.is(await nextOrPending(it, 150), 'pending');
  const stored = db.raw.prepare("SELECT payload FROM _honker_notifications WHERE channel = 'tx' ORDER BY id").pluck().all();
  t.deepEqual(stored, ['"outer-1"', '"outer-2"']);
});

test('a notification in an open transaction of another connection arrives only after its COMMIT', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const other = openClient(t, file);
  const it = db.listen<string>('tx');
  const pending = it.next();
  other.raw.exec('BEGIN IMMEDIATE');
  other.notify('tx', 'held');
  let arrived = false;
  void pending.then(() => (arrived = true));
  await sleep(200);
  t.false(arrived, 'delivered before the commit');
  const committedAt = nowMs();
  other.raw.exec('COMMIT');
  const r = await pending;
  t.log(`commit -> listener in the same process (other connection): ${(nowMs() - committedAt).toFixed(2)} ms`);
  t.false(r.done);
  t.is(r.value?.payload, 'held');
  other.raw.exec('BEGIN IMMEDIATE');
  other.notify('tx', 'rolled-back');
  other.raw.exec('ROLLBACK');
  other.notify('tx', 'after');
  t.deepEqual((await take(it, 1)).map((n) => n.payload), ['after']);
  await it.return?.();
});

test('aborting the signal ends a waiting listen promptly (done, no error); an aborted signal yields nothing', async (t) => {
  const db = openClient(t);
  const ac = new AbortController();
  const it = db.listen('c', { signal: ac.signal });
  const waiting = it.next();
  await sleep(50);
  const t0 = nowMs();
  ac.abort();
  const r = await waiting;
  const ms = nowMs() - t0;
  t.log(`abort -> listen done: ${ms.toFixed(2)} ms`);
  t.true(r.done);
  t.true(ms < 1000);
  t.true((await it.next()).done);
  // Already aborted: nothing, even with a backlog.
  db.notify('c', 1);
  const dead = db.listen('c', { signal: AbortSignal.abort(), afterId: 0 });
  t.true((await dead.next()).done);
  // Aborted while the consumer holds a notification: nothing more is handed out.
  const ac2 = new AbortController();
  const held = db.listen<number>('c', { signal: ac2.signal, afterId: 0 });
  db.notify('c', 2);
  t.is((await held.next()).value?.payload, 1);
  ac2.abort();
  t.true((await held.next()).done);
});

test('closing the database makes a waiting listen reject with CLOSED within 1 s', async (t) => {
  const db = open(tempDbPath(t));
  const it = db.listen('c');
  const waiting = it.next();
  await sleep(50);
  const t0 = nowMs();
  db.close();
  const err = await t.throwsAsync(waiting);
  const ms = nowMs() - t0;
  t.log(`close -> listen rejected: ${ms.toFixed(2)} ms`);
  t.true(err instanceof HonkerError);
  t.is((err as HonkerError).code, 'CLOSED');
  t.regex(err?.message ?? '', /was closed/);
  t.true(ms < 1000);
});

test('an iterator that is not waiting when the database closes throws CLOSED on its next next()', async (t) => {
  const file = tempDbPath(t);
  const db = open(file);
  const it = db.listen<number>('c');
  db.notify('c', 1);
  t.is((await it.next()).value?.payload, 1);
  db.close();
  const err = await t.throwsAsync(it.next());
  t.is((err as HonkerError).code, 'CLOSED');
  t.regex(err?.message ?? '', /^(db\.listen: the database is closed|honker: the database .* was closed)$/);
});

test('listen argument errors throw synchronously at the call, with the exact message', (t) => {
  const db = openClient(t);
  const cases: Array<[() => unknown, string]> = [
    [() => db.listen(''), 'db.listen: channel must be a non-empty string (got "")'],
    [() => db.listen(42 as unknown as string), 'db.listen: channel must be a non-empty string (got 42)'],
    [() => db.listen('   '), 'db.listen: channel must not be blank (got "   ")'],
    [() => db.listen('c', { afterId: -1 }), 'db.listen: afterId must be an integer >= 0 (got -1)'],
    [() => db.listen('c', { afterId: 1.5 }), 'db.listen: afterId must be an integer >= 0 (got 1.5)'],
    [() => db.listen('c', { afterId: '3' as unknown as number }), 'db.listen: afterId must be an integer >= 0 (got "3")'],
    [() => db.listen('c', { afterId: Number.NaN }), 'db.listen: afterId must be an integer >= 0 (got NaN)'],
    [() => db.listen('c', { after: 1 } as never), 'db.listen: unknown option "after" (did you mean "afterId"?)'],
    [() => db.listen('c', { timeoutMs: 1 } as never), 'db.listen: unknown option "timeoutMs"'],
    [() => db.listen('c', { signal: {} as AbortSignal }), 'db.listen: signal must be an AbortSignal (got an object)'],
    [() => db.listen('c', 5 as never), 'db.listen: options must be an object (got 5)'],
  ];
  for (const [fn, message] of cases) {
    const err = syncError(t, fn);
    t.true(err instanceof HonkerError, message);
    t.is(err.code, 'INVALID_ARGUMENT');
    t.is(err.message, message);
  }
});

test('notify argument errors throw synchronously and write nothing', (t) => {
  const db = openClient(t);
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const cases: Array<[() => unknown, string | RegExp]> = [
    [() => db.notify('', 1), 'db.notify: channel must be a non-empty string (got "")'],
    [() => db.notify(null as unknown as string, 1), 'db.notify: channel must be a non-empty string (got null)'],
    [() => db.notify('c', undefined), 'db.notify: payload must be JSON-serialisable (got undefined)'],
    [() => db.notify('c', () => 1), 'db.notify: payload must be JSON-serialisable (got a function)'],
    [() => db.notify('c', 10n), /^db\.notify: payload must be JSON-serialisable \(.*BigInt.*\)$/],
    [() => db.notify('c', circular), /^db\.notify: payload must be JSON-serialisable \(Converting circular structure/],
    // what JSON would silently change
    [() => db.notify('c', new Map([[1, 2]])), 'db.notify: payload must be a plain object or array (got a Map): JSON would store {}; pass Object.fromEntries(map)'],
    [() => db.notify('c', NaN), 'db.notify: payload must be a finite number (got NaN): JSON would store null; pass null or a number'],
    [() => db.notify('c', { f: () => 1, a: 1 }), 'db.notify: payload.f must be JSON-serialisable (got a function): JSON would drop it; leave it out or pass null'],
    [() => db.notify('c', { ids: [1, undefined] }), 'db.notify: payload.ids[1] must be JSON-serialisable (got undefined): JSON would store null; pass null'],
    [() => db.notify(' \t', 1), 'db.notify: channel must not be blank (got " \\t")'],
  ];
  invalidArguments(t, cases);
  t.is(db.raw.prepare('SELECT count(*) FROM _honker_notifications').pluck().get(), 0);
});

test('notify and listen on a closed database throw CLOSED synchronously', (t) => {
  const db = open(tempDbPath(t));
  db.close();
  const cases: Array<[() => unknown, string]> = [
    [() => db.notify('c', 1), 'db.notify: the database is closed'],
    [() => db.listen('c'), 'db.listen: the database is closed'],
  ];
  for (const [fn, message] of cases) {
    const err = syncError(t, fn);
    t.is(err.code, 'CLOSED');
    t.is(err.message, message);
  }
});
