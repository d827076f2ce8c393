/**
 * results.wait across processes: a child process
 * (test/fixtures/client-results-saver.ts) saves results after a delay; the
 * waiting promise here resolves on its commit (latency logged), or rejects
 * with TIMEOUT when the save comes too late.
 */
import test from './helpers/test.js';
import { open, HonkerError } from '../src/index.js';
import { tempDbPath } from './helpers/db.js';
import { fixtureChild } from './helpers/child.js';
import { nowMs, summary } from './helpers/stream-client.js';

type Line = { ready?: boolean; jobId?: number; savedAt?: number };

test('wait resolves when another process saves the result (each of 20 saves, latency logged)', async (t) => {
  const file = tempDbPath(t);
  const db = open(file);
  t.teardown(() => db.close());
  const value = { sentAt: 1767225600, to: ['alice'], nested: { ok: true } };
  const N = 20;
  const child = fixtureChild(t, 'client-results-saver', [file, '100', '40', JSON.stringify(value), String(N)]);
  const waits = Array.from({ length: N }, (_, i) => {
    const started = nowMs();
    return db.results.wait<typeof value>(100 + i, { timeoutMs: 30_000 }).then((v) => ({ v, at: nowMs(), started }));
  });
  t.deepEqual(await child.next<Line>(), { ready: true });
  const results = await Promise.all(waits);
  const lines = (await child.finish()) as Line[];
  t.is(lines.length, N);
  const lat: number[] = [];
  results.forEach((r, i) => {
    t.deepEqual(r.v, value);
    t.is(lines[i].jobId, 100 + i);
    lat.push(r.at - (lines[i].savedAt ?? 0));
  });
  t.log(`save in child -> wait resolved here: ${summary(lat)}`);
  t.true(Math.max(...lat) < 2000);
});

test('wait with a timeout shorter than the other process\'s delay rejects with TIMEOUT; the result is there afterwards', async (t) => {
  const file = tempDbPath(t);
  const db = open(file);
  t.teardown(() => db.close());
  const child = fixtureChild(t, 'client-results-saver', [file, '5', '800', '"late"']);
  await child.next<Line>();
  const t0 = nowMs();
  const err = await t.throwsAsync(db.results.wait(5, { timeoutMs: 200 }));
  const ms = nowMs() - t0;
  t.log(`wait timeoutMs 200 (other process saves after 800 ms): rejected after ${ms.toFixed(2)} ms`);
  t.is((err as HonkerError).code, 'TIMEOUT');
  t.true(ms >= 195 && ms <= 1200, `${ms}`);
  t.is(db.results.get(5), undefined);
  t.is(await db.results.wait(5, { timeoutMs: 30_000 }), 'late');
  await child.finish();
});
