/**
 * The client's wake path in one process (src/watcher.ts): one watcher per
 * file shared by every iterator and every HonkerDatabase, aborts that leave
 * nothing behind, loud failure when the file is replaced, deleted or closed,
 * and the fallback poll when fs.watch (inotify) is unavailable.
 * Serial: Watcher.count() is per process.
 */
import test, { type ExecutionContext } from './helpers/test.js';
import Database from 'better-sqlite3';
import { getEventListeners } from 'node:events';
import { renameSync, unlinkSync, watch } from 'node:fs';
import path from 'node:path';
import { attach, open, HonkerError, type HonkerDatabase } from '../src/index.js';
import { Watcher } from '../src/watcher.js';
import { orAfter } from './helpers/client.js';
import { extPath, tempDbPath } from './helpers/db.js';
import { fdsOn, sleep, until } from './helpers/watcher-client.js';

function openDb(t: ExecutionContext, file = tempDbPath(t), options?: { watcherIntervalMs?: number }): HonkerDatabase {
  const db = open(file, options);
  t.teardown(() => db.close());
  return db;
}

type Kind = 'listen' | 'claim' | 'subscribe' | 'results.wait';
const KINDS: Kind[] = ['listen', 'claim', 'subscribe', 'results.wait'];

/** Start a waiting iterator of `kind`; resolves with 'ended' (it returned) or rejects with its error. */
function waitOn(db: HonkerDatabase, kind: Kind, signal?: AbortSignal, i = 0): Promise<'ended'> {
  const drain = async (it: AsyncIterator<unknown>): Promise<'ended'> => {
    while (!(await it.next()).done);
    return 'ended';
  };
  if (kind === 'listen') return drain(db.listen('ch', { signal }));
  if (kind === 'claim') return drain(db.queue('jobs').claim(`worker-${i}`, { signal }));
  if (kind === 'subscribe') return drain(db.stream('topic').subscribe({ signal }));
  return db.results.wait(1_000_000 + i, { signal }).then(() => 'ended' as const);
}

/** Let started iterators reach their wait. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Write a different database to a temp path and rename it over `file` (a new inode). */
function replaceFile(file: string): void {
  const other = new Database(`${file}.new`);
  other.exec('CREATE TABLE other(x)');
  other.close();
  renameSync(`${file}.new`, file);
}

test.serial('100 iterators and two HonkerDatabase objects on one file share one watcher, one fs.watch, one connection', async (t) => {
  const file = tempDbPath(t);
  let fsWatchCalls = 0;
  const countingWatch = ((...args: Parameters<typeof watch>) => {
    fsWatchCalls++;
    return watch(...args);
  }) as typeof watch;
  const db = openDb(t, file);
  const fdsBefore = fdsOn(file); // the db's own connection
  // Acquire first with a counting fs.watch: every later user gets this same watcher.
  const probe = Watcher.acquire(file, { fsWatch: countingWatch });
  t.teardown(() => probe.release());
  t.is(Watcher.count(), 1);
  t.is(db.watcher(), probe);

  const controller = new AbortController();
  const running = Array.from({ length: 100 }, (_, i) => waitOn(db, KINDS[i % 4], controller.signal, i));
  await settle();
  t.is(Watcher.count(), 1);
  t.is(probe.stats().waiters, 100);
  t.is(fsWatchCalls, 1);
  t.true(probe.stats().fsWatch);
  t.is(fdsOn(file), fdsBefore + 1, 'one read-only connection for the watcher');
  // One abort listener per signal (the caller's and the database's close signal), not one per waiter.
  t.is(probe.stats().signals, 2);
  t.is(getEventListeners(controller.signal, 'abort').length, 1);
  t.is(getEventListeners(db.closeSignal, 'abort').length, 1);

  // A second HonkerDatabase on the same file (a relative spelling of it) joins the same watcher.
  const db2 = openDb(t, path.relative(process.cwd(), file));
  const running2 = Array.from({ length: 10 }, (_, i) => waitOn(db2, KINDS[i % 4], controller.signal, 100 + i));
  await settle();
  t.is(db2.watcher(), probe);
  t.is(Watcher.count(), 1);
  t.is(probe.stats().users, 3);
  t.is(probe.stats().waiters, 110);
  t.is(fsWatchCalls, 1);
  t.is(fdsOn(file), fdsBefore + 2, "db2's connection only");

  // One commit wakes every waiter once: each looks, finds nothing of its own, and waits again.
  const checks = probe.stats().checks;
  db2.notify('unrelated', 1);
  t.true(await until(() => probe.stats().changes >= 1));
  await sleep(20);
  t.is(probe.stats().waiters, 110);
  t.true(probe.stats().checks - checks < 200, `checks after one commit: ${probe.stats().checks - checks}`);

  controller.abort();
  // Iterators end quietly; results.wait rejects with the signal's reason.
  const outcomes = await Promise.all([...running, ...running2].map((p) => p.catch((err: Error) => err.name)));
  t.is(outcomes.filter((o) => o === 'ended').length, 75 + 8);
  t.is(outcomes.filter((o) => o === 'AbortError').length, 25 + 2);
  t.is(probe.stats().waiters, 0);
  t.is(probe.stats().signals, 0);
});

