/**
 * Found by the leaks churn (leaks.churn.test.ts): on a loaded machine the
 * long-lived database's watcher sometimes closed its fs.watch (one FSEVENTWRAP
 * fewer) and polled every watcherIntervalMs from then on, for the life of the
 * process. Traced (by instrumenting the watcher in the fixture): a WAL event
 * arrived, check() did not see the commit yet (its writer had written frames
 * but not yet updated the wal-index), the 16 ms re-check burst ended, the
 * safety poll ran and cleared walEventSincePoll, the commit became visible,
 * and the next poll found it "unannounced" — which onPoll() takes for a
 * filesystem whose writes inotify does not see, so it distrusted fs.watch.
 *
 * This test reproduces that order of events deterministically with a
 * stand-in fs.watch whose listener the test calls itself: the WAL event,
 * a poll, then the commit. The commit was announced (before it became
 * visible), so fs.watch must stay trusted. The fix: the watcher keeps its
 * "WAL event not yet accounted for" flag until a check observes a change,
 * instead of clearing it at every poll.
 */
import test from './helpers/test.js';
import { watch } from 'node:fs';
import path from 'node:path';
import { open } from '../src/index.js';
import { Watcher } from '../src/watcher.js';
import { tempDir } from './helpers/db.js';

/** Resolves when pred() holds, checking every 5 ms; rejects after timeoutMs. */
async function until(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('a commit visible only after a safety poll that followed its WAL event does not demote fs.watch', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'test.db');
  const writer = open(file);
  t.teardown(() => writer.close());
  const quiet = tempDir(t); // the stand-in watches an empty directory: only the test's calls reach the watcher
  let emit: ((event: string, name: string) => void) | undefined;
  const standIn = ((_dir: string, opts: { persistent: boolean }, listener: (event: string, name: string) => void) => {
    emit = listener;
    return watch(quiet, opts, () => undefined);
  }) as unknown as typeof watch;
  const intervalMs = 10; // trusted: the safety poll every 100 ms
  const w = Watcher.acquire(file, { fsWatch: standIn, intervalMs });
  t.teardown(() => w.release());
  t.like(w.stats(), { fsWatch: true, pollMs: 100 });
  const waiting = w.wait(w.generation());

  // 1. The commit's first WAL frame is written: inotify reports it, nothing is visible yet.
  emit!('change', 'test.db-wal');
  // 2. The re-check burst (16 ms of timers) ends, then a safety poll runs, still before the commit
  //    is visible (after the burst, only the poll calls check(): no event, no new wait).
  await until(() => (w as unknown as { burstStep: number }).burstStep === -1, 'the end of the re-check burst');
  const checks = w.stats().checks;
  await until(() => w.stats().checks > checks, 'a safety poll');
  t.is(w.stats().changes, 0);
  // 3. The commit becomes visible (its WAL event was step 1: the stand-in reports nothing more).
  writer.notify('ch', 'late');
  t.is(await waiting, 'change', 'the poll finds the commit and wakes the waiter');
  t.like(w.stats(), { fsWatch: true, pollMs: 100 }, 'fs.watch announced this commit: it stays trusted');
});

test('one commit that no WAL event announced keeps fs.watch; three polls in a row of them drop it for the fast poll', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'test.db');
  const writer = open(file);
  t.teardown(() => writer.close());
  const quiet = tempDir(t); // the stand-in never reports anything: every commit is unannounced
  let emit: ((event: string, name: string) => void) | undefined;
  const standIn = ((_dir: string, opts: { persistent: boolean }, listener: (event: string, name: string) => void) => {
    emit = listener;
    return watch(quiet, opts, () => undefined);
  }) as unknown as typeof watch;
  const w = Watcher.acquire(file, { fsWatch: standIn, intervalMs: 10 });
  t.teardown(() => w.release());
  const pollFinds = async (what: string): Promise<void> => {
    const changes = w.stats().changes;
    writer.notify('ch', what);
    await until(() => w.stats().changes > changes, `a poll finding ${what}`);
  };
  await pollFinds('first');
  t.like(w.stats(), { fsWatch: true, pollMs: 100 }, 'one unannounced commit (inotify folded it) is not enough');
  // A WAL event starts the count again (and announces the next commit, however late).
  emit!('change', 'test.db-wal');
  await pollFinds('second');
  await pollFinds('third');
  await pollFinds('fourth');
  t.like(w.stats(), { fsWatch: true, pollMs: 100 }, 'two unannounced in a row since the last WAL event');
  await pollFinds('fifth');
  t.like(w.stats(), { fsWatch: false, pollMs: 10 }, 'the third in a row: this file is written where inotify cannot see');
});
