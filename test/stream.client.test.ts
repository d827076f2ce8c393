/**
 * The client's streams in one process (src/stream.ts): publish and offsets,
 * readSince pagination, subscribe from 0 / fromOffset / a named consumer's
 * saved offset, when an event counts as finished (its offset saved), abort,
 * close, transactions, and synchronous argument errors.
 */
import test from './helpers/test.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { open, HonkerError, type HonkerDatabase } from '../src/index.js';
import { tempDbPath } from './helpers/db.js';
import { invalidArguments, nextOrPending, nowMs, openClient, syncError, take } from './helpers/client.js';

type Ev = { n: number };

function publishN(db: HonkerDatabase, topic: string, from: number, to: number): number[] {
  const s = db.stream<Ev>(topic);
  const offsets: number[] = [];
  for (let n = from; n < to; n++) offsets.push(s.publish({ n }));
  return offsets;
}

test('publish returns increasing offsets (global across topics) and stores key and payload', (t) => {
  const db = openClient(t);
  const orders = db.stream<{ total: number }>('orders');
  const audit = db.stream<string>('audit');
  const a = orders.publish({ total: 9 }, { key: 'o-1' });
  const b = audit.publish('x');
  const c = orders.publish({ total: 10 });
  t.true(Number.isInteger(a) && a >= 1);
  t.true(b > a && c > b);
  const evs = orders.readSince(0);
  t.deepEqual(
    evs.map((e) => ({ offset: e.offset, topic: e.topic, key: e.key, payload: e.payload })),
    [
      { offset: a, topic: 'orders', key: 'o-1', payload: { total: 9 } },
      { offset: c, topic: 'orders', key: null, payload: { total: 10 } },
    ],
  );
  t.true(Math.abs(evs[0].createdAt - Date.now() / 1000) < 60);
  t.deepEqual(audit.readSince(0).map((e) => e.payload), ['x']);
  // A deleted newest event never gets its offset reused.
  db.raw.prepare('DELETE FROM _honker_stream WHERE offset = ?').run(c);
  t.true(orders.publish({ total: 11 }) > c);
});

test('readSince pages through a topic: limit, then from the last offset seen', (t) => {
  const db = openClient(t);
  const offsets = publishN(db, 'p', 0, 25);
  publishN(db, 'other', 0, 5);
  const s = db.stream<Ev>('p');
  const seen: number[] = [];
  let pos = 0;
  let pages = 0;
  for (;;) {
    const page = s.readSince(pos, 10);
    if (page.length === 0) break;
    t.true(page.length <= 10);
    pages++;
    for (const e of page) seen.push(e.payload.n);
    pos = page[page.length - 1].offset;
  }
  t.is(pages, 3);
  t.deepEqual(
    seen,
    Array.from({ length: 25 }, (_, i) => i),
  );
  t.deepEqual(s.readSince(offsets[24]), []);
  t.deepEqual(s.readSince(0, 0), []);
  t.deepEqual(s.readSince(offsets[20]).map((e) => e.offset), offsets.slice(21));
});

test('subscribe without a consumer starts at 0: the whole backlog, then live events; it saves nothing', async (t) => {
  const db = openClient(t);
  publishN(db, 's', 0, 3);
  const ac = new AbortController();
  const it = db.stream<Ev>('s').subscribe({ signal: ac.signal });
  t.deepEqual((await take(it, 3)).map((e) => e.payload.n), [0, 1, 2]);
  const pending = it.next();
  await sleep(30);
  const publishedAt = nowMs();
  publishN(db, 's', 3, 4);
  const r = await pending;
  t.log(`publish -> subscriber in the same process: ${(nowMs() - publishedAt).toFixed(2)} ms`);
  t.is(r.value?.payload.n, 3);
  t.is(db.raw.prepare('SELECT count(*) FROM _honker_stream_consumers').pluck().get(), 0);
  ac.abort();
  t.true((await it.next()).done);
});

test('subscribe fromOffset starts after that offset; more than one page (256) arrives in order', async (t) => {
  const db = openClient(t);
  const s = db.stream<Ev>('big');
  const offsets = db.transaction(() => publishN(db, 'big', 0, 600));
  const got = await take(s.subscribe({ fromOffset: offsets[99] }), 500);
  t.deepEqual(
    got.map((e) => e.payload.n),
    Array.from({ length: 500 }, (_, i) => i + 100),
  );
  t.deepEqual(
    got.map((e) => e.offset),
    offsets.slice(100),
  );
});

