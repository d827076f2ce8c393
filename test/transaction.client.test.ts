/**
 * db.transaction in one process: BEGIN IMMEDIATE (no other writer gets in),
 * honker calls join the caller's transaction, a nested call is a savepoint,
 * a throw rolls everything back, and an async fn is refused with nothing
 * committed — not even what it would write after an await.
 */
import test from './helpers/test.js';
import Database from 'better-sqlite3';
import { HonkerError, type HonkerDatabase } from '../src/index.js';
import { thrown } from './helpers/db.js';
import { openTemp, sleep, syncError } from './helpers/queue-client.js';

function setup(db: HonkerDatabase): void {
  db.raw.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT)');
}

/** What a transaction may have written, read on a separate connection. */
function written(file: string): { orders: number[]; jobs: number; notes: number; events: number } {
  const raw = new Database(file, { readonly: true });
  try {
    return {
      orders: raw.prepare('SELECT id FROM orders ORDER BY id').pluck().all() as number[],
      jobs: raw.prepare('SELECT count(*) FROM _honker_live').pluck().get() as number,
      notes: raw.prepare('SELECT count(*) FROM _honker_notifications').pluck().get() as number,
      events: raw.prepare('SELECT count(*) FROM _honker_stream').pluck().get() as number,
    };
  } finally {
    raw.close();
  }
}

test('transaction is BEGIN IMMEDIATE: another connection cannot write, even before fn writes', (t) => {
  const { db, file } = openTemp(t);
  setup(db);
  const other = new Database(file);
  t.teardown(() => other.close());
  other.pragma('busy_timeout = 0');
  const result = db.transaction(() => {
    t.true(db.raw.inTransaction);
    // fn has not written anything: a deferred BEGIN would not hold the write lock yet.
    const err = thrown(t, () => other.prepare("INSERT INTO orders VALUES (100, 'other')").run());
    t.is(err.code, 'SQLITE_BUSY');
    t.is(other.prepare('SELECT count(*) FROM orders').pluck().get(), 0, 'readers are not blocked');
    db.raw.prepare("INSERT INTO orders VALUES (1, 'mine')").run();
    return 'value of fn';
  });
  t.is(result, 'value of fn');
  t.false(db.raw.inTransaction);
  other.prepare("INSERT INTO orders VALUES (100, 'other')").run();
  t.deepEqual(written(file).orders, [1, 100]);
});

test('transaction: business row, job, notification and stream event commit together', (t) => {
  const { db, file } = openTemp(t);
  setup(db);
  const emails = db.queue<{ orderId: number }>('emails');
  const stream = db.stream<{ orderId: number }>('orders');
  const id = db.transaction(() => {
    db.raw.prepare("INSERT INTO orders VALUES (42, 'paid')").run();
    const jobId = emails.enqueue({ orderId: 42 });
    db.notify('orders', { orderId: 42 });
    stream.publish({ orderId: 42 });
    t.deepEqual(written(file), { orders: [], jobs: 0, notes: 0, events: 0 }, 'invisible to others before commit');
    return jobId;
  });
  t.deepEqual(written(file), { orders: [42], jobs: 1, notes: 1, events: 1 });
  t.deepEqual(emails.getJob(id)?.payload, { orderId: 42 });
});

test('transaction: a throw rolls back every write (business row, enqueue, notify, publish, claim) and rethrows', (t) => {
  const { db, file } = openTemp(t);
  setup(db);
  const emails = db.queue<{ orderId: number }>('emails');
  const existing = emails.enqueue({ orderId: 1 });
  const before = written(file);
  const boom = new Error('payment declined');
  const err = thrown(t, () =>
    db.transaction(() => {
      db.raw.prepare("INSERT INTO orders VALUES (42, 'paid')").run();
      emails.enqueue({ orderId: 42 });
      emails.enqueue({ orderId: 43 }, { key: 'k' });
      db.notify('orders', { orderId: 42 });
      db.stream('orders').publish({ orderId: 42 });
      t.is(emails.claimOne('w')?.id, existing);
      throw boom;
    }),
  );
  t.is(err, boom, 'the same error object');
  t.false(db.raw.inTransaction);
  t.deepEqual(written(file), before);
  t.like(emails.getJob(existing), { state: 'pending', attempts: 0 }, 'the claim was rolled back too');
  t.not(emails.enqueue({ orderId: 44 }, { key: 'k' }), 0, 'the key is free again');
});

