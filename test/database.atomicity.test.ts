/**
 * All or nothing for the multi-statement functions outside the queue
 * (queue.atomicity.test.ts and scheduler.tick.test.ts cover those): a later
 * step is forced to fail and the earlier steps must be undone.
 */
import test from './helpers/test.js';
import Database from 'better-sqlite3';
import { extPath, freshDb, scalar, sqlError, tempDbPath } from './helpers/db.js';

test('honker_bootstrap: a failing later DDL step leaves the file as it was (autocommit)', (t) => {
  const file = tempDbPath(t);
  const db = new Database(file);
  t.teardown(() => db.close());
  // A table squatting on the name of an index that bootstrap creates late.
  db.exec('CREATE TABLE _honker_live_ready(x)');
  db.loadExtension(extPath);
  const before = scalar<number>(db, 'SELECT count(*) FROM sqlite_master');
  const msg = sqlError(t, db, 'SELECT honker_bootstrap()');
  t.is(msg, 'honker_bootstrap: there is already a table named _honker_live_ready');
  t.is(scalar<number>(db, 'SELECT count(*) FROM sqlite_master'), before);
  t.is(scalar<number>(db, "SELECT count(*) FROM sqlite_master WHERE name = '_honker_live'"), 0);
  t.false(db.inTransaction);
});

test('honker_bootstrap: inside the caller transaction a failure undoes only its own work', (t) => {
  const file = tempDbPath(t);
  const db = new Database(file);
  t.teardown(() => db.close());
  db.exec('CREATE TABLE _honker_live_ready(x); CREATE TABLE mine(x)');
  db.loadExtension(extPath);
  db.exec('BEGIN; INSERT INTO mine VALUES (1)');
  sqlError(t, db, 'SELECT honker_bootstrap()');
  t.true(db.inTransaction);
  t.is(scalar<number>(db, "SELECT count(*) FROM sqlite_master WHERE name = '_honker_live'"), 0);
  db.exec('COMMIT');
  t.is(scalar<number>(db, 'SELECT count(*) FROM mine'), 1);
});

test('honker_notify_prune: when the age step fails the keep step is undone too', (t) => {
  const { db } = freshDb(t);
  for (let i = 0; i < 10; i++) db.prepare("SELECT notify('c', ?)").get(String(i));
  // Keep-rank (step 1, max_keep 8) deletes ids 1-2; the age rule (step 2) deletes ids 8-10,
  // which are back-dated. Refusing id 9 makes step 2 fail after step 1 deleted rows.
  db.exec('UPDATE _honker_notifications SET created_at = unixepoch() - 1000 WHERE id >= 8');
  db.exec(`CREATE TRIGGER refuse BEFORE DELETE ON _honker_notifications WHEN old.id = 9
           BEGIN SELECT RAISE(ABORT, 'refused by test'); END`);
  const msg = sqlError(t, db, 'SELECT honker_notify_prune(500, 8)');
  t.is(msg, 'honker_notify_prune: refused by test');
  t.is(scalar<number>(db, 'SELECT count(*) FROM _honker_notifications'), 10);
  t.false(db.inTransaction);
});
