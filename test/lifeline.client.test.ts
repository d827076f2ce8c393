/**
 * Worker liveness in the TypeScript client (src/lifeline.ts): db.worker().run()
 * and the claim iterator register their workerId while they run; a worker
 * whose handler blocks its event loop keeps its claim; claims made with
 * claimBatch (unregistered) keep the visibility-timeout rule.
 */
import test from './helpers/test.js';
import { fixtureChild } from './helpers/child.js';
import { openClient } from './helpers/client.js';
import { tempDbPath, type Db } from './helpers/db.js';
import { workers } from './helpers/lifeline.js';
import { open } from '../src/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const raw = (db: { raw: unknown }): Db => db.raw as Db;
const env = (file: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, HONKER_TEST_DB: file, ...extra });

test('lifeline.worker: db.worker registers its workerId while it runs and unregisters when it stops', async (t) => {
  const db = openClient(t, tempDbPath(t));
  db.queue('q').task('t', (n: number) => n);
  const ac = new AbortController();
  const worker = db.worker({ workerId: 'w-run' });
  const running = worker.run({ signal: ac.signal });
  t.deepEqual(
    workers(raw(db)).map((w) => [w.worker_id, w.pid, w.alive]),
    [['w-run', process.pid, true]],
    'registered at the first look, synchronously in run()',
  );
  ac.abort();
  await running;
  t.deepEqual(workers(raw(db)), []);
});

test('lifeline.claim: the claim iterator registers at its first look and unregisters on break', async (t) => {
  const db = openClient(t, tempDbPath(t));
  const q = db.queue('q');
  q.enqueue(1);
  const it = q.claim('w-iter');
  t.deepEqual(workers(raw(db)), [], 'nothing before the first next()');
  const job = (await it.next()).value!;
  t.deepEqual(workers(raw(db)).map((w) => [w.worker_id, w.claims]), [['w-iter', 1]]);
  job.ack();
  await it.return();
  t.deepEqual(workers(raw(db)), []);
});

test('lifeline.claim: closing the database releases the slot of a running iterator', async (t) => {
  const file = tempDbPath(t);
  const watcher = openClient(t, file);
  const db = open(file);
  const it = db.queue('q').claim('w-closed');
  const pending = it.next();
  await sleep(50);
  t.deepEqual(workers(raw(watcher)).map((w) => [w.worker_id, w.alive]), [['w-closed', true]]);
  db.close();
  await t.throwsAsync(pending, { code: 'CLOSED' });
  t.deepEqual(workers(raw(watcher)).map((w) => [w.worker_id, w.alive]), [['w-closed', false]]);
});

test('lifeline.worker: a handler that blocks the event loop for several rescue periods keeps its job, then acks it', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const blockMs = 8000;
  const blocker = fixtureChild(t, 'lifeline-worker', ['worker', 'blocker', '1'], { env: env(file, { HONKER_BLOCK_MS: String(blockMs) }) });
  const other = fixtureChild(t, 'lifeline-worker', ['gated', 'other', '4'], { env: env(file) });
  await blocker.waitFor((l) => l.kind === 'ready', 60_000);
  const id = db.queue('reclaim').enqueue({ task: 'job', args: [1], v: 1 });
  await blocker.waitFor((l) => l.kind === 'start' && l.id === id, 30_000);
  // The other worker starts while the blocker is blocked: it registers, parks, and looks once a second.
  other.send('go');
  await other.waitFor((l) => l.kind === 'ready', 60_000);
  const otherReadyAt = Date.now();
  await blocker.waitFor((l) => l.kind === 'acked' && l.id === id, blockMs + 30_000);
  const overlapMs = Date.now() - otherReadyAt;
  t.log(`the other worker watched the blocked one for ${overlapMs} ms`);
  t.true(overlapMs >= 3000, `at least three rescue periods (${overlapMs} ms)`);
  t.deepEqual(other.of('start'), [], 'the live worker kept its claim: nobody else ran its job');
  t.deepEqual(blocker.of('start').map((l) => [l.id, l.attempt]), [[id, 1]]);
  t.is(db.queue('reclaim').getJob(id), null, 'acked');
  t.is(await other.stop(), 0);
  t.is(await blocker.stop(), 0);
});

test('lifeline.claimBatch: an unregistered claimer that dies keeps the visibility-timeout rule', async (t) => {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  const q = db.queue('q');
  q.enqueue(1);
  const other = open(file);
  const [job] = other.queue('q').claimBatch('unregistered', 1, { visibilityTimeoutS: 300 });
  t.truthy(job);
  other.close(); // as good as dead: no lock was ever held for 'unregistered'
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 3000);
  t.teardown(() => clearTimeout(timer));
  const it = q.claim('registered', { signal: ac.signal });
  const r = await it.next(); // a registered claimer looks once a second meanwhile, rescuing nobody
  t.true(r.done, 'the claim lapses only after the visibility timeout');
  t.like(q.getJob(job.id), { state: 'processing', workerId: 'unregistered' });
});
