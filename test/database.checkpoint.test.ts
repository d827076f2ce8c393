/**
 * WAL checkpoints of open()'s connection run from a timer, never inside a
 * commit (src/checkpoint.ts), and the WAL stays bounded.
 */
import test from './helpers/test.js';
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
  // The timer checkpoints everything and empties the file (TRUNCATE); commits then start it over.
  let emptied = false;
  for (let i = 0; i < 40 && !emptied; i++) {
    await sleep(250);
    emptied = walSize(file) < 1_000_000;
  }
  t.true(emptied, `the background checkpointer emptied the WAL (${walSize(file)} bytes)`);
  for (let i = 0; i < 50; i++) q.enqueue('small'); // ~6 pages a commit
  t.true(walSize(file) < 1000 * 4096, `the WAL starts over from empty (${walSize(file)} bytes)`);
  t.is(db.raw.pragma('integrity_check', { simple: true }), 'ok');
});

test('database.checkpoint: attach() leaves the caller connection settings alone', async (t) => {
  const file = tempDbPath(t);
  const { default: Database } = await import('better-sqlite3');
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  const { attach } = await import('../src/index.js');
  const db = attach(raw);
  t.teardown(() => db.close());
  // SQLite's auto-checkpoint at 1000 pages goes on, run by honker's WAL hook (ext/commit_signal.c),
  // which is why the pragma now reads 0: the WAL is checkpointed and starts over past 1000 pages.
  t.is(raw.pragma('wal_autocheckpoint', { simple: true }), 0);
  const notify = raw.prepare("SELECT notify('c', 'p')");
  for (let i = 0; i < 1500; i++) notify.get();
  const page = raw.pragma('page_size', { simple: true }) as number;
  const walPages = statSync(`${file}-wal`).size / page;
  t.true(walPages < 1100, `${walPages} pages in the WAL after 1500 commits of about 3 pages each`);
});
