/**
 * honker_update_watcher_open / _wait / _close in one process (better-sqlite3
 * and the sqlite3 CLI): arguments, errors, handle ids, wake/timeout/close.
 * The cross-process behaviour is in watcher.crossprocess.test.ts.
 */
import test, { type ExecutionContext } from './helpers/test.js';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freshDb, scalar, sqlError, sqliteCli, tempDir, type Db } from './helpers/db.js';

/** Open a watcher on file through db; closed after the test. */
function openWatcher(t: ExecutionContext, db: Db, file: string, ...rest: unknown[]): number {
  const sql = rest.length ? 'SELECT honker_update_watcher_open(?, ?, ?)' : 'SELECT honker_update_watcher_open(?, ?)';
  const id = scalar<number>(db, sql, file, null, ...rest);
  t.teardown(() => {
    if (db.open) scalar(db, 'SELECT honker_update_watcher_close(?)', id);
  });
  return id;
}

const wait = (db: Db, id: unknown, ms: unknown) => scalar<number>(db, 'SELECT honker_update_watcher_wait(?, ?)', id, ms);

test('honker_update_watcher_wait: 1 after a commit on another connection, then 0 at the timeout', (t) => {
  const { db, file } = freshDb(t);
  const id = openWatcher(t, db, file);
  t.is(wait(db, id, 0), 0);
  const other = new Database(file);
  // One commit: two would let the thread report the second after the first wait returned.
  other.exec('BEGIN; CREATE TABLE t(x); INSERT INTO t VALUES (1); COMMIT');
  other.close();
  t.is(wait(db, id, 5000), 1);
  const t0 = Date.now();
  t.is(wait(db, id, 150), 0);
  t.true(Date.now() - t0 >= 140, `timed out after ${Date.now() - t0} ms`);
});

test('honker_update_watcher_wait: sees commits of the calling connection too', (t) => {
  const { db, file } = freshDb(t);
  const id = openWatcher(t, db, file, 1);
  db.exec('BEGIN; CREATE TABLE t(x); INSERT INTO t VALUES (1); COMMIT'); // one commit, one change
  t.is(wait(db, id, 5000), 1);
  t.is(wait(db, id, 0), 0);
});

test('honker_update_watcher_close: 1, then waits on the id return -1 at once; unknown ids too', (t) => {
  const { db, file } = freshDb(t);
  const id = openWatcher(t, db, file);
  t.is(scalar(db, 'SELECT honker_update_watcher_close(?)', id), 1);
  const t0 = Date.now();
  t.is(wait(db, id, 5000), -1);
  t.true(Date.now() - t0 < 1000);
  t.is(scalar(db, 'SELECT honker_update_watcher_close(?)', id), 1);
  t.is(wait(db, 0, 0), -1);
  t.is(wait(db, 987654321n, 0), -1);
  t.is(scalar(db, 'SELECT honker_update_watcher_close(-5)'), 1);
});

test('honker_update_watcher_open: ids are positive, increasing and never reused', (t) => {
  const { db, file } = freshDb(t);
  const a = openWatcher(t, db, file);
  scalar(db, 'SELECT honker_update_watcher_close(?)', a);
  const b = openWatcher(t, db, file, 5);
  const c = openWatcher(t, db, file, null);
  t.true(a >= 1);
  t.true(b > a);
  t.true(c > b);
  t.is(wait(db, a, 0), -1); // the closed id stays closed
  t.is(wait(db, b, 0), 0);
});

test('honker_update_watcher_open: integral REAL arguments are integers (better-sqlite3 binds numbers as REAL)', (t) => {
  const { db, file } = freshDb(t);
  const id = openWatcher(t, db, file, 2.0);
  t.is(scalar(db, 'SELECT honker_update_watcher_wait(?, ?)', id * 1.0, 0.0), 0);
  const id2 = openWatcher(t, db, file, 3.0);
  t.true(Number.isInteger(id2) && id2 > id);
});

test('honker_update_watcher_open: backends and the missing-file error', (t) => {
  const { db, file } = freshDb(t);
  for (const backend of ['kernel', 'kernel-watcher', 'polling', 'poll', '']) {
    const id = scalar<number>(db, 'SELECT honker_update_watcher_open(?, ?)', file, backend);
    t.is(scalar(db, 'SELECT honker_update_watcher_close(?)', id), 1);
  }
  const open = 'SELECT honker_update_watcher_open(?, ?)';
  // honker's bindings skip a backend whose error says "requires the" (spec/sql.md "Watcher").
  t.is(
    sqlError(t, db, open, file, 'shm'),
    "honker_update_watcher_open: watcher backend 'shm' requires the shm-fast-path feature, which this build of honker_ext does not include; use NULL, 'kernel' or 'polling'",
  );
  t.is(
    sqlError(t, db, open, file, 'inotify'),
    "honker_update_watcher_open: unknown watcher backend 'inotify'; valid: NULL, '', 'kernel', 'kernel-watcher', 'polling', 'poll' ('shm' is not built into honker_ext)",
  );
  const dir = tempDir(t);
  const missing = path.join(dir, 'nope.db');
  t.is(
    sqlError(t, db, open, missing, null),
    `honker_update_watcher_open: cannot watch '${missing}': No such file or directory (the database file must exist; the watcher never creates it)`,
  );
  t.false(existsSync(missing));
  t.is(
    sqlError(t, db, open, '', null),
    "honker_update_watcher_open: cannot watch '': No such file or directory (the database file must exist; the watcher never creates it)",
  );
  mkdirSync(path.join(dir, 'sub'));
  t.is(
    sqlError(t, db, open, path.join(dir, 'sub'), null),
    `honker_update_watcher_open: cannot watch '${path.join(dir, 'sub')}': not a regular file`,
  );
  const junk = path.join(dir, 'junk.db');
  writeFileSync(junk, 'this is not a database, just some text that is long enough'.repeat(20));
  t.is(sqlError(t, db, open, junk, null), `honker_update_watcher_open: cannot watch '${junk}': file is not a database`);
});

