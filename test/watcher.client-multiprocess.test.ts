/**
 * The client's wake path across processes (src/watcher.ts): a commit here
 * wakes an iterator in a child; the watcher never keeps a process alive by
 * itself, a waiting iterator does; 100 idle iterators cost next to nothing.
 * Children: test/fixtures/client-watcher-child.ts. Tight figures are the
 * benches' job (bench/wake-latency.ts, bench/idle-cost.ts): bounds here are
 * loose (>= 10x the measured values) because the 2 cores are shared.
 */
import test, { type ExecutionContext } from './helpers/test.js';
import { open, type HonkerDatabase } from '../src/index.js';
import { tempDbPath } from './helpers/db.js';
import type { LineChild } from './helpers/child.js';
import { quit } from './helpers/watcher.js';
import { ask, clock, cpuPercent, sleep, startClientChild } from './helpers/watcher-client.js';
import { orAfter } from './helpers/client.js';

function openDb(t: ExecutionContext): HonkerDatabase {
  const db = open(tempDbPath(t));
  t.teardown(() => db.close());
  return db;
}

/** Resolves with the exit code and how long after `since` (performance.now()) it came. */
function exited(child: LineChild, since: () => number): Promise<{ code: number | null; afterMs: number }> {
  return new Promise((resolve) => {
    if (child.proc.exitCode !== null) resolve({ code: child.proc.exitCode, afterMs: performance.now() - since() });
    child.proc.on('exit', (code) => resolve({ code, afterMs: performance.now() - since() }));
  });
}

test('a waiting iterator keeps its process alive; a notify from another process wakes it and it exits', async (t) => {
  const db = openDb(t);
  const child = startClientChild(t, 'wait-notify', db.file);
  t.deepEqual(JSON.parse(await child.next(30_000)), { ready: true });
  let notifiedAt = 0;
  const exit = exited(child, () => notifiedAt);
  await sleep(1000);
  t.is(child.proc.exitCode, null, 'still alive after 1 s with nothing but a waiting iterator');
  notifiedAt = performance.now();
  db.notify('go', { t: clock() });
  const reply = JSON.parse(await child.next(10_000)) as { got: { t: number }; latencyMs: number };
  const { code, afterMs } = await exit;
  t.is(code, 0, child.stderr);
  t.log(`woke ${reply.latencyMs.toFixed(2)} ms after the commit started; exited ${afterMs.toFixed(0)} ms after it`);
  t.true(reply.latencyMs < 1000);
  t.true(afterMs < 5000);
});

test('a process that aborts its waits and never closes the database exits on its own', async (t) => {
  const db = openDb(t);
  const child = startClientChild(t, 'abort-no-close', db.file);
  let doneAt = 0;
  const exit = exited(child, () => doneAt);
  const line = JSON.parse(await child.next(30_000)) as { done: boolean; waiters: number };
  doneAt = performance.now();
  t.deepEqual(line, { done: true, waiters: 0 });
  const { code, afterMs } = await orAfter(exit, 2000, { code: -1, afterMs: 2000 });
  t.is(code, 0, `exit within 2 s of its last output; stderr: ${child.stderr}`);
  t.log(`exited ${afterMs.toFixed(0)} ms after its last output`);
});

test('100 idle iterators: one watcher, little CPU; a commit wakes them all', async (t) => {
  const db = openDb(t);
  const child = startClientChild(t, 'serve', db.file);
  t.teardown(() => quit(child));
  t.deepEqual(await ask(child, 'start 100', 30_000), { waiters: 100 });
  const stats = await ask(child, 'stats');
  t.like(stats, { waiters: 100, users: 1, signals: 2, fsWatch: true, pollMs: 500 });
  await sleep(200); // let the start-up settle
  const pct = await cpuPercent(child.proc.pid as number, 3000);
  t.log(`idle CPU with 100 waiting iterators: ${pct.toFixed(2)}% of one core over 3 s`);
  t.true(pct < 5, `${pct.toFixed(2)}% of a core`);
  // A commit here is seen there: every waiter wakes, looks, and waits again.
  db.notify('unrelated', 1);
  await sleep(300);
  const after = await ask(child, 'stats');
  t.true(after.changes >= 1);
  t.is(after.waiters, 100);
  t.like(await ask(child, 'abort'), { waiters: 0, ended: 75 });
  t.is(await quit(child), 0, child.stderr);
});
