/**
 * The watcher's 'kernel' backend (ext/watcher_kernel.c: inotify on the
 * database's directory, confirmed by PRAGMA data_version) beyond the contract
 * every backend keeps (watcher.crossprocess.test.ts runs that for 'kernel'
 * and 'poll'): which backend each name selects, the fallback to polling when
 * inotify cannot be had, and what a blocked waiter costs. The waiter is
 * test/c/watcher_wait.c in a child process (or /usr/bin/python3 on the SQL
 * functions); commits are made here or by the driver's writer child.
 */
import test from './helpers/test.js';
import Database from 'better-sqlite3';
import { renameSync } from 'node:fs';
import { commit, fixtureDb, rollback, sleep, startCDriver, startSqlDriver, stopAfter } from './helpers/watcher.js';

test('watcher kernel: NULL, "", kernel and kernel-watcher watch with inotify; poll and polling do not', async (t) => {
  const { file } = fixtureDb(t);
  const c = stopAfter(t, await startCDriver(t, file));
  for (const [backend, fds] of [
    ['-', 'fds inotify=1 eventfd=1'],
    ["''", 'fds inotify=1 eventfd=1'],
    ['kernel', 'fds inotify=1 eventfd=1'],
    ['kernel-watcher', 'fds inotify=1 eventfd=1'],
    ['poll', 'fds inotify=0 eventfd=0'],
    ['polling', 'fds inotify=0 eventfd=0'],
  ]) {
    t.is(await c.ask(`open ${backend}`), 'ok', backend);
    t.is(await c.ask('fds'), fds, backend);
  }
  t.is(await c.ask('close'), 'closed');
  t.is(await c.ask('fds'), 'fds inotify=0 eventfd=0'); // close released both
});

test('watcher kernel: a dead watcher gives its inotify instance back at once, close the rest', async (t) => {
  const { db, file } = fixtureDb(t);
  const c = stopAfter(t, await startCDriver(t, file));
  t.is(await c.ask('open kernel'), 'ok');
  db.close();
  const other = new Database(`${file}.new`);
  other.exec('CREATE TABLE other(x)');
  other.close();
  renameSync(`${file}.new`, file); // the directory reports the rename: dead at once
  const [r, ms] = (await c.ask('wait 20000')).split(' ');
  t.is(r, '-1');
  t.log(`-1 after ${ms} ms`);
  t.is(await c.ask('fds'), 'fds inotify=0 eventfd=1'); // max_user_instances is per user
  t.is(await c.ask('close'), 'closed');
  t.is(await c.ask('fds'), 'fds inotify=0 eventfd=0');
});

// With 3 descriptors left the watcher's connection takes them all and inotify_init1 fails
// (EMFILE, as when fs.inotify.max_user_instances is exhausted); with 4, eventfd fails after it.
for (const [backend, free] of [
  ['kernel', 3],
  ['-', 4],
] as const) {
  test(`watcher kernel: without inotify (${free} descriptors left) '${backend}' polls, with the same contract`, async (t) => {
    const { db, file } = fixtureDb(t);
    const c = stopAfter(t, await startCDriver(t, file));
    t.is(await c.ask(`starve ${backend} ${free}`), 'ok');
    t.is(await c.ask('fds'), 'fds inotify=0 eventfd=0');
    t.is(await c.ask('bg 3 10000'), 'started');
    await sleep(100);
    commit(db);
    t.is(await c.ask('join'), '1 1 1');
    rollback(db);
    t.regex(await c.ask('wait 300'), /^0 /);
    for (let i = 0; i < 3; i++) commit(db);
    // Let the poller see all three (it may see them one by one): then one wait reports them all.
    await sleep(50);
    t.regex(await c.ask('wait 5000'), /^1 /);
    t.regex(await c.ask('wait 100'), /^0 /); // coalesced
    t.is(await c.ask('bg 1 20000'), 'started');
    await sleep(100);
    db.close();
    const other = new Database(`${file}.new`);
    other.exec('CREATE TABLE other(x)');
    other.close();
    renameSync(`${file}.new`, file);
    t.is(await c.ask('join'), '-1');
  });
}

test('watcher kernel: a blocked wait costs under 0.5% of a core (the 1 ms poller about 2%)', async (t) => {
  const { file } = fixtureDb(t);
  const c = stopAfter(t, await startCDriver(t, file));
  // CPU time of the driver process itself, so other load on the machine does not count.
  const pct = async (backend: string) => {
    t.is(await c.ask(`open ${backend}`), 'ok');
    const m = /^cpu pct=([\d.]+)$/.exec(await c.ask('cpu 2 waiting', 30_000));
    t.truthy(m);
    return Number(m![1]);
  };
  const kernel = await pct('kernel');
  const poll = await pct('poll');
  t.log(`blocked wait: kernel ${kernel}% of a core, poll ${poll}%`);
  t.true(kernel < 0.5, `kernel ${kernel}%`);
  t.true(kernel * 4 < poll, `kernel ${kernel}% vs poll ${poll}%`);
});

test('watcher kernel: a long write transaction does not make a blocked wait spin on its events', async (t) => {
  const { file } = fixtureDb(t);
  const c = stopAfter(t, await startCDriver(t, file));
  t.is(await c.ask('open kernel'), 'ok');
  // 20,000 rows of 1 KB through a 16-page cache: thousands of WAL writes, then a rollback.
  // Acting on each event cost 37-92% of a core here; the backing-off checks cost 1-2%.
  const line = await c.ask('bulkcpu 20000', 60_000);
  const m = /^bulkcpu ms=(\d+) pct=([\d.]+)$/.exec(line);
  t.truthy(m, line);
  t.log(line);
  t.true(Number(m![2]) < 15, line);
});

test('watcher kernel: a python waiter on the SQL functions wakes on a commit here, not on a ROLLBACK', async (t) => {
  const { db, file } = fixtureDb(t);
  const py = stopAfter(t, startSqlDriver(t, file));
  const id = await py.ask('open kernel');
  t.regex(id, /^\d+$/);
  t.is(await py.ask(`bg 3 ${id} 10000`), 'started');
  await sleep(300);
  commit(db);
  t.is(await py.ask('join'), '1 1 1');
  rollback(db);
  t.regex(await py.ask(`wait ${id} 300`), /^0 /);
  commit(db);
  t.regex(await py.ask(`wait ${id} 5000`), /^1 /);
  t.is(await py.ask(`close ${id}`), '1');
});