test.serial('1,000 aborted waits leave no waiter, listener, timer or handle behind', async (t) => {
  const db = openDb(t);
  const watcher = db.watcher();
  const warnings: Error[] = [];
  const onWarning = (w: Error): number => warnings.push(w);
  process.on('warning', onWarning);
  t.teardown(() => void process.off('warning', onWarning));
  const closeListeners = getEventListeners(db.closeSignal, 'abort').length;
  const resources = process.getActiveResourcesInfo().sort();

  // One signal each, aborted while waiting.
  for (let i = 0; i < 1000; i++) {
    const controller = new AbortController();
    const kind = KINDS[i % 4];
    const done = waitOn(db, kind, controller.signal, i).catch((err: Error) => err.name);
    await settle();
    if (i < 4) t.is(watcher.stats().waiters, 1, kind);
    controller.abort();
    // Iterators end quietly; results.wait rejects with the signal's reason.
    t.is(await done, kind === 'results.wait' ? 'AbortError' : 'ended', kind);
  }
  // 1,000 waits sharing one signal.
  const shared = new AbortController();
  const all = Array.from({ length: 1000 }, (_, i) => waitOn(db, KINDS[i % 4], shared.signal, i).catch(() => 'rejected'));
  await settle();
  t.is(watcher.stats().waiters, 1000);
  t.is(getEventListeners(shared.signal, 'abort').length, 1);
  t.is(getEventListeners(db.closeSignal, 'abort').length, closeListeners + 1);
  shared.abort();
  const outcomes = await Promise.all(all);
  t.is(outcomes.filter((o) => o === 'ended').length, 750);

  await settle();
  t.is(watcher.stats().waiters, 0);
  t.is(watcher.stats().signals, 0);
  t.is(getEventListeners(shared.signal, 'abort').length, 0);
  t.is(getEventListeners(db.closeSignal, 'abort').length, closeListeners);
  // A claim iterator registers its worker id when it starts and unregisters when it stops
  // (lifeline.ts): two commits each, whose wake-up bursts (watcher.ts, 16 ms at most) must end first.
  await sleep(100);
  await settle();
  t.deepEqual(process.getActiveResourcesInfo().sort(), resources);
  t.deepEqual(warnings.map((w) => w.message), [], 'no MaxListenersExceededWarning');
});

test.serial('a deadline wait that resolves or aborts clears its timer', async (t) => {
  const db = openDb(t);
  const watcher = db.watcher();
  await settle();
  const resources = process.getActiveResourcesInfo().sort();
  const controller = new AbortController();
  const p = watcher.wait(watcher.generation(), { signals: [controller.signal], deadlineMs: Date.now() + 60_000 });
  t.true(process.getActiveResourcesInfo().includes('Timeout'));
  controller.abort();
  t.is(await p.catch((err: Error) => err.name), 'AbortError');
  await settle();
  t.deepEqual(process.getActiveResourcesInfo().sort(), resources);
  t.is(await watcher.wait(watcher.generation(), { deadlineMs: Date.now() + 30 }), 'deadline');
  await settle();
  t.deepEqual(process.getActiveResourcesInfo().sort(), resources);
});

