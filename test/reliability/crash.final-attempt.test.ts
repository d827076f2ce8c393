/**
 * Crashes: a worker SIGKILLed during a job's FINAL attempt (issue 6: "none stays stuck").
 *
 * Found by the long run of crash.workers: the last job of the queue was on its last attempt
 * (attempts = max_attempts) when its worker was killed; the surviving workers were parked in
 * claim and never woke, so the job stayed 'processing' (its claim long lapsed) until an unrelated
 * commit happened 2.5 minutes later: honker_queue_next_claim_at ignored processing rows without
 * attempts left, so no waiter scheduled the claim that moves the row to the dead letters. It now
 * counts them (ext/queue_claim.c, docs/sql.md).
 *
 * Here: two workers (claim iterator, or db.worker; 1 s visibility timeout) park in claim; one
 * job with maxAttempts 1 is enqueued; the worker that starts it is SIGKILLed mid-handler while the
 * other stays parked. Within 10 s (the claim lapses after 1-2 s; 1.0-1.5 s measured with the fix)
 * the job must be dead with attempts 1 and 'max attempts exceeded', no live row left, and the
 * survivor must never have been handed it.
 */
import test, { type ExecutionContext } from '../helpers/test.js';
import { fixtureChild } from '../helpers/child.js';
import { openClient } from '../helpers/client.js';
import { tempDbPath } from '../helpers/db.js';
import { report, until } from './crash-helpers.js';

interface Variant {
  scenario: string;
  fixture: string;
  args: (file: string, name: string) => string[];
  payload: unknown;
}

async function finalAttempt(t: ExecutionContext, v: Variant): Promise<void> {
  const file = tempDbPath(t);
  const db = openClient(t, file);
  db.raw.exec('CREATE TABLE ledger (job_id INTEGER NOT NULL, worker TEXT NOT NULL, attempt INTEGER NOT NULL)');
  const q = db.queue('crash', { maxAttempts: 1 });
  // Both workers park first; the job goes to one of them, which is killed mid-handler.
  const workers = ['A', 'B'].map((name) => fixtureChild(t, v.fixture, v.args(file, name)));
  for (const w of workers) await w.waitFor((l) => l.kind === 'ready', 60_000);
  const id = q.enqueue(v.payload);
  const holder = await Promise.race(workers.map((w) => w.waitFor((l) => l.kind === 'start' && l.id === id, 60_000).then(() => w)));
  const survivor = workers.find((w) => w !== holder)!;
  await holder.kill();
  const killedAt = Date.now();

  const live = db.raw.prepare("SELECT count(*) FROM _honker_live WHERE queue = 'crash'").pluck();
  let stuck = '';
  try {
    await until('the job to leave _honker_live', () => live.get() === 0, 10_000, 50);
  } catch {
    stuck = JSON.stringify(q.getJob(id));
  }
  const deadAfterMs = Date.now() - killedAt;
  t.is(stuck, '', `job still live 10 s after its final attempt's worker died: ${stuck}`);
  t.like(q.dead.get(id), { id, attempts: 1, lastError: 'max attempts exceeded' });
  t.is(await survivor.stop(), 0);
  t.deepEqual(survivor.of('start'), [], 'the exhausted job was never handed out again');
  t.is(db.raw.prepare('SELECT count(*) FROM ledger').pluck().get(), 0);
  report(t, v.scenario, { jobs: 1, kills: 1, deadAfterMs, stuck: stuck !== '', errors: 0 });
}

test('claim iterator killed on a final attempt: the job is dead-lettered once its claim lapses, not left processing', (t) =>
  finalAttempt(t, {
    scenario: 'worker-killed-on-final-attempt-claim',
    fixture: 'reliability-crash-worker',
    args: (file, name) => [file, name, '600000'],
    payload: { n: 0 },
  }));

test('db.worker killed on a final attempt: the job is dead-lettered once its claim lapses, not left processing', (t) =>
  finalAttempt(t, {
    scenario: 'worker-killed-on-final-attempt-runtime',
    fixture: 'reliability-crash-runtime',
    args: (file, name) => [file, name, '600000', '1'],
    payload: { task: 'work', args: [0], v: 1 },
  }));
