/**
 * The commit signal (ext/commit_signal.c): after each commit a connection with honker_ext loaded
 * touches "<db>-wake", and src/watcher.ts wakes on that one event instead of racing the -wal
 * file's writes. SQL side: when the hook is installed, what it creates, that it still
 * auto-checkpoints, that it never replaces a hook it does not know, that a commit never fails
 * because of it. Client side: a writer in another process (Python, a host without our client)
 * wakes a listener through the signal, and one whose hook was replaced still wakes it.
 */
import test from './helpers/test.js';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { open } from '../src/index.js';
import { Watcher } from '../src/watcher.js';
import { extPath, extStem, freshDb, openDb, scalar, sqlError, systemPython, tempDbPath, tempDir } from './helpers/db.js';
import { orAfter } from './helpers/client.js';

const mtime = (file: string): bigint => statSync(file, { bigint: true }).mtimeNs;
const walBytes = (file: string): number => statSync(`${file}-wal`).size;

test('commitSignal: each commit touches <db>-wake, created with the database file’s mode', (t) => {
  const file = tempDbPath(t);
  new Database(file).close();
  chmodSync(file, 0o660);
  const db = openDb(file);
  t.teardown(() => db.close());
  const wake = `${file}-wake`;
  t.true(existsSync(wake), 'bootstrap committed, so the file exists');
  t.is(statSync(wake).mode & 0o777, 0o660, 'the mode of the database file, whatever the umask');
  let before = mtime(wake);
  for (let i = 0; i < 3; i++) {
    const until = Date.now() + 2;
    while (Date.now() < until); // a clock tick apart, so the times differ
    db.prepare("SELECT notify('c', 'p')").get();
    const after = mtime(wake);
    t.true(after > before, `commit ${i} moved the time`);
    before = after;
  }
  db.prepare('SELECT count(*) FROM _honker_notifications').get(); // a read: no commit
  t.is(mtime(wake), before, 'a read touches nothing');
});

test('commitSignal: installed in place of SQLite’s auto-checkpoint, which it still runs', (t) => {
  const { db, file } = freshDb(t);
  t.is(scalar(db, 'PRAGMA wal_autocheckpoint'), 0, 'the pragma reads 0 once the hook is not SQLite’s');
  // Our hook with 20 pages: the WAL starts over after each checkpoint and stays small.
  t.is(scalar(db, 'SELECT honker_wal_autocheckpoint(20)'), 20);
  for (let i = 0; i < 300; i++) db.prepare("SELECT notify('c', 'p')").get();
  const page = scalar<number>(db, 'PRAGMA page_size');
  t.true(walBytes(file) < 40 * page, `WAL ${walBytes(file)} bytes with checkpoints at 20 pages`);
  // 0: no auto-checkpoint, the signal alone: the WAL grows.
  t.is(scalar(db, 'SELECT honker_wal_autocheckpoint(0)'), 0);
  const wake = `${file}-wake`;
  const before = mtime(wake);
  for (let i = 0; i < 300; i++) db.prepare("SELECT notify('c', 'p')").get();
  t.true(walBytes(file) > 300 * page, `WAL ${walBytes(file)} bytes without checkpoints`);
  t.true(mtime(wake) > before, 'still signalling');
});

test('commitSignal: a connection without SQLite’s hook (turned off, or its own) is left alone at load', (t) => {
  const file = tempDbPath(t);
  const db = new Database(file);
  t.teardown(() => db.close());
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0'); // no hook: the host may have its own, which we must keep
  db.loadExtension(extPath);
  db.prepare('SELECT honker_bootstrap()').get();
  db.prepare("SELECT notify('c', 'p')").get();
  t.false(existsSync(`${file}-wake`), 'no hook installed, no file touched');
  db.prepare('SELECT honker_wal_autocheckpoint(0)').get(); // asked for explicitly
  db.prepare("SELECT notify('c', 'p')").get();
  t.true(existsSync(`${file}-wake`));
});

test('commitSignal: PRAGMA wal_autocheckpoint after load puts SQLite’s hook back: no more signals', (t) => {
  const { db, file } = freshDb(t);
  const wake = `${file}-wake`;
  db.pragma('wal_autocheckpoint = 1000');
  const before = mtime(wake);
  const until = Date.now() + 2;
  while (Date.now() < until);
  db.prepare("SELECT notify('c', 'p')").get();
  t.is(mtime(wake), before);
});

