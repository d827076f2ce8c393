/**
 * Locks and rate limits hold across processes: real child processes
 * (test/fixtures/locks-race.ts) released at once by a barrier file race for
 * the same window or lock; the counts must be exact and nobody may fail.
 */
import test from './helpers/test.js';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freshDb, runFixture, scalar, tempDir } from './helpers/db.js';

const RACERS = 8;

/** Start RACERS children with args(i), open the barrier once all are ready, return their results. */
async function race(dir: string, file: string, args: (i: number) => string[]): Promise<number[][]> {
  const barrier = path.join(dir, 'go');
  const children = Array.from({ length: RACERS }, (_, i) =>
    runFixture('locks-race', [file, barrier, String(i), ...args(i)], { timeoutMs: 90_000 }),
  );
  const deadline = Date.now() + 60_000;
  while (readdirSync(dir).filter((f) => f.startsWith('go.ready.')).length < RACERS) {
    if (Date.now() > deadline) throw new Error('racers never got ready');
    await new Promise((r) => setTimeout(r, 5));
  }
  // Keep the race inside one 60 s window: never open the barrier in a minute's last 10 s.
  while (Math.floor(Date.now() / 1000) % 60 >= 50) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(barrier)) writeFileSync(barrier, '');
  const done = await Promise.all(children);
  return done.map((c) => {
    if (c.code !== 0) throw new Error(`racer failed (${c.code}): ${c.stderr}`);
    return JSON.parse(c.stdout) as number[];
  });
}

test('honker_rate_limit_try: 8 processes racing once for a limit of 3 -> exactly 3 succeed', async (t) => {
  const dir = tempDir(t);
  const { db, file } = freshDb(t);
  const results = await race(dir, file, () => ['rate', 'k', '3', '60', '1']);
  t.is(results.flat().filter((r) => r === 1).length, 3);
  t.is(results.flat().length, RACERS);
  // one window, counted to the limit and no further
  t.deepEqual(db.prepare("SELECT count FROM _honker_rate_limits WHERE name = 'k'").pluck().all(), [3]);
});

test('honker_rate_limit_try: 8 processes x 5 calls for a limit of 10 -> exactly 10 succeed', async (t) => {
  const dir = tempDir(t);
  const { db, file } = freshDb(t);
  // per_s is one day: the whole race falls into one window
  const results = await race(dir, file, () => ['rate', 'burst', '10', '86400', '5']);
  t.is(results.flat().filter((r) => r === 1).length, 10);
  t.is(scalar(db, "SELECT sum(count) FROM _honker_rate_limits WHERE name = 'burst'"), 10);
});

test('honker_lock_acquire: 8 processes racing for one lock -> exactly one holder', async (t) => {
  const dir = tempDir(t);
  const { db, file } = freshDb(t);
  const results = await race(dir, file, () => ['lock', 'leader', '60']);
  const winners = results.map((r, i) => (r[0] === 1 ? i : -1)).filter((i) => i >= 0);
  t.is(winners.length, 1);
  t.deepEqual(db.prepare('SELECT name, owner FROM _honker_locks').all(), [
    { name: 'leader', owner: `owner-${winners[0]}` },
  ]);
});

test('honker_lock_acquire: 8 processes racing to replace an expired holder -> exactly one holder', async (t) => {
  const dir = tempDir(t);
  const { db, file } = freshDb(t);
  db.prepare("INSERT INTO _honker_locks (name, owner, expires_at) VALUES ('leader', 'dead', unixepoch() - 1)").run();
  const results = await race(dir, file, () => ['lock', 'leader', '60']);
  const winners = results.map((r, i) => (r[0] === 1 ? i : -1)).filter((i) => i >= 0);
  t.is(winners.length, 1);
  t.is(scalar(db, "SELECT owner FROM _honker_locks WHERE name = 'leader'"), `owner-${winners[0]}`);
});
