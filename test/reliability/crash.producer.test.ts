/**
 * Crashes: a producer SIGKILLed inside an open transaction that enqueued, notified and
 * published (issue 6).
 *
 * The producer (test/fixtures/reliability-crash-producer.ts) does queue.enqueue + db.notify +
 * stream.publish in one transaction, prints "ready" and stays inside it; while it is open a
 * second connection cannot take the write lock (checked). An observer process
 * (reliability-crash-observer.ts) is parked in claim, listen and subscribe the whole time.
 * After the SIGKILL:
 *   - a fresh connection takes the write lock (BEGIN IMMEDIATE) within 2 s (issue's bound);
 *   - PRAGMA integrity_check is ok; no job, notification or stream event of the producer exists;
 *   - a sentinel job, notification and event committed afterwards reach the observer, and they
 *     are the only things it ever saw (so it was never woken with the producer's work).
 * Modes: db.transaction (BEGIN IMMEDIATE, blocked inside fn), raw deferred BEGIN with the event
 * loop idle, and a transaction big enough (300 x 64 KB x 3) to spill uncommitted pages into the
 * WAL before the kill. Same parameters short and long (each run takes about a second).
 */
import test from '../helpers/test.js';
import Database from 'better-sqlite3';
import { fixtureChild } from '../helpers/child.js';
import { openClient } from '../helpers/client.js';
import { extPath, tempDbPath } from '../helpers/db.js';
import { report, walSize } from './crash-helpers.js';

const LOCK_BOUND_MS = 2000;

for (const mode of ['tx', 'raw', 'spill'] as const) {
  test(`producer killed inside an open transaction (${mode}): nothing visible, integrity ok, lock free`, async (t) => {
    const file = tempDbPath(t);
    const db = openClient(t, file); // creates and bootstraps the file
    const observer = fixtureChild(t, 'reliability-crash-observer', [file]);
    await observer.waitFor((l) => l.kind === 'ready');

    const producer = fixtureChild(t, 'reliability-crash-producer', [file, mode]);
    const ready = await producer.waitFor((l) => l.kind === 'ready', 60_000);
    t.true(ready.inTransaction, 'the producer is inside its transaction');

    // The open transaction holds the write lock: a writer with no busy timeout is refused.
    const probe = new Database(file);
    probe.pragma('busy_timeout = 0');
    let refused = '';
    try {
      probe.exec('BEGIN IMMEDIATE');
      probe.exec('ROLLBACK');
    } catch (err) {
      refused = (err as { code?: string }).code ?? String(err);
    }
    probe.close();
    t.is(refused, 'SQLITE_BUSY', 'the producer held the write lock before the kill');
    const walBeforeKill = walSize(file);
    if (mode === 'spill') t.true(walBeforeKill > 8 * 1024 * 1024, `uncommitted pages spilled to the WAL (${walBeforeKill} bytes)`);

    const killedAt = performance.now();
    await producer.kill();
    const exitedAt = performance.now();

    // A new writer: fresh connection, BEGIN IMMEDIATE (it also recovers the WAL index if needed).
    const fresh = new Database(file);
    fresh.pragma('busy_timeout = 10000');
    const t0 = performance.now();
    fresh.exec('BEGIN IMMEDIATE');
    const lockMs = performance.now() - t0;
    fresh.exec('ROLLBACK');
    const lockSinceKillMs = performance.now() - killedAt;
    t.true(lockMs < LOCK_BOUND_MS, `BEGIN IMMEDIATE took ${lockMs} ms`);
    t.true(lockSinceKillMs < LOCK_BOUND_MS, `lock taken ${lockSinceKillMs} ms after the SIGKILL`);
    t.is(fresh.pragma('integrity_check', { simple: true }), 'ok');
    fresh.loadExtension(extPath);
    const counts = fresh
      .prepare(
        `SELECT (SELECT count(*) FROM _honker_live) AS live, (SELECT count(*) FROM _honker_dead) AS dead,
                (SELECT count(*) FROM _honker_notifications) AS notifications, (SELECT count(*) FROM _honker_stream) AS events`,
      )
      .get();
    t.deepEqual(counts, { live: 0, dead: 0, notifications: 0, events: 0 });
    fresh.close();

    // Sentinels through the client; the observer must see them and nothing else.
    db.transaction(() => {
      db.queue('crash').enqueue({ sentinel: true });
      db.notify('crash', { sentinel: true });
      db.stream('crash').publish({ sentinel: true });
    });
    for (const kind of ['job', 'notification', 'event']) await observer.waitFor((l) => l.kind === kind, 30_000);
    t.is(await observer.stop(), 0);
    t.deepEqual(
      observer.lines.filter((l) => l.kind !== 'ready').sort((a, b) => String(a.kind).localeCompare(String(b.kind))),
      [
        { kind: 'event', payload: { sentinel: true } },
        { kind: 'job', payload: { sentinel: true } },
        { kind: 'notification', payload: { sentinel: true } },
      ],
    );
    t.is(observer.stderr, '');
    t.is(db.raw.pragma('integrity_check', { simple: true }), 'ok');
    report(t, `producer-killed-in-transaction-${mode}`, {
      mode,
      kills: 1,
      walBeforeKillBytes: walBeforeKill,
      exitAfterKillMs: Math.round(exitedAt - killedAt),
      beginImmediateMs: Number(lockMs.toFixed(2)),
      lockSinceKillMs: Number(lockSinceKillMs.toFixed(1)),
      ghostsVisible: 0,
      errors: 0,
    });
  });
}
