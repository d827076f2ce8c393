/**
 * queue: real processes racing on one database file (WAL). Children wait on
 * a start barrier (a file the test creates once every child is connected)
 * so they really run at the same time.
 */
import test from './helpers/test.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freshDb, runFixture, scalar, tempDir } from './helpers/db.js';
import { waitForFiles } from './helpers/queue.js';

test('queue.multiprocess claim_batch: 4 processes claim and ack 2,000 jobs, each exactly once', async (t) => {
  const { db, file } = freshDb(t);
  const JOBS = 2000;
  const enqueue = db.prepare("SELECT honker_enqueue('race', ?, NULL, NULL, ?, 3, NULL)");
  db.transaction(() => {
    for (let i = 0; i < JOBS; i++) enqueue.get(`job ${i}`, BigInt(i % 3));
  })();
  const barrier = path.join(tempDir(t), 'go');
  const workers = ['w0', 'w1', 'w2', 'w3'];
  const children = workers.map((w, i) => runFixture('queue-claimer', [file, barrier, w, String(1 + i * 5)], { timeoutMs: 120_000 }));
  await waitForFiles(workers.map((w) => `${barrier}.ready.${w}`));
  writeFileSync(barrier, '');
  const results = await Promise.all(children);
  const all: number[] = [];
  for (const [i, r] of results.entries()) {
    t.is(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { claimed: number[]; acked: number };
    t.is(out.acked, out.claimed.length, `${workers[i]} acked every job it claimed`);
    all.push(...out.claimed);
  }
  t.is(all.length, JOBS, 'no job claimed twice');
  t.is(new Set(all).size, JOBS);
  t.deepEqual([...all].sort((a, b) => a - b), Array.from({ length: JOBS }, (_, i) => i + 1));
  t.true(results.filter((r) => JSON.parse(r.stdout).claimed.length > 0).length >= 2, 'the work was shared');
  t.is(scalar(db, 'SELECT count(*) FROM _honker_live'), 0);
  t.is(scalar(db, 'SELECT count(*) FROM _honker_dead'), 0);
});

test('queue.multiprocess enqueue_unique: 8 processes racing on one key make one row and agree on its id', async (t) => {
  const { db, file } = freshDb(t);
  const barrier = path.join(tempDir(t), 'go');
  const names = Array.from({ length: 8 }, (_, i) => `p${i}`);
  const children = names.map((n) => runFixture('queue-unique', [file, barrier, n], { timeoutMs: 120_000 }));
  await waitForFiles(names.map((n) => `${barrier}.ready.${n}`));
  writeFileSync(barrier, '');
  const results = await Promise.all(children);
  for (const r of results) t.is(r.code, 0, r.stderr);
  const ids = new Set(results.map((r) => Number(r.stdout)));
  t.is(ids.size, 1);
  t.is(scalar(db, "SELECT count(*) FROM _honker_live WHERE queue = 'race'"), 1);
  t.is(scalar(db, "SELECT id FROM _honker_live WHERE queue = 'race' AND unique_key = 'the-key'"), [...ids][0]);
});
