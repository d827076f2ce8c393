/**
 * db.tryLock and db.tryRateLimit across processes: children
 * (test/fixtures/client-locks-racer.ts) released at once by a barrier file.
 */
import test, { type ExecutionContext } from './helpers/test.js';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { open } from '../src/index.js';
import { runFixture, tempDir } from './helpers/db.js';

/** Start n racers with args(i), open the barrier once all are ready, return their JSON outputs. */
async function race<T>(t: ExecutionContext, dir: string, file: string, n: number, args: string[]): Promise<T[]> {
  const barrier = path.join(dir, 'go');
  const children = Array.from({ length: n }, (_, i) =>
    runFixture('client-locks-racer', [file, barrier, String(i), ...args], { timeoutMs: 90_000 }),
  );
  const deadline = Date.now() + 60_000;
  while (readdirSync(dir).filter((f) => f.startsWith('go.ready.')).length < n) {
    if (Date.now() > deadline) throw new Error('racers never got ready');
    await new Promise((r) => setTimeout(r, 5));
  }
  if (!existsSync(barrier)) writeFileSync(barrier, '');
  const done = await Promise.all(children);
  return done.map((c) => {
    t.is(c.code, 0, c.stderr);
    return JSON.parse(c.stdout) as T;
  });
}

test('4 processes race db.tryLock on one name: exactly one gets a Lock', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'test.db');
  const db = open(file);
  t.teardown(() => db.close());
  const results = await race<{ owner: string | null }>(t, dir, file, 4, ['lock', 'backup', '60']);
  const winners = results.filter((r) => r.owner !== null);
  t.is(winners.length, 1, JSON.stringify(results));
  t.deepEqual(db.raw.prepare('SELECT name, owner FROM _honker_locks').all(), [{ name: 'backup', owner: winners[0].owner }]);
  t.is(db.tryLock('backup'), null, 'still held after the winner exited (the lease outlives the process)');
});

test('4 processes x 5 db.tryRateLimit calls for a limit of 7: exactly 7 pass', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'test.db');
  const db = open(file);
  t.teardown(() => db.close());
  // A 10^9 s window: the race cannot straddle a window boundary.
  const results = await race<{ results: boolean[] }>(t, dir, file, 4, ['rate', 'api', '7', '1000000000', '5']);
  const all = results.flatMap((r) => r.results);
  t.is(all.length, 20);
  t.is(all.filter(Boolean).length, 7);
  t.is(db.raw.prepare("SELECT sum(count) FROM _honker_rate_limits WHERE name = 'api'").pluck().get(), 7);
});
