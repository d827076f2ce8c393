/**
 * db.transaction seen from another process: one observer fixture
 * (test/fixtures/client-tx-observer.ts) runs a listener, a queue worker and
 * a stream subscriber. A rolled-back transaction (business row + enqueue +
 * notify + publish) shows none of them anything; a committed one shows each
 * exactly once. Commit-to-delivery latency is logged.
 */
import test from './helpers/test.js';
import type { HonkerDatabase } from '../src/index.js';
import { child, nowMs, openTemp, sleep } from './helpers/queue-client.js';

type Order = { orderId: number };

function placeOrder(db: HonkerDatabase, orderId: number, fail: boolean): void {
  db.transaction(() => {
    db.raw.prepare('INSERT INTO orders (id) VALUES (?)').run(orderId);
    db.queue<Order>('emails').enqueue({ orderId });
    db.notify('orders', { orderId });
    db.stream<Order>('orders').publish({ orderId }, { key: `order-${orderId}` });
    if (fail) throw new Error(`order ${orderId} rolled back`);
  });
}

test('transaction across processes: rolled back -> listener, worker and subscriber see nothing; committed -> each sees it once', async (t) => {
  const { db, file } = openTemp(t);
  db.raw.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY)');
  const observer = child(t, 'client-tx-observer', [file]);
  await observer.waitFor((l) => l.kind === 'ready');
  const kinds = ['notify', 'job', 'event'];
  const seen = (): Record<string, unknown>[] => observer.lines.filter((l) => kinds.includes(l.kind as string));

  t.throws(() => placeOrder(db, 1, true), { message: 'order 1 rolled back' });
  await sleep(500);
  t.deepEqual(seen(), [], 'nothing of the rolled-back transaction reached the other process');
  t.is(db.raw.prepare('SELECT count(*) FROM orders').pluck().get(), 0);

  const committedAt = nowMs();
  placeOrder(db, 2, false);
  for (const kind of kinds) await observer.waitFor((l) => l.kind === kind, 10_000);
  const latency = Object.fromEntries(seen().map((l) => [l.kind, ((l.t as number) - committedAt).toFixed(2)]));
  t.log(`commit -> delivery in the other process (ms): ${JSON.stringify(latency)}`);
  await sleep(300); // a duplicate (or a late rolled-back item) would show up here
  t.is(await observer.stop(), 0, observer.stderr);
  t.deepEqual(
    seen()
      .map((l) => [l.kind, l.payload])
      .sort(),
    [
      ['event', { orderId: 2 }],
      ['job', { orderId: 2 }],
      ['notify', { orderId: 2 }],
    ],
  );
  t.truthy(observer.lines.find((l) => l.kind === 'done'));
  t.deepEqual(db.queue('emails').stats(), { pending: 0, scheduled: 0, processing: 0, dead: 0 }, 'the worker acked it');
  t.deepEqual(db.raw.prepare('SELECT id FROM orders').pluck().all(), [2]);
});
