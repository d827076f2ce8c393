/**
 * database.close: after db.close() nothing of honker keeps the database
 * object alive (task registry, watcher, worker, iterators, timers).
 */
import test from './helpers/test.js';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot, tempDbPath } from './helpers/db.js';

test('db.close: 1,000 open -> define task -> run a worker -> close cycles leave no database reachable', (t) => {
  const file = tempDbPath(t);
  const fixture = path.join(repoRoot, 'test', 'fixtures', 'database-close-frees.ts');
  const r = spawnSync(process.execPath, ['--expose-gc', '--import=tsx', fixture, file, '1000'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 100_000,
  });
  t.is(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim()) as { cycles: number; alive: number; heapMB: number };
  t.log(`after 1,000 cycles and gc: ${result.alive} databases reachable, heap ${result.heapMB} MB`);
  t.is(result.cycles, 1000);
  t.is(result.alive, 0);
});