test('honker_update_watcher_*: bad arguments are errors naming the function and the argument', (t) => {
  const { db, file } = freshDb(t);
  const open2 = 'SELECT honker_update_watcher_open(?, ?)';
  const open3 = 'SELECT honker_update_watcher_open(?, ?, ?)';
  const cases: Array<[string, unknown[], string]> = [
    [open2, [null, null], 'honker_update_watcher_open: db_path must be TEXT (got NULL)'],
    [open2, [7n, null], 'honker_update_watcher_open: db_path must be TEXT (got INTEGER 7)'],
    [open2, [Buffer.from('x'), null], 'honker_update_watcher_open: db_path must be TEXT (got BLOB of 1 bytes)'],
    [open2, [`${file}\0x`, null], 'honker_update_watcher_open: db_path must not contain NUL bytes'],
    [open2, [file, 1n], 'honker_update_watcher_open: backend must be TEXT or NULL (got INTEGER 1)'],
    [open2, [file, 'poll\0ing'], 'honker_update_watcher_open: backend must not contain NUL bytes'],
    [open3, [file, null, 0n], 'honker_update_watcher_open: poll_ms must be >= 1 (got 0)'],
    [open3, [file, null, -1n], 'honker_update_watcher_open: poll_ms must be >= 1 (got -1)'],
    [open3, [file, null, 60001n], 'honker_update_watcher_open: poll_ms must be <= 60000 (got 60001)'],
    [open3, [file, null, 1.5], 'honker_update_watcher_open: poll_ms must be an integer or NULL (got REAL 1.5)'],
    [open3, [file, null, '5'], "honker_update_watcher_open: poll_ms must be an integer or NULL (got TEXT '5')"],
    ['SELECT honker_update_watcher_wait(?, ?)', [null, 0n], 'honker_update_watcher_wait: id must be an integer (got NULL)'],
    ['SELECT honker_update_watcher_wait(?, ?)', ['1', 0n], "honker_update_watcher_wait: id must be an integer (got TEXT '1')"],
    ['SELECT honker_update_watcher_wait(?, ?)', [1n, null], 'honker_update_watcher_wait: timeout_ms must be an integer (got NULL)'],
    ['SELECT honker_update_watcher_wait(?, ?)', [1n, 2.5], 'honker_update_watcher_wait: timeout_ms must be an integer (got REAL 2.5)'],
    ['SELECT honker_update_watcher_wait(?, ?)', [1n, 2147483648n], 'honker_update_watcher_wait: timeout_ms must be <= 2147483647 (got 2147483648)'],
    ['SELECT honker_update_watcher_close(?)', [null], 'honker_update_watcher_close: id must be an integer (got NULL)'],
    ['SELECT honker_update_watcher_close(?)', [1.25], 'honker_update_watcher_close: id must be an integer (got REAL 1.25)'],
  ];
  for (const [sql, params, message] of cases) t.is(sqlError(t, db, sql, ...params), message, `${sql} ${String(params)}`);
});

test('honker_update_watcher_*: the same session through the sqlite3 CLI (SQLite 3.40)', (t) => {
  const { db, file } = freshDb(t);
  db.close();
  const checks = [
    `SELECT 'open', honker_update_watcher_open('${file}', NULL) = 1;`, // ids start at 1 per process
    `SELECT 'idle', honker_update_watcher_wait(1, 0) = 0;`,
    `CREATE TABLE cli(x);`,
    `SELECT 'woke', honker_update_watcher_wait(1, 5000) = 1;`,
    `SELECT 'drained', honker_update_watcher_wait(1, 0) = 0;`,
    `SELECT 'close', honker_update_watcher_close(1) = 1;`,
    `SELECT 'closed', honker_update_watcher_wait(1, 0) = -1;`,
    `SELECT 'next', honker_update_watcher_open('${file}', 'polling', 3) = 2;`,
    `SELECT 'close2', honker_update_watcher_close(2) = 1;`,
  ];
  const r = sqliteCli(file, checks.join('\n'));
  t.is(r.stderr, '');
  t.is(r.status, 0);
  t.deepEqual(
    r.stdout.trim().split('\n'),
    ['open|1', 'idle|1', 'woke|1', 'drained|1', 'close|1', 'closed|1', 'next|1', 'close2|1'],
  );
});
