/**
 * wake.wakeLoop: the one loop every waiter runs on (claim, worker, listen,
 * subscribe, results.wait, task get, scheduler run), and ClaimClock, the
 * claim-deadline rule the claim iterator and the worker share.
 */
import test from './helpers/test.js';
import Database from 'better-sqlite3';
import { HonkerError } from '../src/index.js';
import { ClaimClock } from '../src/queue.js';
import { atWallClock, wakeLoop, type LookReason } from '../src/wake.js';
import { openClient, sleep } from './helpers/client.js';

/** A second connection on db's file that commits one row into a table of its own. */
function committer(file: string): { commit: () => void; close: () => void } {
  const other = new Database(file);
  other.exec('CREATE TABLE IF NOT EXISTS wake_probe(x)');
  const insert = other.prepare('INSERT INTO wake_probe VALUES (1)');
  return { commit: () => insert.run(), close: () => other.close() };
}

test('wakeLoop: the first look runs synchronously, again() looks at once, a commit wakes the default sleep', async (t) => {
  const db = openClient(t);
  const other = committer(db.file);
  t.teardown(() => other.close());
  const reasons: LookReason[] = [];
  const ac = new AbortController();
  let looks = 0;
  const done = (async () => {
    for (const wake = wakeLoop(db, { signal: ac.signal }); wake.look(); await wake.sleep()) {
      reasons.push(wake.reason);
      looks++;
      if (looks === 1) wake.again();
      if (looks === 3) ac.abort();
    }
  })();
  t.is(looks, 1, 'the first look ran before the async function returned');
  await sleep(50);
  t.deepEqual(reasons, ['start', 'again'], 'after again() it looked once more, then slept');
  other.commit();
  await done;
  t.deepEqual(reasons, ['start', 'again', 'change']);
});

test('wakeLoop: a commit made while the body looks ends the next sleep at once (generation read before the look)', async (t) => {
  const db = openClient(t);
  const other = committer(db.file);
  t.teardown(() => other.close());
  const reasons: LookReason[] = [];
  const started = performance.now();
  for (const wake = wakeLoop(db); wake.look(); await wake.sleep()) {
    reasons.push(wake.reason);
    if (reasons.length === 1) other.commit(); // lands after the generation was read
    else break;
  }
  t.deepEqual(reasons, ['start', 'change']);
  t.true(performance.now() - started < 1000);
});

test('wakeLoop: until(ms) wakes at that time; deadlineMs ends the loop after one last look', async (t) => {
  const db = openClient(t);
  const reasons: LookReason[] = [];
  const started = Date.now();
  // Wide margins: a loaded machine may start the first look late; until() is asked 100 ms after it.
  for (const wake = wakeLoop(db, { deadlineMs: started + 2000 }); wake.look(); await wake.sleep()) {
    reasons.push(wake.reason);
    if (reasons.length === 1) wake.until(Date.now() + 100);
  }
  const took = Date.now() - started;
  t.deepEqual(reasons, ['start', 'deadline', 'last']);
  t.true(took >= 1990 && took < 20_000, `took ${took} ms`);
});

test('wakeLoop: the caller’s abort ends a sleeping loop quietly; db.close() makes it throw CLOSED', async (t) => {
  const db = openClient(t);
  const ac = new AbortController();
  let looks = 0;
  const quiet = (async () => {
    for (const wake = wakeLoop(db, { signal: ac.signal }); wake.look(); await wake.sleep()) looks++;
    return 'ended';
  })();
  await sleep(30);
  ac.abort();
  t.is(await quiet, 'ended');
  t.is(looks, 1);

  const closing = (async () => {
    for (const wake = wakeLoop(db); wake.look(); await wake.sleep()) looks++;
  })();
  await sleep(30);
  db.close();
  const err = await t.throwsAsync(closing);
  t.true(err instanceof HonkerError);
  t.is((err as HonkerError).code, 'CLOSED');
});

test('wakeLoop: stopped() tells a body that hands work out whether to stop (true on abort, throws once closed)', (t) => {
  const db = openClient(t);
  const ac = new AbortController();
  const wake = wakeLoop(db, { signal: ac.signal });
  t.true(wake.look());
  t.false(wake.stopped());
  ac.abort();
  t.true(wake.stopped());
  t.false(wake.look(), 'no more looks after the abort');
  db.close();
  t.throws(() => wake.stopped(), { instanceOf: HonkerError, message: /was closed/ });
});

test('ClaimClock: nothing scheduled -> next commit; a deadline ahead -> then; a due deadline -> once at once, then the next second', (t) => {
  const db = openClient(t);
  const clock = new ClaimClock();
  const wake = wakeLoop(db);
  const nowS = Math.floor(Date.now() / 1000);
  const next = (n: number): 'now' | number | undefined => {
    t.true(wake.look());
    clock.look(wake);
    clock.schedule(wake, n);
    return wake.nextLook;
  };
  t.is(next(0), undefined);
  t.is(next(nowS + 5), (nowS + 5) * 1000);
  t.is(next(nowS - 1), 'now', 'a missed deadline: look again at once');
  const second = next(nowS - 1);
  t.true(typeof second === 'number' && second > Date.now() && second <= Date.now() + 1000, 'then at the next second');
  clock.found();
  t.is(next(nowS - 1), 'now', 'a claim that found jobs starts the rule over');
});

test.serial('atWallClock: fires once Date.now() reaches the deadline, even when its timer runs early by that clock', async (t) => {
  const realNow = Date.now;
  let lag = 0;
  Date.now = () => realNow() - lag;
  t.teardown(() => (Date.now = realNow));
  const deadline = Date.now() + 30;
  const fired = new Promise<number>((resolve) => atWallClock(deadline, () => resolve(Date.now())));
  lag = 15; // the wall clock steps back 15 ms after the timer was armed: it runs early by Date.now()
  const firedAt = await fired;
  t.true(firedAt >= deadline, `fired ${deadline - firedAt} ms before its deadline`);
  // Cancelled: never fires.
  let ran = false;
  const cancel = atWallClock(Date.now() + 5, () => (ran = true));
  cancel();
  await new Promise((r) => setTimeout(r, 40));
  t.false(ran);
});
