/**
 * notify() is a plain INSERT in the caller's transaction: rolled back, it
 * leaves nothing; committed, other connections see it only after the commit.
 * honker_notify_prune joins the caller's transaction the same way.
 */
import test from './helpers/test.js';
import { freshDb, openDb, scalar } from './helpers/db.js';

const COUNT = 'SELECT count(*) FROM _honker_notifications';

test('notify: a rolled-back transaction leaves no notification', (t) => {
  const { db } = freshDb(t);
  db.exec('BEGIN');
  t.is(scalar(db, "SELECT notify('orders', 'lost')"), 1);
  t.is(scalar(db, COUNT), 1); // visible to its own transaction
  db.exec('ROLLBACK');
  t.is(scalar(db, COUNT), 0);

  const tx = db.transaction(() => {
    scalar(db, "SELECT notify('orders', 'lost too')");
    throw new Error('handler failed');
  });
  t.throws(tx, { message: 'handler failed' });
  t.is(scalar(db, COUNT), 0);
});

test('notify: a rolled-back savepoint drops only its own notification', (t) => {
  const { db } = freshDb(t);
  db.exec('BEGIN');
  scalar(db, "SELECT notify('orders', 'kept')");
  db.exec('SAVEPOINT inner');
  scalar(db, "SELECT notify('orders', 'dropped')");
  db.exec('ROLLBACK TO inner');
  db.exec('RELEASE inner');
  db.exec('COMMIT');
  t.deepEqual(db.prepare('SELECT payload FROM _honker_notifications').pluck().all(), ['kept']);
});

test('notify: inside a transaction, another connection sees it only after commit', (t) => {
  const { db, file } = freshDb(t);
  const listener = openDb(file, { bootstrap: false });
  t.teardown(() => listener.close());

  db.exec('BEGIN');
  db.exec("CREATE TABLE orders(id INTEGER PRIMARY KEY, note TEXT)");
  db.exec("INSERT INTO orders(note) VALUES ('first')");
  const id = scalar<number>(db, "SELECT notify('orders', '{\"id\":1}')");
  t.is(scalar(listener, COUNT), 0);
  db.exec('COMMIT');

  const row = listener.prepare('SELECT id, channel, payload FROM _honker_notifications').get();
  t.deepEqual(row, { id, channel: 'orders', payload: '{"id":1}' });
  t.is(scalar(listener, 'SELECT count(*) FROM orders'), 1); // the business row came with it
});

test('notify: works inside a statement that is itself writing, and once per row', (t) => {
  const { db } = freshDb(t);
  db.exec('CREATE TABLE sent(notification_id INTEGER, who TEXT)');
  db.exec("INSERT INTO sent SELECT notify('greet', 'hi ' || value), value FROM json_each('[\"a\",\"b\",\"c\"]')");
  const rows = db.prepare('SELECT notification_id, who FROM sent ORDER BY who').raw().all();
  t.deepEqual(rows, [
    [1, 'a'],
    [2, 'b'],
    [3, 'c'],
  ]);
  t.deepEqual(db.prepare('SELECT payload FROM _honker_notifications ORDER BY id').pluck().all(), [
    'hi a',
    'hi b',
    'hi c',
  ]);
});

test('honker_notify_prune: inside a rolled-back transaction deletes nothing', (t) => {
  const { db } = freshDb(t);
  for (let i = 0; i < 5; i++) scalar(db, "SELECT notify('c', ?)", `p${i}`);
  db.exec('BEGIN');
  t.is(scalar(db, 'SELECT honker_notify_prune(NULL, 1)'), 4);
  t.is(scalar(db, 'SELECT honker_notify_prune(0, NULL)'), 1);
  db.exec('ROLLBACK');
  t.is(scalar(db, COUNT), 5);
});

test('honker_notify_prune: max_keep ranks ids across channels, ignoring id gaps', (t) => {
  const { db } = freshDb(t);
  const ids: number[] = [];
  for (let i = 0; i < 10; i++) ids.push(scalar<number>(db, 'SELECT notify(?, ?)', i % 2 ? 'odd' : 'even', `p${i}`));
  // Gaps among the newest rows: honker's `id <= max(id) - max_keep` would then keep only 2 of 4.
  db.prepare('DELETE FROM _honker_notifications WHERE id IN (?, ?)').run(ids[9 - 1], ids[9 - 2]);
  t.is(scalar(db, 'SELECT honker_notify_prune(NULL, 4)'), 4);
  const kept = db.prepare('SELECT id FROM _honker_notifications ORDER BY id').pluck().all();
  t.deepEqual(kept, [ids[4], ids[5], ids[6], ids[9]]);
  // every deleted row is older than every kept one
  t.is(scalar(db, 'SELECT honker_notify_prune(NULL, 4)'), 0);
});

test('honker_notify_prune: deletes exactly the rows below the rank of a 20k-row table; ids are not reused', (t) => {
  const { db } = freshDb(t);
  db.exec(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) INSERT INTO _honker_notifications(channel, payload) SELECT 'c' || (i % 7), 'p' FROM n",
  );
  t.is(scalar(db, 'SELECT honker_notify_prune(NULL, 1000)'), 19000);
  t.is(scalar(db, 'SELECT min(id) FROM _honker_notifications'), 19001);
  t.is(scalar(db, "SELECT notify('c', 'next')"), 20001);
});

test('honker_notify_read_since: a listener on another connection sees each committed notification once, in order', (t) => {
  const { db, file } = freshDb(t);
  const listener = openDb(file, { bootstrap: false });
  t.teardown(() => listener.close());
  scalar(db, "SELECT notify('jobs', 'before the listener')");
  let after = scalar<number>(listener, 'SELECT honker_notify_last_id()');
  const seen: string[] = [];
  const poll = () => {
    for (;;) {
      const rows = JSON.parse(scalar<string>(listener, 'SELECT honker_notify_read_since(?, ?, ?)', 'jobs', after, 2));
      for (const row of rows) {
        seen.push(row.payload);
        after = row.id;
      }
      if (rows.length < 2) return;
    }
  };
  db.exec('BEGIN');
  scalar(db, "SELECT notify('jobs', 'one')");
  scalar(db, "SELECT notify('other', 'not mine')");
  poll();
  t.deepEqual(seen, []); // not committed yet
  scalar(db, "SELECT notify('jobs', 'two')");
  db.exec('COMMIT');
  db.exec('BEGIN');
  scalar(db, "SELECT notify('jobs', 'rolled back')");
  db.exec('ROLLBACK');
  const big = JSON.stringify({ big: 'z'.repeat(1 << 20) });
  for (const p of ['three', 'four', big]) scalar(db, "SELECT notify('jobs', ?)", p);
  poll();
  poll();
  t.deepEqual(seen, ['one', 'two', 'three', 'four', big]);
});