for (const how of ['replaced', 'deleted'] as const) {
  test.serial(`a ${how} database file rejects every waiting iterator with WATCHER_DEAD within 1 s`, async (t) => {
    const file = tempDbPath(t);
    const db = openDb(t, file);
    const running = KINDS.map((kind, i) => waitOn(db, kind, undefined, i));
    await settle();
    t.is(db.watcher().stats().waiters, 4);
    const t0 = performance.now();
    if (how === 'replaced') replaceFile(file);
    else unlinkSync(file);
    const outcomes = await Promise.all(
      running.map((p) =>
        orAfter(
          p.then(
            () => 'resolved',
            (err: HonkerError) => ({ code: err.code, message: err.message, ms: performance.now() - t0 }),
          ),
          1000,
          'still waiting after 1 s',
        ),
      ),
    );
    const message = `honker: the database file ${file} was ${how} while open; reopen it`;
    for (const [i, outcome] of outcomes.entries()) {
      t.like(outcome, { code: 'WATCHER_DEAD', message }, KINDS[i]);
    }
    t.log(`${how}: rejected after ${Math.max(...outcomes.map((o) => (o as { ms: number }).ms)).toFixed(1)} ms`);
    // Later waits fail the same way, at once.
    await t.throwsAsync(waitOn(db, 'listen'), { message });
    t.throws(() => db.watcher().generation(), { message });
    // A new open() of the path gets a new, live watcher.
    if (how === 'replaced') {
      const fresh = openDb(t, file);
      t.not(fresh.watcher(), db.watcher());
      t.is(fresh.watcher().stats().waiters, 0);
    }
  });
}

for (const blind of [false, true]) {
  test.serial(`the poll alone detects a replaced file (${blind ? 'inotify trusted but blind: safety poll' : 'no inotify'})`, async (t) => {
    const file = tempDbPath(t);
    const db = openDb(t, file);
    const elsewhere = tempDbPath(t, 'x').replace(/x$/, '');
    const fsWatch = blind
      ? (((_p: unknown, opts: { persistent: boolean }, listener: () => void) => watch(elsewhere, opts, listener)) as unknown as typeof watch)
      : ((() => {
          throw new Error('inotify unavailable');
        }) as unknown as typeof watch);
    const w = Watcher.acquire(file, { fsWatch }); // default interval: 50 ms, or 500 ms while trusted
    t.teardown(() => w.release());
    t.is(w.stats().pollMs, blind ? 500 : 50);
    const p = waitOn(db, 'listen').catch((err: HonkerError) => err.code);
    await settle();
    const t0 = performance.now();
    replaceFile(file);
    t.is(await orAfter(p, 1000, 'still waiting after 1 s'), 'WATCHER_DEAD');
    t.log(`rejected after ${(performance.now() - t0).toFixed(0)} ms`);
  });
}

test.serial('closing the database rejects every waiting iterator with CLOSED naming the file', async (t) => {
  const file = tempDbPath(t);
  const db = open(file);
  const other = openDb(t, file); // keeps the shared watcher alive: the reason comes from db itself
  const running = KINDS.map((kind, i) => waitOn(db, kind, undefined, i));
  const survivor = waitOn(other, 'listen', undefined);
  await settle();
  t.is(db.watcher().stats().waiters, 5);
  const t0 = performance.now();
  db.close();
  for (const [i, p] of running.entries()) {
    const err = await t.throwsAsync(p, { instanceOf: HonkerError }, KINDS[i]);
    t.is(err?.code, 'CLOSED');
    t.is(err?.message, `honker: the database ${file} was closed`);
  }
  t.true(performance.now() - t0 < 1000);
  t.is(other.watcher().stats().waiters, 1, "the other database's iterator still waits");
  other.close();
  await t.throwsAsync(survivor, { message: `honker: the database ${file} was closed` });
  t.is(Watcher.count(), 0, 'the last close releases the watcher');
});

test.serial('the last release kills the watcher: a wait on it rejects with CLOSED', async (t) => {
  const file = tempDbPath(t);
  const db = openDb(t, file);
  const w = Watcher.acquire(file);
  t.is(w, db.watcher());
  const p = w.wait(w.generation());
  db.close();
  t.is(w.stats().users, 1);
  t.is(w.stats().waiters, 1, 'a direct waiter (no close signal) still waits');
  w.release();
  await t.throwsAsync(p, { instanceOf: HonkerError, message: `honker: the database ${file} was closed` });
  t.is(Watcher.count(), 0);
});