test('commitSignal: a commit succeeds when <db>-wake cannot be made (a dangling symlink), and touches nothing', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'a.db');
  symlinkSync(path.join(dir, 'nowhere', 'x'), `${file}-wake`);
  const db = openDb(file);
  t.teardown(() => db.close());
  t.is(scalar(db, "SELECT notify('c', 'p')"), 1);
  t.false(existsSync(path.join(dir, 'nowhere')), 'the link was not followed');
  t.is(scalar(db, 'SELECT count(*) FROM _honker_notifications'), 1);
});

test('commitSignal: an attached database signals through its own <file>-wake', (t) => {
  const { db } = freshDb(t);
  const other = tempDbPath(t, 'other.db');
  db.prepare('ATTACH ? AS other').run(other);
  db.exec('PRAGMA other.journal_mode = WAL; CREATE TABLE other.t (x)');
  const before = existsSync(`${other}-wake`) ? mtime(`${other}-wake`) : 0n;
  db.exec('INSERT INTO other.t VALUES (1)');
  t.true(mtime(`${other}-wake`) > before);
});

test('commitSignal: honker_wal_autocheckpoint refuses what is not 0..2147483647, and triggers cannot call it', (t) => {
  const { db } = freshDb(t);
  t.is(sqlError(t, db, 'SELECT honker_wal_autocheckpoint(-1)'), 'honker_wal_autocheckpoint: pages must be >= 0 (got -1)');
  t.is(sqlError(t, db, 'SELECT honker_wal_autocheckpoint(2147483648)'), 'honker_wal_autocheckpoint: pages must be <= 2147483647 (got 2147483648)');
  t.regex(sqlError(t, db, "SELECT honker_wal_autocheckpoint('x')"), /^honker_wal_autocheckpoint: pages must be an integer \(got TEXT/);
  t.regex(sqlError(t, db, 'SELECT honker_wal_autocheckpoint(NULL)'), /^honker_wal_autocheckpoint: pages must be an integer \(got NULL/);
  db.exec('CREATE TABLE t (x); CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT honker_wal_autocheckpoint(0); END');
  t.regex(sqlError(t, db, 'INSERT INTO t VALUES (1)'), /unsafe use of honker_wal_autocheckpoint/);
});

/** Run Python (a host without our client) on file: `n` notifies on channel 'py', one commit each. */
function pythonNotifies(file: string, n: number, replaceHook: boolean): Promise<number | null> {
  const code = [
    'import os, sqlite3',
    "c = sqlite3.connect(os.environ['DB'], isolation_level=None)",
    'c.enable_load_extension(True)',
    "c.load_extension(os.environ['EXT'])",
    // PRAGMA wal_autocheckpoint replaces our hook with SQLite's: this writer no longer signals.
    replaceHook ? "c.execute('PRAGMA wal_autocheckpoint = 1000')" : 'pass',
    `for i in range(${n}): c.execute("SELECT notify('py', ?)", (str(i),))`,
  ].join('\n');
  const child = spawn(systemPython, ['-c', code], { env: { ...process.env, DB: file, EXT: extStem }, stdio: 'inherit' });
  return new Promise((resolve, reject) => child.on('error', reject).on('exit', resolve));
}

test('commitSignal: a Python writer wakes a listener through <db>-wake; one whose hook was replaced still wakes it', async (t) => {
  const file = tempDbPath(t);
  const db = open(file);
  const watcher = Watcher.acquire(file);
  t.teardown(() => {
    watcher.release();
    db.close();
  });
  const it = db.listen<number>('py');
  const first = it.next(); // subscribed from here
  t.false(watcher.stats().commitSignals, 'no signal seen yet: -wal events are checked at once');

  t.is(await pythonNotifies(file, 1, false), 0);
  const got = await orAfter(first, 10_000, 'late');
  t.is(typeof got === 'string' ? got : got.value?.payload, 0, 'the first notification');
  t.true(watcher.stats().commitSignals, 'a -wake event came: -wal events now wait for signals');

  const second = it.next();
  t.is(await pythonNotifies(file, 1, true), 0);
  const got2 = await orAfter(second, 10_000, 'late');
  t.is(typeof got2 === 'string' ? got2 : got2.value?.payload, 0, 'the unsignalled notification');
  // Found by the delayed check; with no -wake event after it, -wal events are checked at once again.
  const until = Date.now() + 5000;
  while (watcher.stats().commitSignals && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  t.false(watcher.stats().commitSignals, 'an unsignalled commit turned the eager checks back on');
  await it.return?.(undefined);
});