test('transaction nested: a savepoint; a caught inner throw rolls back only the inner part', (t) => {
  const { db, file } = openTemp(t);
  setup(db);
  const q = db.queue<string>('q');
  const insert = db.raw.prepare('INSERT INTO orders VALUES (?, ?)');
  db.transaction(() => {
    insert.run(1, 'outer before');
    q.enqueue('outer');
    const inner = thrown(t, () =>
      db.transaction(() => {
        insert.run(2, 'inner');
        q.enqueue('inner');
        db.notify('ch', 'inner');
        throw new Error('inner failed');
      }),
    );
    t.is(inner.message, 'inner failed');
    t.true(db.raw.inTransaction, 'the outer transaction goes on');
    const ok = db.transaction(() => {
      insert.run(3, 'inner ok');
      return 'nested value';
    });
    t.is(ok, 'nested value');
    insert.run(4, 'outer after');
  });
  const w = written(file);
  t.deepEqual(w.orders, [1, 3, 4]);
  t.is(w.notes, 0);
  t.deepEqual(
    q.claimBatch('w', 10).map((j) => j.payload),
    ['outer'],
  );
});

test('transaction nested: an uncaught inner throw rolls back the whole transaction', (t) => {
  const { db, file } = openTemp(t);
  setup(db);
  const err = thrown(t, () =>
    db.transaction(() => {
      db.raw.prepare("INSERT INTO orders VALUES (1, 'outer')").run();
      db.transaction(() => {
        db.raw.prepare("INSERT INTO orders VALUES (2, 'inner')").run();
        throw new Error('deep');
      });
    }),
  );
  t.is(err.message, 'deep');
  t.deepEqual(written(file).orders, []);
});

test('transaction inside a transaction the application opened on db.raw joins it (savepoint)', (t) => {
  const { db, file } = openTemp(t);
  setup(db);
  const q = db.queue('q');
  const outer = db.raw.transaction(() => {
    db.raw.prepare("INSERT INTO orders VALUES (1, 'app')").run();
    db.transaction(() => q.enqueue('joined'));
    throw new Error('app rolls back');
  });
  t.is(thrown(t, () => outer()).message, 'app rolls back');
  t.deepEqual(written(file), { orders: [], jobs: 0, notes: 0, events: 0 });
});

test('transaction with an async fn: refused with a clear error, nothing committed, not even after its await', async (t) => {
  const { db, file } = openTemp(t);
  setup(db);
  const q = db.queue('q');
  let ran = false;
  const err = syncError(t, () =>
    db.transaction((async () => {
      ran = true;
      db.raw.prepare("INSERT INTO orders VALUES (1, 'before await')").run();
      await null;
      db.raw.prepare("INSERT INTO orders VALUES (2, 'after await')").run();
      q.enqueue('after await');
      throw new Error('late failure'); // must not become an unhandled rejection
    }) as unknown as () => void),
  );
  t.true(err instanceof HonkerError);
  t.is(err.code, 'INVALID_ARGUMENT');
  t.is(
    err.message,
    'db.transaction: fn must be synchronous (got an async function); a SQLite transaction cannot span an await',
  );
  await sleep(50);
  t.false(ran, 'fn never ran');
  t.false(db.raw.inTransaction);
  t.deepEqual(written(file), { orders: [], jobs: 0, notes: 0, events: 0 });
});

test('transaction with a plain fn that returns a Promise: rolled back with a clear error', async (t) => {
  const { db, file } = openTemp(t);
  setup(db);
  const err = syncError(t, () =>
    db.transaction(() => {
      db.raw.prepare("INSERT INTO orders VALUES (1, 'sync part')").run();
      return Promise.reject(new Error('rejected later')); // must not become an unhandled rejection
    }),
  );
  t.is(err.message, 'db.transaction: fn returned a Promise; a SQLite transaction cannot span an await, so fn must be synchronous');
  await sleep(50);
  t.false(db.raw.inTransaction);
  t.deepEqual(written(file).orders, []);
});

test('transaction argument and closed-database errors', (t) => {
  const { db } = openTemp(t);
  const e1 = syncError(t, () => (db.transaction as (fn: unknown) => unknown)(5));
  t.is(e1.message, 'db.transaction: fn must be a function (got 5)');
  db.close();
  const e2 = syncError(t, () => db.transaction(() => 1));
  t.is(e2.message, 'db.transaction: the database is closed');
  t.is(e2.code, 'CLOSED');
});
