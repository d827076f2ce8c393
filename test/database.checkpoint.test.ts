/**
 * WAL checkpoints of open()'s connection run from a timer, never inside a
 * commit (src/checkpoint.ts), and the WAL stays bounded.
 */
import test from 'ava';
import { statSync } from 'node:fs';
import { open } from '../src/index.js';
import { tempDbPath } from './helpers/db.js';
import { sleep } from './helpers/client.js';

const walSize = (file: string): number => statSync(`${file}-wal`).size;

test('database.checkpoint: commits never checkpoint; the background checkpointer bounds the WAL', async (t) => {
  const file = tempDbPath(t);
  const db = open(file);
  t.teardown(() => db.close());
  t.is(db.raw.pragma('wal_autocheckpoint', { simple: true }), 0);
  const q = db.queue<string>('q');
  const big = 'x'.repeat(3000);
  // ~6 MB of commits: SQLite's auto-checkpoint would have reset the WAL at ~4 MB inside a commit.
  for (let i = 0; i < 2000; i++) q.enqueue(big);
  const grown = walSize(file);
  t.true(grown > 6_000_000, `the WAL grew past the limit without a checkpoint in a commit (${grown} bytes)`);
  // Once the timer has checkpointed everything, the next commit restarts the WAL from its
  // start, so the file stops growing; without a checkpoint every commit appends to it.
  let restarted = false;
  for (let i = 0; i < 40 && !restarted; i++) {
    await sleep(250);
    const before = walSize(file);
    q.enqueue('small');
    restarted = walSize(file) === before;
  }
  t.true(restarted, 'the background checkpointer let the WAL restart');
  const settled = walSize(file);
  for (let i = 0; i < 100; i++) q.enqueue('small');
  t.is(walSize(file), settled, 'the WAL is reused instead of growing');
});

test('database.checkpoint: attach() leaves the caller connection settings alone', async (t) => {
  const file = tempDbPath(t);
  const { default: Database } = await import('better-sqlite3');
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  const { attach } = await import('../src/index.js');
  const db = attach(raw);
  t.teardown(() => db.close());
  t.is(raw.pragma('wal_autocheckpoint', { simple: true }), 1000);
});