test('a named consumer saves an event when it asks for the next one, and resumes after the last finished one', async (t) => {
  const db = openClient(t);
  const offsets = publishN(db, 't', 0, 6);
  const s = db.stream<Ev>('t');
  t.is(s.offset('billing'), 0);
  const it = s.subscribe({ consumer: 'billing' });
  const [e0] = await take(it, 1);
  t.is(e0.offset, offsets[0]);
  t.is(s.offset('billing'), 0, 'held, not finished: not saved');
  const [e1] = await take(it, 1);
  t.is(e1.offset, offsets[1]);
  t.is(s.offset('billing'), offsets[0], 'asking for e1 finished e0');
  await take(it, 1); // e2, held
  t.is(s.offset('billing'), offsets[1]);
  // Leaving the loop (return) does not finish the held event.
  await it.return?.();
  t.is(s.offset('billing'), offsets[1]);
  // The consumer resumes with the held event: e2, then e3...
  const again = s.subscribe({ consumer: 'billing' });
  t.deepEqual((await take(again, 4)).map((e) => e.payload.n), [2, 3, 4, 5]);
  t.is(s.offset('billing'), offsets[4]);
  // A for-await loop that breaks after processing: the event it broke on is delivered again.
  for await (const e of s.subscribe({ consumer: 'billing' })) {
    t.is(e.payload.n, 5);
    break;
  }
  t.is(s.offset('billing'), offsets[4]);
  // Another consumer of the same topic has its own offset.
  t.deepEqual((await take(s.subscribe({ consumer: 'audit' }), 2)).map((e) => e.payload.n), [0, 1]);
  t.is(s.offset('audit'), offsets[0]);
  t.is(s.offset('billing'), offsets[4]);
});

test('abort while holding an event: the next request finishes (saves) it and ends the loop, handing out nothing more', async (t) => {
  const db = openClient(t);
  const offsets = publishN(db, 'a', 0, 5);
  const s = db.stream<Ev>('a');
  const ac = new AbortController();
  const seen: number[] = [];
  for await (const e of s.subscribe({ consumer: 'c', signal: ac.signal })) {
    seen.push(e.payload.n);
    if (e.payload.n === 2) ac.abort();
  }
  t.deepEqual(seen, [0, 1, 2]);
  t.is(s.offset('c'), offsets[2]);
  t.deepEqual((await take(s.subscribe({ consumer: 'c' }), 2)).map((e) => e.payload.n), [3, 4]);
});

test('fromOffset overrides the saved offset; a saved offset never moves back', async (t) => {
  const db = openClient(t);
  const offsets = publishN(db, 'r', 0, 5);
  const s = db.stream<Ev>('r');
  t.true(s.saveOffset('c', offsets[3]));
  t.deepEqual((await take(s.subscribe({ consumer: 'c' }), 1)).map((e) => e.payload.n), [4]);
  // Replay from the start: delivered, but the saved offset stays at offsets[3].
  const replay = s.subscribe({ consumer: 'c', fromOffset: 0 });
  t.deepEqual((await take(replay, 3)).map((e) => e.payload.n), [0, 1, 2]);
  t.is(s.offset('c'), offsets[3]);
  t.false(s.saveOffset('c', offsets[1]));
  t.is(s.offset('c'), offsets[3]);
  t.true(s.saveOffset('c', offsets[4]));
  t.is(s.offset('c'), offsets[4]);
});

test('subscribe starts at the call: the saved offset is read then, an event published before the first next() arrives', async (t) => {
  const db = openClient(t);
  const offsets = publishN(db, 'st', 0, 2);
  const s = db.stream<Ev>('st');
  s.saveOffset('c', offsets[1]);
  const it = s.subscribe({ consumer: 'c' });
  s.saveOffset('c', offsets[1] + 1000); // moved after the call: not seen by this subscription
  publishN(db, 'st', 2, 3);
  t.deepEqual((await take(it, 1)).map((e) => e.payload.n), [2]);
});

test('publish inside db.transaction: delivered on commit, never on rollback', async (t) => {
  const db = openClient(t);
  const s = db.stream<Ev>('tx');
  const ac = new AbortController();
  const it = s.subscribe({ signal: ac.signal });
  t.throws(() =>
    db.transaction(() => {
      s.publish({ n: -1 });
      throw new Error('rollback');
    }),
  );
  db.transaction(() => {
    s.publish({ n: 1 });
    s.publish({ n: 2 });
  });
  t.deepEqual((await take(it, 2)).map((e) => e.payload.n), [1, 2]);
  t.is(await nextOrPending(it, 150), 'pending');
  ac.abort();
});

test('typed payloads round-trip; text stored by raw SQL that is not JSON arrives as a string', async (t) => {
  type Order = { id: number; lines: Array<{ sku: string }>; note: string | null };
  const db = openClient(t);
  const s = db.stream<Order>('typed');
  const order: Order = { id: 1, lines: [{ sku: '\u{1F600}"\\' }], note: null };
  s.publish(order, { key: 'o-1' });
  db.raw.prepare("SELECT honker_stream_publish('typed', NULL, 'not json')").get();
  const [a, b] = await take(s.subscribe(), 2);
  t.deepEqual(a.payload, order);
  const sku: string = a.payload.lines[0].sku; // compile-time: payload is an Order
  t.is(sku, '\u{1F600}"\\');
  t.is(b.payload as unknown, 'not json');
  t.is(b.key, null);
});

