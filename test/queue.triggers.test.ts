/**
 * queue: the transactional outbox. An AFTER INSERT trigger on the user's own
 * table calls honker_enqueue (or notify), so the job is written by the same
 * statement, in the same transaction, as the business row: both commit or
 * neither does. Inside a trigger the functions open no savepoint of their own
 * (ext/write_lock.c): the INSERT that fired them is the atomic unit.
 */
import test from './helpers/test.js';
import { freshDb, openDb, scalar, thrown, type Db } from './helpers/db.js';

const JOBS = "SELECT count(*) FROM _honker_live WHERE queue = 'emails'";
const NOTIFICATIONS = "SELECT count(*) FROM _honker_notifications WHERE channel = 'orders'";

/** The business table, with a trigger that enqueues one job and sends one notification per order. */
function createOrders(db: Db): void {
  db.exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
    CREATE TRIGGER orders_outbox AFTER INSERT ON orders BEGIN
      SELECT honker_enqueue('emails', json_object('order', NEW.id, 'to', NEW.email), NULL, NULL, 0, 3, NULL);
      SELECT notify('orders', json_object('id', NEW.id));
    END;`);
}

test('queue.triggers: an INSERT enqueues its job in the same transaction, seen by others only at commit', (t) => {
  const { db, file } = freshDb(t);
  createOrders(db);
  const other = openDb(file, { bootstrap: false });
  t.teardown(() => other.close());

  db.exec('BEGIN');
  db.prepare('INSERT INTO orders (email) VALUES (?)').run('alice@example.com');
  t.is(scalar(db, JOBS), 1); // visible to its own transaction
  t.is(scalar(other, 'SELECT count(*) FROM orders'), 0);
  t.is(scalar(other, JOBS), 0);
  db.exec('COMMIT');

  t.is(scalar(other, 'SELECT count(*) FROM orders'), 1);
  t.deepEqual(other.prepare("SELECT payload, state, attempts FROM _honker_live WHERE queue = 'emails'").get(), {
    payload: '{"order":1,"to":"alice@example.com"}',
    state: 'pending',
    attempts: 0,
  });
  // An ordinary job: a worker claims it like any other.
  const claimed = JSON.parse(scalar<string>(other, "SELECT honker_claim_batch('emails', 'w', 10, 60)"));
  t.deepEqual(
    claimed.map((j: { payload: string }) => j.payload),
    ['{"order":1,"to":"alice@example.com"}'],
  );
});

test('queue.triggers: an INSERT in autocommit mode commits the row and its job together', (t) => {
  const { db } = freshDb(t);
  createOrders(db);
  db.prepare('INSERT INTO orders (email) VALUES (?)').run('bob@example.com');
  t.false(db.inTransaction);
  t.is(scalar(db, JOBS), 1);
  // One statement inserting three rows fires the trigger three times.
  db.exec("INSERT INTO orders (email) SELECT value FROM json_each('[\"c@x\",\"d@x\",\"e@x\"]')");
  t.deepEqual(
    db.prepare("SELECT json_extract(payload, '$.to') FROM _honker_live WHERE queue = 'emails' ORDER BY id").pluck().all(),
    ['bob@example.com', 'c@x', 'd@x', 'e@x'],
  );
});

test('queue.triggers: a rolled-back INSERT enqueues nothing', (t) => {
  const { db } = freshDb(t);
  createOrders(db);
  db.exec('BEGIN');
  db.prepare('INSERT INTO orders (email) VALUES (?)').run('alice@example.com');
  db.exec('ROLLBACK');
  t.is(scalar(db, 'SELECT count(*) FROM orders'), 0);
  t.is(scalar(db, JOBS), 0);

  const tx = db.transaction(() => {
    db.prepare('INSERT INTO orders (email) VALUES (?)').run('bob@example.com');
    throw new Error('handler failed');
  });
  t.throws(tx, { message: 'handler failed' });
  t.is(scalar(db, 'SELECT count(*) FROM orders'), 0);
  t.is(scalar(db, JOBS), 0);
});

test('queue.triggers: a statement that fails on a later row takes back the jobs of its earlier rows', (t) => {
  const { db } = freshDb(t);
  createOrders(db);
  // The second row violates NOT NULL after the first row's trigger has already enqueued.
  const err = thrown(t, () => db.exec("INSERT INTO orders (email) VALUES ('first@x'), (NULL)"));
  t.is(err.message, 'NOT NULL constraint failed: orders.email');
  t.is(scalar(db, 'SELECT count(*) FROM orders'), 0);
  t.is(scalar(db, JOBS), 0);
  t.is(scalar(db, NOTIFICATIONS), 0);
  t.false(db.inTransaction);
});

test('queue.triggers: a trigger that calls notify sends one notification per row, on commit only', (t) => {
  const { db, file } = freshDb(t);
  createOrders(db);
  const listener = openDb(file, { bootstrap: false });
  t.teardown(() => listener.close());

  db.exec('BEGIN');
  db.prepare('INSERT INTO orders (email) VALUES (?)').run('alice@example.com');
  t.is(scalar(listener, NOTIFICATIONS), 0);
  db.exec('COMMIT');
  t.deepEqual(listener.prepare("SELECT payload FROM _honker_notifications WHERE channel = 'orders'").pluck().all(), [
    '{"id":1}',
  ]);

  db.exec('BEGIN');
  db.prepare('INSERT INTO orders (email) VALUES (?)').run('bob@example.com');
  t.is(scalar(db, NOTIFICATIONS), 2);
  db.exec('ROLLBACK');
  t.is(scalar(listener, NOTIFICATIONS), 1);
});

test('queue.triggers: a failing honker_enqueue in the trigger fails the INSERT, with the function named', (t) => {
  const { db } = freshDb(t);
  db.exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT);
    CREATE TRIGGER orders_outbox AFTER INSERT ON orders BEGIN
      SELECT honker_enqueue('emails', NEW.email, NULL, NULL, 0, 3, NULL);
    END;`);
  // NULL is not a payload: the trigger's error aborts the whole INSERT.
  const err = thrown(t, () => db.prepare('INSERT INTO orders (email) VALUES (NULL)').run());
  t.is(err.message, 'honker_enqueue: payload must be TEXT (got NULL)');
  t.is(scalar(db, 'SELECT count(*) FROM orders'), 0);
  t.is(scalar(db, JOBS), 0);
});
