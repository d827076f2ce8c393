/**
 * Real worker processes (test/fixtures/worker-run.ts): results travel back to
 * the caller's process, retry with backoff then dead, timeouts, heartbeats
 * against a second worker, and SIGTERM mid-batch.
 */
import test from './helpers/test.js';
import type { HonkerError } from '../src/index.js';
import { fixtureChild } from './helpers/child.js';
import { openClient, sleep } from './helpers/client.js';
import { tempDbPath } from './helpers/db.js';
import { workerChild } from './helpers/worker.js';
import { defineTasks } from './fixtures/worker-defs.js';

test('tasks run in a worker process and their results come back to the caller', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const { add } = defineTasks(db);
  const before = add(2, 3);
  const w = workerChild(t, { file, concurrency: 2, name: 'w1' });
  await w.waitFor((l) => l.kind === 'ready');
  const inTx = db.transaction(() => add(40, 2));
  t.is(await before.get({ timeoutMs: 60_000 }), 5);
  t.is(await inTx.get({ timeoutMs: 60_000 }), 42);
  await w.waitFor((l) => l.kind === 'completed' && l.jobId === inTx.id);
  w.signal('SIGTERM');
  t.is(await w.exited, 0);
  t.like(w.of('summary')[0], { completed: 2, stoppedBy: 'SIGTERM' });
  t.is(db.queue('q').stats().pending, 0);
});

test('retry with backoff (1 s, then 2 s), then dead: get() rejects with the last error', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const { boom } = defineTasks(db);
  const w = workerChild(t, { file, name: 'w1' });
  const h = boom();
  const err = await t.throwsAsync(h.get({ timeoutMs: 60_000 }));
  t.is(err?.message, `task boom (job ${h.id}) died after 3 attempt(s): boom at attempt 3`);
  t.is((err as HonkerError).code, 'JOB_FAILED');
  await w.waitFor((l) => l.kind === 'dead');
  t.deepEqual(
    w.of('retried').map((l) => [l.attempt, l.delayS, l.error]),
    [
      [1, 1, 'boom at attempt 1'],
      [2, 2, 'boom at attempt 2'],
    ],
  );
  // The backoff was honoured: attempt 3's error was recorded at least 1 + 2 s after attempt 1's
  // (created_at of the errors, whole seconds: >= 2 allows for the truncation).
  const times = db.raw.prepare('SELECT attempt, error FROM _honker_job_errors WHERE job_id = ? ORDER BY attempt').all(h.id);
  t.deepEqual(times, [
    { attempt: 1, error: 'boom at attempt 1' },
    { attempt: 2, error: 'boom at attempt 2' },
    { attempt: 3, error: 'boom at attempt 3' },
  ]);
  const dead = db.queue('q').dead.list()[0];
  t.like(dead, { id: h.id, attempts: 3, lastError: 'boom at attempt 3' });
  t.true(dead.diedAt - dead.createdAt >= 2, `died ${dead.diedAt - dead.createdAt} s after creation`);
  w.signal('SIGTERM');
  t.is(await w.exited, 0);
});

test('timeoutS: the handler is signalled and the job retried, then dead', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const { hang } = defineTasks(db);
  const w = workerChild(t, { file, name: 'w1' });
  const h = hang();
  const err = await t.throwsAsync(h.get({ timeoutMs: 60_000 }));
  t.is(err?.message, `task hang (job ${h.id}) died after 2 attempt(s): task hang timed out after 1 s`);
  await w.waitFor((l) => l.kind === 'aborted' && l.attempt === 2);
  await w.waitFor((l) => l.kind === 'dead'); // events follow the commit the caller already saw
  t.deepEqual(
    w.lines.filter((l) => ['failed', 'retried', 'dead'].includes(l.kind as string)).map((l) => [l.kind, l.attempt]),
    [
      ['failed', 1],
      ['retried', 1],
      ['failed', 2],
      ['dead', 2],
    ],
  );
  t.deepEqual(w.of('aborted').map((l) => l.attempt), [1, 2]);
  w.signal('SIGINT');
  t.is(await w.exited, 0);
  t.like(w.of('summary')[0], { stoppedBy: 'SIGINT', failed: 2, retried: 1, dead: 1 });
});

test('heartbeats keep a 3 s job with a 1 s visibility timeout from being reclaimed', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const { work } = defineTasks(db);
  const a = workerChild(t, { file, visibilityTimeoutS: 1, name: 'A' });
  const h = work(3000, 'A-or-B');
  await a.waitFor((l) => l.kind === 'start' && l.jobId === h.id);
  // B joins while A runs the job; without heartbeats it would reclaim it after ~1-2 s.
  const b = workerChild(t, { file, visibilityTimeoutS: 1, name: 'B' });
  await b.waitFor((l) => l.kind === 'ready');
  t.is(await h.get({ timeoutMs: 60_000 }), h.id);
  b.signal('SIGTERM');
  a.signal('SIGTERM');
  t.is(await a.exited, 0);
  t.is(await b.exited, 0);
  t.deepEqual(b.of('start'), []);
  t.deepEqual(a.of('start').map((l) => l.attempt), [1]);
  t.is(db.raw.prepare('SELECT count(*) FROM ledger WHERE job_id = ?').pluck().get(h.id), 1);
  t.like(a.of('summary')[0], { completed: 1, lost: 0 });
});

test('SIGTERM mid-batch loses nothing and runs nothing twice', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const { work } = defineTasks(db);
  const handles = db.transaction(() => Array.from({ length: 20 }, () => work(500, 'x')));
  const first = workerChild(t, { file, concurrency: 2, batchSize: 8, name: 'first' });
  await first.waitFor((l) => l.kind === 'start');
  first.signal('SIGTERM'); // 8 claimed, 2 running: 6 go back
  t.is(await first.exited, 0);
  const s1 = first.of('summary')[0];
  t.like(s1, { claimed: 8, stoppedBy: 'SIGTERM', abandoned: 0, lost: 0 });
  t.is((s1.completed as number) + (s1.released as number), 8);
  t.true((s1.released as number) >= 1);
  const second = workerChild(t, { file, concurrency: 4, batchSize: 4, name: 'second' });
  const values = await Promise.all(handles.map((h) => h.get({ timeoutMs: 120_000 })));
  t.deepEqual(values, handles.map((h) => h.id));
  second.signal('SIGTERM');
  t.is(await second.exited, 0);
  const ledger = db.raw.prepare('SELECT job_id, count(*) AS n FROM ledger GROUP BY job_id ORDER BY job_id').all() as {
    job_id: number;
    n: number;
  }[];
  t.deepEqual(ledger.map((r) => r.job_id), handles.map((h) => h.id));
  t.true(ledger.every((r) => r.n === 1), JSON.stringify(ledger));
  t.is((s1.completed as number) + (second.of('summary')[0].completed as number), 20);
  // Released jobs kept their attempt: every job ran exactly once, as attempt 1.
  t.true([...first.of('start'), ...second.of('start')].every((l) => l.attempt === 1));
});

test('a running worker keeps its process alive while every handler awaits something that does not; SIGTERM stops it', async (t) => {
  const file = tempDbPath(t);
  const child = fixtureChild(t, 'worker-hanging-handler', [file]);
  await child.nextMatching((l) => l.kind === 'started');
  await sleep(1500);
  t.true(child.running, 'the process is still alive with the handler pending');
  child.signal('SIGTERM');
  t.is(await child.exited, 0);
  t.like(child.lines.find((l) => l.kind === 'summary'), { kind: 'summary', stoppedBy: 'SIGTERM', abandoned: 1 });
});