test('abort ends a waiting subscribe promptly; closing the database rejects it with CLOSED within 1 s', async (t) => {
  const db = open(tempDbPath(t));
  t.teardown(() => db.close());
  const ac = new AbortController();
  const a = db.stream('w').subscribe({ signal: ac.signal, consumer: 'x' });
  const waitingA = a.next();
  await sleep(50);
  let t0 = nowMs();
  ac.abort();
  t.true((await waitingA).done);
  const abortMs = nowMs() - t0;
  const b = db.stream('w').subscribe();
  const waitingB = b.next();
  await sleep(50);
  t0 = nowMs();
  db.close();
  const err = await t.throwsAsync(waitingB);
  const closeMs = nowMs() - t0;
  t.log(`abort -> subscribe done: ${abortMs.toFixed(2)} ms; close -> subscribe rejected: ${closeMs.toFixed(2)} ms`);
  t.is((err as HonkerError).code, 'CLOSED');
  t.true(abortMs < 1000);
  t.true(closeMs < 1000);
});

test('stream argument errors throw synchronously with the exact message, writing nothing', (t) => {
  const db = openClient(t);
  const s = db.stream<unknown>('e');
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const cases: Array<[() => unknown, string | RegExp]> = [
    [() => db.stream(''), 'db.stream: topic must be a non-empty string (got "")'],
    [() => s.subscribe({ consumer: '' }), 'stream.subscribe: consumer must be a non-empty string (got "")'],
    [() => s.subscribe({ fromOffset: -1 }), 'stream.subscribe: fromOffset must be an integer >= 0 (got -1)'],
    [() => s.subscribe({ fromOffset: 0.5 }), 'stream.subscribe: fromOffset must be an integer >= 0 (got 0.5)'],
    [() => s.subscribe({ from: 1 } as never), 'stream.subscribe: unknown option "from" (did you mean "fromOffset"?)'],
    [() => s.subscribe({ consumr: 'x' } as never), 'stream.subscribe: unknown option "consumr" (did you mean "consumer"?)'],
    [() => s.subscribe({ signal: 'x' as never }), 'stream.subscribe: signal must be an AbortSignal (got "x")'],
    [() => s.subscribe('billing' as never), 'stream.subscribe: options must be an object (got "billing")'],
    [() => s.publish(undefined), 'stream.publish: payload must be JSON-serialisable (got undefined)'],
    [() => s.publish(circular), /^stream\.publish: payload must be JSON-serialisable \(Converting circular/],
    [() => s.publish(new Set([1])), 'stream.publish: payload must be a plain object or array (got a Set): JSON would store {}; pass [...set]'],
    [() => s.publish({ total: Infinity }), 'stream.publish: payload.total must be a finite number (got Infinity): JSON would store null; pass null or a number'],
    [() => s.publish({ at: new Date(NaN) }), 'stream.publish: payload.at must be a valid Date (got Invalid Date): JSON would store null; pass null or a valid Date'],
    [() => s.publish(1, { key: ' ' }), 'stream.publish: key must not be blank (got " ")'],
    [() => db.stream('\u00a0'), 'db.stream: topic must not be blank (got "\u00a0")'],
    [() => s.subscribe({ consumer: '  ' }), 'stream.subscribe: consumer must not be blank (got "  ")'],
    [() => s.publish(1, { key: '' }), 'stream.publish: key must be a non-empty string (got "")'],
    [() => s.publish(1, { key: 5 as never }), 'stream.publish: key must be a non-empty string (got 5)'],
    [() => s.publish(1, { kee: 'x' } as never), 'stream.publish: unknown option "kee" (did you mean "key"?)'],
    [() => s.readSince(-1), 'stream.readSince: offset must be an integer >= 0 (got -1)'],
    [() => s.readSince(0, -5), 'stream.readSince: limit must be an integer >= 0 (got -5)'],
    [() => s.offset(''), 'stream.offset: consumer must be a non-empty string (got "")'],
    [() => s.saveOffset('c', 1.5), 'stream.saveOffset: offset must be an integer >= 0 (got 1.5)'],
  ];
  invalidArguments(t, cases);
  t.is(db.raw.prepare('SELECT count(*) FROM _honker_stream').pluck().get(), 0);
  t.is(db.raw.prepare('SELECT count(*) FROM _honker_stream_consumers').pluck().get(), 0);
});

test('stream calls on a closed database throw CLOSED synchronously', (t) => {
  const db = open(tempDbPath(t));
  const s = db.stream('c');
  db.close();
  const cases: Array<[() => unknown, string]> = [
    [() => s.publish(1), 'stream.publish: the database is closed'],
    [() => s.subscribe(), 'stream.subscribe: the database is closed'],
    [() => s.readSince(0), 'stream.readSince: the database is closed'],
    [() => s.offset('x'), 'stream.offset: the database is closed'],
    [() => s.saveOffset('x', 1), 'stream.saveOffset: the database is closed'],
    [() => db.stream('c'), 'db.stream: the database is closed'],
  ];
  for (const [fn, message] of cases) {
    const err = syncError(t, fn);
    t.is(err.code, 'CLOSED');
    t.is(err.message, message);
  }
});
