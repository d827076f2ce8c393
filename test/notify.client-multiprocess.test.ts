/**
 * The client's notify/listen across processes: a listener in a child process
 * (test/fixtures/client-listen-child.ts) woken by notifications sent here, and
 * the reverse. Each notification arrives exactly once, in order; rolled-back
 * ones never arrive. Latencies (commit -> listener) are logged.
 */
import test from './helpers/test.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Notification } from '../src/index.js';
import { tempDbPath } from './helpers/db.js';
import { nowMs, openClient, orAfter } from './helpers/client.js';
import { fixtureChild } from './helpers/child.js';
import { summary } from './helpers/stream-client.js';

type Line = { ready?: boolean; id?: number; i?: number; at?: number; done?: boolean };

test('a listener in a child process gets 200 quickly sent notifications exactly once, in order, none rolled back', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  db.notify('jobs', { i: -1 }); // before the child listens: never delivered
  const child = fixtureChild(t, 'client-listen-child', ['listen', file, 'jobs', '200']);
  t.deepEqual(await child.next<Line>(), { ready: true });
  const sent: number[] = [];
  for (let i = 0; i < 200; i++) {
    if (i % 10 === 5) {
      t.throws(() =>
        db.transaction(() => {
          db.notify('jobs', { i: -2 });
          throw new Error('rollback');
        }),
      );
    }
    if (i % 20 === 7) db.notify('other-channel', { i: -3 });
    sent.push(db.notify('jobs', { i }));
  }
  const got = (await child.readUntil<Line>((l) => l.i === 199 || (l.i ?? 0) < 0)).filter((l) => l.id !== undefined);
  await child.finish();
  t.deepEqual(
    got.map((l) => l.i),
    Array.from({ length: 200 }, (_, i) => i),
  );
  t.deepEqual(
    got.map((l) => l.id),
    sent,
  );
});

test('a listener here gets 200 notifications sent quickly by a child process exactly once, in order', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const ac = new AbortController();
  const it = db.listen<{ i: number }>('jobs', { signal: ac.signal });
  const child = fixtureChild(t, 'client-listen-child', ['notify', file, 'jobs', '200', '0']);
  const got: Notification<{ i: number }>[] = [];
  for await (const n of it) {
    got.push(n);
    if (got.length === 200) break;
  }
  const lines = (await child.finish()) as Line[];
  const sent = lines.filter((l) => l.id !== undefined).map((l) => l.id);
  t.deepEqual(
    got.map((n) => n.payload.i),
    Array.from({ length: 200 }, (_, i) => i),
  );
  t.deepEqual(
    got.map((n) => n.id),
    sent,
  );
  // Nothing more: exactly once.
  const more = db.listen('jobs', { afterId: got[199].id, signal: ac.signal });
  const r = await orAfter(more.next(), 200, 'pending' as const);
  t.is(r, 'pending');
  ac.abort();
});

test('latency: commit here -> listener in a child, and commit in a child -> listener here', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const N = 60;

  // Here -> child.
  const child = fixtureChild(t, 'client-listen-child', ['listen', file, 'ping', String(N)]);
  await child.next<Line>();
  const committedAt: number[] = [];
  const toChild: number[] = [];
  for (let i = 0; i < N; i++) {
    db.notify('ping', { i });
    committedAt.push(nowMs());
    const line = await child.next<Line>(10_000);
    t.is(line.i, i);
    toChild.push((line.at ?? 0) - committedAt[i]);
    await sleep(5);
  }
  await child.finish();

  // Child -> here.
  const ac = new AbortController();
  const it = db.listen<{ i: number }>('pong', { signal: ac.signal });
  const sender = fixtureChild(t, 'client-listen-child', ['notify', file, 'pong', String(N), '15']);
  const receivedAt: number[] = [];
  for await (const n of it) {
    t.is(n.payload.i, receivedAt.length);
    receivedAt.push(nowMs());
    if (receivedAt.length === N) break;
  }
  const lines = ((await sender.finish()) as Line[]).filter((l) => l.i !== undefined);
  const fromChild = lines.map((l, i) => receivedAt[i] - (l.at ?? 0));

  t.log(`commit here -> listener in child: ${summary(toChild)}`);
  t.log(`commit in child -> listener here: ${summary(fromChild)}`);
  // Correctness above; timings only loosely (shared, noisy machine; measured p99 is a few ms).
  t.true(Math.max(...toChild) < 2000);
  t.true(Math.max(...fromChild) < 2000);
});
