/**
 * cli: the commands that write — `honker enqueue`, `honker notify`,
 * `honker dead --requeue/--requeue-all/--purge` — as real child processes;
 * their effect is checked through the client.
 */
import test from './helpers/test.js';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { open } from '../src/index.js';
import { runCli, setupDb } from './helpers/cli.js';
import { repoRoot, tempDbPath } from './helpers/db.js';
import { hasCommand, testIf } from './helpers/test-if.js';

function withDb<T>(file: string, fn: (db: ReturnType<typeof open>) => T): T {
  const db = open(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

test('cli enqueue: prints the id; payload, delay, priority and max attempts are stored', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'empty');
  t.deepEqual(await runCli(['enqueue', file, 'emails', '{"to":"alice","n":[1,2]}']), { stdout: '1\n', stderr: '', code: 0 });
  const r = await runCli(['enqueue', file, 'emails', '"plain"', '--delay', '60', '--priority=-3', '--max-attempts', '7', '--json']);
  t.deepEqual(r, { stdout: '{"id":2}\n', stderr: '', code: 0 });
  withDb(file, (db) => {
    const q = db.queue('emails');
    t.like(q.getJob(1), { payload: { to: 'alice', n: [1, 2] }, priority: 0, maxAttempts: 3 });
    const j2 = q.getJob(2)!;
    t.like(j2, { payload: 'plain', priority: -3, maxAttempts: 7 });
    t.is(j2.runAt - j2.createdAt, 60);
    t.like(q.stats(), { pending: 1, scheduled: 1 });
  });
});

test('cli notify: prints the id; a listener from the start sees the payload', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'empty');
  t.deepEqual(await runCli(['notify', file, 'orders', '{"id":42}']), { stdout: '1\n', stderr: '', code: 0 });
  t.deepEqual(await runCli(['notify', file, 'orders', '7', '--json']), { stdout: '{"id":2}\n', stderr: '', code: 0 });
  const ac = new AbortController();
  const got = await withDb(file, async (db) => {
    const seen: unknown[] = [];
    for await (const n of db.listen('orders', { afterId: 0, signal: ac.signal })) {
      seen.push(n.payload);
      if (seen.length === 2) ac.abort();
    }
    return seen;
  });
  t.deepEqual(got, [{ id: 42 }, 7]);
});

test('cli dead --requeue ID: back to pending with attempts 0; an id of another queue is refused and kept', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'queues');
  t.deepEqual(await runCli(['dead', file, 'emails', '--requeue', '5']), {
    stdout: "requeued dead job 5 of queue 'emails'\n",
    stderr: '',
    code: 0,
  });
  withDb(file, (db) => t.like(db.queue('emails').getJob(5), { state: 'pending', attempts: 0, lastError: 'smtp down' }));
  const wrong = await runCli(['dead', file, 'reports', '--requeue', '6']);
  t.deepEqual(wrong, { stdout: '', stderr: "honker dead: no dead job 6 in queue 'reports'\n", code: 1 });
  const missing = await runCli(['dead', file, 'emails', '--requeue', '99']);
  t.deepEqual(missing, { stdout: '', stderr: "honker dead: no dead job 99 in queue 'emails'\n", code: 1 });
  withDb(file, (db) => {
    t.deepEqual(db.queue('emails').dead.list().map((d) => d.id), [6]);
    t.is(db.queue('reports').getJob(6), null);
  });
});

test('cli dead --purge: all, or only older than S seconds', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'queues');
  t.deepEqual(await runCli(['dead', file, 'emails', '--purge', '--older-than', '3600']), {
    stdout: "purged 0 dead jobs of queue 'emails'\n",
    stderr: '',
    code: 0,
  });
  t.deepEqual(await runCli(['dead', file, 'emails', '--purge', '--json']), { stdout: '{"purged":2}\n', stderr: '', code: 0 });
  withDb(file, (db) => t.is(db.queue('emails').stats().dead, 0));
});

test('cli dead --requeue-all: 10,000 dead jobs go back in batches, none left dead', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'dead', 10_000);
  const r = await runCli(['dead', file, 'bulk', '--requeue-all'], { timeoutMs: 120_000 });
  t.is(r.stderr, ''); // progress only on a terminal
  t.deepEqual(r, { stdout: "requeued 10000 dead jobs of queue 'bulk'\n", stderr: '', code: 0 });
  withDb(file, (db) => t.like(db.queue('bulk').stats(), { pending: 10_000, dead: 0 }));
  t.deepEqual(await runCli(['dead', file, 'bulk', '--requeue-all', '--json']), { stdout: '{"requeued":0}\n', stderr: '', code: 0 });
});

// `script` gives the CLI a pseudo-terminal (stdout and stderr are its tty).
const withScript = testIf(hasCommand('script'), 'no script(1) on this machine');

withScript('cli dead --requeue-all: on a terminal, progress per batch on stderr', async (t) => {
  const file = tempDbPath(t);
  setupDb(file, 'dead', 1200);
  const cmd = [process.execPath, '--import=tsx', path.join(repoRoot, 'src', 'cli.ts'), 'dead', file, 'bulk', '--requeue-all']
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  t.is(r.status, 0, r.stdout + r.stderr);
  t.true(r.stdout.includes('\rrequeued 500/1200\rrequeued 1000/1200\rrequeued 1200/1200\r\n'), JSON.stringify(r.stdout));
  t.true(r.stdout.includes("requeued 1200 dead jobs of queue 'bulk'"));
  withDb(file, (db) => t.like(db.queue('bulk').stats(), { pending: 1200, dead: 0 }));
});