/** fs.watch variants of a host without inotify, or a network filesystem where it sees nothing. */
const noInotify: Array<[string, (dir: string) => typeof watch, boolean]> = [
  [
    'fs.watch throws',
    () =>
      (() => {
        throw Object.assign(new Error('ENOSYS: function not implemented, watch'), { code: 'ENOSYS' });
      }) as unknown as typeof watch,
    false,
  ],
  [
    'fs.watch fails later with an error event',
    (dir) =>
      ((_p: unknown, opts: { persistent: boolean }, listener: () => void) => {
        const w = watch(dir, opts, listener);
        setImmediate(() => w.emit('error', new Error('EMFILE: too many open files, watch')));
        return w;
      }) as unknown as typeof watch,
    false,
  ],
  [
    // Trusted at first (slow safety poll); the first commit the poll finds unannounced demotes it.
    'fs.watch sees nothing, as on a network filesystem',
    (dir) =>
      ((_p: unknown, opts: { persistent: boolean }, listener: () => void) => watch(dir, opts, listener)) as unknown as typeof watch,
    true,
  ],
];

for (const [name, make, trustedAtFirst] of noInotify) {
  test.serial(`without inotify (${name}) the poll still wakes waiters`, async (t) => {
    const file = tempDbPath(t);
    const db = openDb(t, file);
    const elsewhere = tempDbPath(t, 'x').replace(/x$/, '');
    const intervalMs = 50;
    const w = Watcher.acquire(file, { fsWatch: make(elsewhere), intervalMs });
    t.teardown(() => w.release());
    t.is(db.watcher(), w);
    await settle();
    t.like(w.stats(), { fsWatch: trustedAtFirst, pollMs: trustedAtFirst ? intervalMs * 10 : intervalMs });
    const writer = openDb(t, file);
    const it = db.listen<number>('ch');
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const next = it.next();
      await sleep(5 + i * 13);
      const pollMs = w.stats().pollMs;
      const t0 = performance.now();
      writer.notify('ch', i);
      const got = await orAfter(next, pollMs + 1000, undefined);
      latencies.push(performance.now() - t0);
      t.like(got, { done: false, value: { payload: i } }, `commit ${i}, poll every ${pollMs} ms`);
    }
    await it.return?.(undefined);
    t.like(w.stats(), { fsWatch: false, pollMs: intervalMs });
    t.log(`${name}: wake after ${latencies.map((l) => l.toFixed(1)).join(', ')} ms`);
  });
}

test.serial('a rollback-journal database (no WAL events) is found by the poll, which then polls fast', async (t) => {
  const file = tempDbPath(t);
  const raw = new Database(file);
  raw.pragma('journal_mode = DELETE');
  const db = attach(raw, { watcherIntervalMs: 20 });
  t.teardown(() => {
    db.close();
    if (raw.open) raw.close();
  });
  const writer = new Database(file);
  t.teardown(() => writer.close());
  writer.pragma('busy_timeout = 5000');
  writer.loadExtension(extPath);
  const it = db.listen<number>('ch');
  t.like(db.watcher().stats(), { fsWatch: true, pollMs: 200 });
  const latencies: number[] = [];
  for (let i = 0; i < 3; i++) {
    const next = it.next();
    await sleep(5);
    const t0 = performance.now();
    writer.prepare('SELECT notify(?, ?)').get('ch', String(i));
    const got = await orAfter(next, 3000, undefined);
    latencies.push(performance.now() - t0);
    t.like(got, { value: { payload: i } });
  }
  await it.return?.(undefined);
  t.like(db.watcher().stats(), { fsWatch: false, pollMs: 20 });
  t.log(`rollback journal: wake after ${latencies.map((l) => l.toFixed(1)).join(', ')} ms`);
});

test.serial('with inotify a commit wakes a waiter long before the fallback poll', async (t) => {
  const file = tempDbPath(t);
  const db = openDb(t, file, { watcherIntervalMs: 60_000 });
  const writer = openDb(t, file);
  t.true(db.watcher().stats().fsWatch);
  const it = db.listen<number>('ch');
  const latencies: number[] = [];
  for (let i = 0; i < 20; i++) {
    const next = it.next();
    await sleep(3);
    const t0 = performance.now();
    writer.notify('ch', i);
    const got = await orAfter(next, 5000, undefined);
    latencies.push(performance.now() - t0);
    t.like(got, { value: { payload: i } });
  }
  await it.return?.(undefined);
  latencies.sort((a, b) => a - b);
  t.log(`in-process wake via inotify: p50 ${latencies[10].toFixed(2)} ms, max ${latencies[19].toFixed(2)} ms`);
  t.true(latencies[10] < 1000, 'the 60 s poll did not do it');
});
