/**
 * Crashes: a listener process SIGKILLed while parked in db.listen, and a process SIGKILLed while
 * holding a read transaction (issue 6).
 *
 * Listener processes (test/fixtures/reliability-crash-listener.ts) wait in db.listen('crash').
 * After one is SIGKILLed the others still receive every notification, in order, and the WAL
 * still checkpoints: PRAGMA wal_checkpoint(TRUNCATE) from a fresh connection returns busy = 0
 * and the -wal file is truncated to 0 bytes; the survivors keep receiving after that reset.
 * A process holding an open read transaction does block a TRUNCATE checkpoint (busy = 1,
 * checked, so the measure can fail); once it is SIGKILLed the checkpoint completes and the WAL
 * is empty. Same parameters short and long (a few seconds each).
 */
import test from '../helpers/test.js';
import Database from 'better-sqlite3';
import { fixtureChild, type Line, type LineChild } from '../helpers/child.js';
import { openClient } from '../helpers/client.js';
import { tempDbPath } from '../helpers/db.js';
import type { HonkerDatabase } from '../../src/index.js';
import { report, sleep, walSize } from './crash-helpers.js';

const FILLER_COMMITS = 40; // x 64 KB: the WAL grows to a few MB before the checkpoint

type Checkpoint = { busy: number; log: number; checkpointed: number };

/**
 * PRAGMA wal_checkpoint(TRUNCATE) from a fresh connection with the given busy timeout. log = -1
 * means another connection was running a checkpoint at that moment (the background PASSIVE
 * checkpoint every honker connection runs once the WAL passes 1000 pages): SQLite does not wait
 * for that lock, so try again, for up to 10 s.
 */
async function checkpointTruncate(file: string, busyTimeoutMs: number): Promise<Checkpoint> {
  const c = new Database(file);
  try {
    c.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const end = Date.now() + 10_000;
    for (;;) {
      const r = (c.pragma('wal_checkpoint(TRUNCATE)') as Checkpoint[])[0];
      if (r.log !== -1 || Date.now() > end) return r;
      await sleep(20);
    }
  } finally {
    c.close();
  }
}

/** Grow the WAL: FILLER_COMMITS commits of 64 KB each, with a notification after each. */
function churn(db: HonkerDatabase, from: number): number {
  const insert = db.raw.prepare('INSERT INTO filler (blob) VALUES (randomblob(65536))');
  let i = from;
  for (let k = 0; k < FILLER_COMMITS; k++) {
    insert.run();
    db.notify('crash', { i: i++ });
  }
  return i;
}

async function receivedAll(c: LineChild<Line>, upTo: number): Promise<void> {
  await c.waitFor((l) => l.kind === 'notification' && l.i === upTo - 1, 30_000);
}

function notificationsOf(c: LineChild<Line>): number[] {
  return c.of('notification').map((l) => l.i as number);
}

test('listener SIGKILLed while parked: the others keep receiving, the WAL checkpoints to 0', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  db.raw.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, blob BLOB)');
  const listeners = Array.from({ length: 3 }, () => fixtureChild(t, 'reliability-crash-listener', [file, 'listen']));
  for (const l of listeners) await l.waitFor((x) => x.kind === 'ready');
  db.notify('crash', { i: 0 });
  for (const l of listeners) await receivedAll(l, 1);

  const [victim, ...others] = listeners;
  await victim.kill();

  let next = churn(db, 1);
  for (const l of others) await receivedAll(l, next);
  const walPeak = walSize(file);
  const cp = await checkpointTruncate(file, 10_000);
  const walAfter = walSize(file);
  t.is(cp.busy, 0, `checkpoint result ${JSON.stringify(cp)}`);
  t.is(walAfter, 0, 'the -wal file was truncated');

  next = churn(db, next); // after the WAL reset the survivors still wake
  for (const l of others) await receivedAll(l, next);
  for (const l of others) {
    t.deepEqual(notificationsOf(l), Array.from({ length: next }, (_, i) => i), 'every notification, in order, once');
    t.is(await l.stop(), 0);
    t.deepEqual(l.of('error'), []);
    t.is(l.stderr, '');
  }
  t.deepEqual(notificationsOf(victim), [0]);
  t.is(db.raw.pragma('integrity_check', { simple: true }), 'ok');
  report(t, 'listener-killed-while-parked', {
    listeners: listeners.length,
    kills: 1,
    notifications: next,
    walPeakBytes: walPeak,
    checkpoint: cp,
    walAfterCheckpointBytes: walAfter,
    errors: 0,
  });
});

test('a process SIGKILLed inside a read transaction stops blocking the checkpoint', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  db.raw.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, blob BLOB)');
  const listener = fixtureChild(t, 'reliability-crash-listener', [file, 'listen']);
  await listener.waitFor((x) => x.kind === 'ready');
  let next = churn(db, 0);
  const reader = fixtureChild(t, 'reliability-crash-listener', [file, 'reader']);
  const ready = await reader.waitFor((x) => x.kind === 'ready');
  t.is(ready.rows, FILLER_COMMITS);
  next = churn(db, next); // frames the reader's snapshot does not see

  const blocked = await checkpointTruncate(file, 0);
  t.is(blocked.busy, 1, `a live reader blocks TRUNCATE: ${JSON.stringify(blocked)}`);
  t.true(blocked.log > 0, `the checkpoint ran, up to the reader's snapshot: ${JSON.stringify(blocked)}`);
  const walPeak = walSize(file);
  t.true(walPeak > 0);

  await reader.kill();
  const cp = await checkpointTruncate(file, 10_000);
  const walAfter = walSize(file);
  t.is(cp.busy, 0, `checkpoint result ${JSON.stringify(cp)}`);
  t.is(walAfter, 0, 'the -wal file was truncated');

  next = churn(db, next);
  await receivedAll(listener, next);
  t.deepEqual(notificationsOf(listener), Array.from({ length: next }, (_, i) => i));
  t.is(await listener.stop(), 0);
  t.is(listener.stderr, '');
  t.is(db.raw.pragma('integrity_check', { simple: true }), 'ok');
  report(t, 'reader-killed-in-read-transaction', {
    kills: 1,
    notifications: next,
    walPeakBytes: walPeak,
    checkpointWhileReaderAlive: blocked,
    checkpointAfterKill: cp,
    walAfterCheckpointBytes: walAfter,
    errors: 0,
  });
});
