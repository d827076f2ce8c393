/**
 * Crashes: worker processes SIGKILLed mid-handler, repeatedly (issue 6).
 *
 * N jobs on queue "crash"; 3 worker processes, each job "works" 30 ms; every 200 ms one working
 * process, chosen at random, is SIGKILLed and a new one started in its place, until no live job
 * is left. Two kinds of worker process, as a user would write them:
 *   - claim iterator (test/fixtures/reliability-crash-worker.ts): queue.claim with a 1 s
 *     visibility timeout; the ledger row and the ack commit in ONE db.transaction;
 *   - worker runtime (test/fixtures/reliability-crash-runtime.ts): db.worker, concurrency 2,
 *     visibilityTimeoutS 1 (heartbeats every 0.5 s); the runtime saves the result and acks in one
 *     transaction, and a TEMP trigger on the results table writes the ledger row inside it;
 *   - a transaction task (test/fixtures/reliability-crash-transaction.ts): db.worker runs a
 *     `transaction: true` task whose handler writes the ledger row itself, synchronously, inside
 *     the transaction that acks the job (the exactly-once offer of TaskOptions.transaction); it
 *     works 10 ms, not 30: it holds the write lock while it works.
 * Then:
 *   - every job is in the ledger exactly once (acked once) or dead after max_attempts attempts,
 *     never both; no live row is left (none stuck);
 *   - no attempt number of a job was handed out twice (two claims of one attempt = a double claim);
 *   - a job's ledger row carries the attempt that acked it, its last one; integrity_check is ok.
 * A kill landed mid-handler when the victim had started an attempt that never acked (the job
 * was acked later by a later attempt, or died); at least 3 must. Each kill aims at a process
 * that has just printed a start line (polled every ms). Short: 300 jobs, kills until 6 landed
 * mid-handler (at most 18). Long (soak): 2,000 jobs, kills every 200 ms until drained.
 */
import test, { type ExecutionContext } from '../helpers/test.js';
import { fixtureChild, type Line, type LineChild } from '../helpers/child.js';
import { openClient } from '../helpers/client.js';
import { tempDbPath } from '../helpers/db.js';
import { report, sleep, walSize } from './crash-helpers.js';
import { scale } from './soak.js';

const HANDLER_MS = 30;
const KILL_EVERY_MS = 200;
const WORKERS = 3;
/** No job settled for this long while some are live: stuck (see crash.final-attempt.test.ts). */
const STALL_MS = 30_000;

interface Proc {
  name: string;
  child: LineChild<Line>;
  killed: boolean;
}

interface Variant {
  scenario: string;
  fixture: string;
  /** How long each handler run works, in ms. */
  handlerMs: number;
  args: (file: string, name: string, handlerMs: number) => string[];
  /** The payload of job n. */
  payload: (n: number) => unknown;
}

async function killWorkers(t: ExecutionContext, v: Variant): Promise<void> {
  const jobs = scale(300, 2000);
  // Short: the first 6 kills, then the queue drains on its own (each restart costs a Node start).
  const maxKills = scale(6, Infinity);
  const drainLimitMs = scale(90_000, 30 * 60_000);
  const file = tempDbPath(t);
  const db = openClient(t, file);
  db.raw.exec('CREATE TABLE ledger (job_id INTEGER NOT NULL, worker TEXT NOT NULL, attempt INTEGER NOT NULL)');
  const q = db.queue('crash');
  const ids = db.transaction(() => Array.from({ length: jobs }, (_, n) => q.enqueue(v.payload(n))));
  const ledgerRow = db.raw.prepare('SELECT 1 FROM ledger WHERE job_id = ? AND attempt = ?');
  const liveCount = db.raw.prepare("SELECT count(*) FROM _honker_live WHERE queue = 'crash'").pluck();

  const procs: Proc[] = [];
  let seq = 0;
  const start = (): Proc => {
    const name = `w${seq++}`;
    const child = fixtureChild(t, v.fixture, v.args(file, name, v.handlerMs));
    const p = { name, child, killed: false };
    procs.push(p);
    return p;
  };
  const slots = Array.from({ length: WORKERS }, start);

  const t0 = Date.now();
  let kills = 0;
  let midKills = 0; // kills whose victim's last attempt never committed
  let idleTicks = 0; // ticks where no process was working yet (all still starting)
  let walPeak = 0;
  let lastLive = jobs;
  let progressAt = t0;
  const liveRows = db.raw.prepare("SELECT id, state, attempts, max_attempts, claim_expires_at FROM _honker_live WHERE queue = 'crash' LIMIT 5");
  while ((liveCount.get() as number) > 0) {
    const live = liveCount.get() as number;
    if (live !== lastLive) [lastLive, progressAt] = [live, Date.now()];
    if (Date.now() - t0 > drainLimitMs || Date.now() - progressAt > STALL_MS) {
      t.fail(
        `queue not drained: ${live} live jobs, none settled for ${Date.now() - progressAt} ms (${Date.now() - t0} ms in all): ` +
          JSON.stringify(liveRows.all()),
      );
      break;
    }
    await sleep(KILL_EVERY_MS);
    walPeak = Math.max(walPeak, walSize(file));
    if (midKills >= maxKills || kills >= maxKills * 3) continue;
    const working = slots.map((p, i) => [p, i] as const).filter(([p]) => p.child.lines.some((l) => l.kind === 'start'));
    if (working.length === 0) {
      idleTicks++;
      continue;
    }
    // Aim at a handler: for up to one more tick, look (every ms) for a process that has just
    // printed a start line, and kill it at once; a short handler (10 ms) is otherwise often missed.
    const seen = working.map(([p]) => p.child.lines.length);
    let fresh = -1;
    for (let waited = 0; fresh < 0 && waited < KILL_EVERY_MS; waited++) {
      await sleep(1);
      fresh = working.findIndex(([p], i) => p.child.lines.length > seen[i] && p.child.lines.at(-1)?.kind === 'start');
    }
    const [victim, slot] = working[fresh >= 0 ? fresh : Math.floor(Math.random() * working.length)];
    victim.killed = true;
    await victim.child.kill();
    kills++;
    // The ledger row commits with the ack: none for the victim's last attempt = killed mid-handler.
    const last = victim.child.of('start').at(-1)!;
    if (ledgerRow.get(last.id, last.attempt) === undefined) midKills++;
    slots[slot] = start();
  }
  const drainMs = Date.now() - t0;
  // Stop the survivors cleanly (stdin end) and collect every line.
  await Promise.all(slots.map((p) => p.child.stop()));

  const lines: (Line & { worker: string })[] = procs.flatMap((p) => p.child.lines.map((l) => ({ ...l, worker: p.name })));
  const errors = lines.filter((l) => l.kind === 'error');
  const lost = lines.filter((l) => l.kind === 'lost').length;
  const stderrs = procs.map((p) => p.child.stderr.trim()).filter(Boolean);

  const ledger = db.raw.prepare('SELECT job_id, count(*) AS n, max(attempt) AS attempt FROM ledger GROUP BY job_id').all() as {
    job_id: number;
    n: number;
    attempt: number;
  }[];
  const dead = db.raw.prepare("SELECT id, attempts, max_attempts, last_error FROM _honker_dead WHERE queue = 'crash'").all() as {
    id: number;
    attempts: number;
    max_attempts: number;
    last_error: string;
  }[];
  const acked = new Set(ledger.map((r) => r.job_id));
  const ackedAttempt = new Map(ledger.map((r) => [r.job_id, r.attempt]));
  const deadIds = new Set(dead.map((r) => r.id));
  const neverAcked = (l: Line): boolean => ackedAttempt.get(l.id as number) !== l.attempt;
  const killedMidHandler = procs.filter((p) => p.killed && p.child.of('start').some(neverAcked)).length;

  t.deepEqual(errors, [], 'no worker saw an error');
  t.deepEqual(stderrs, [], 'no worker wrote to stderr');
  t.is(liveCount.get(), 0, 'no job stuck');
  t.deepEqual(ledger.filter((r) => r.n !== 1), [], 'nothing acked twice');
  t.deepEqual(ids.filter((id) => acked.has(id) && deadIds.has(id)), [], 'no job both acked and dead');
  t.deepEqual(ids.filter((id) => !acked.has(id) && !deadIds.has(id)), [], 'every job acked or dead');
  t.is(acked.size + deadIds.size, jobs);
  for (const d of dead) {
    t.is(d.attempts, d.max_attempts, `dead job ${d.id} used all its attempts`);
    t.is(d.last_error, 'max attempts exceeded');
  }
  // Claims: no (job, attempt) was handed out twice; an acked job's ledger row has its last attempt.
  const starts = new Map<string, string[]>();
  const lastStart = new Map<number, number>();
  for (const l of lines.filter((x) => x.kind === 'start')) {
    const key = `${l.id}:${l.attempt}`;
    starts.set(key, [...(starts.get(key) ?? []), l.worker]);
    lastStart.set(l.id as number, Math.max(lastStart.get(l.id as number) ?? 0, l.attempt as number));
  }
  t.deepEqual([...starts].filter(([, ws]) => ws.length > 1), [], 'no attempt claimed twice');
  t.deepEqual(ledger.filter((r) => r.attempt !== lastStart.get(r.job_id)), [], 'each ack came from the last attempt started');
  const attempts = (db.raw.prepare('SELECT sum(attempt) FROM ledger').pluck().get() as number) + dead.reduce((s, d) => s + d.attempts, 0);
  t.is(db.raw.pragma('integrity_check', { simple: true }), 'ok');
  t.true(kills >= 3, `only ${kills} kills`);
  t.true(killedMidHandler >= 3, `only ${killedMidHandler} of ${kills} kills landed mid-handler`);

  report(t, v.scenario, {
    jobs,
    workers: WORKERS,
    handlerMs: v.handlerMs,
    killEveryMs: KILL_EVERY_MS,
    maxKills: Number.isFinite(maxKills) ? maxKills : 'unlimited',
    kills,
    landedAtKill: midKills,
    killedMidHandler,
    idleTicks,
    processes: procs.length,
    acked: acked.size,
    dead: dead.length,
    attempts,
    retriedAfterKill: attempts - jobs,
    lostAcks: lost,
    errors: errors.length,
    drainMs,
    walPeakBytes: walPeak,
  });
}

test('claim-iterator workers SIGKILLed mid-handler every 200 ms: each job acked exactly once or dead, none stuck', (t) =>
  killWorkers(t, {
    scenario: 'workers-killed-mid-handler-claim',
    fixture: 'reliability-crash-worker',
    handlerMs: HANDLER_MS,
    args: (file, name, ms) => [file, name, String(ms)],
    payload: (n) => ({ n }),
  }));

test('db.worker processes SIGKILLed mid-handler every 200 ms: each job acked exactly once or dead, none stuck', (t) =>
  killWorkers(t, {
    scenario: 'workers-killed-mid-handler-runtime',
    fixture: 'reliability-crash-runtime',
    handlerMs: HANDLER_MS,
    args: (file, name, ms) => [file, name, String(ms), '2'],
    payload: (n) => ({ task: 'work', args: [n], v: 1 }),
  }));

test('db.worker processes running a transaction task, SIGKILLed mid-handler every 200 ms: the handler’s own ledger rows, each job exactly once', (t) =>
  killWorkers(t, {
    scenario: 'workers-killed-mid-handler-transaction-task',
    fixture: 'reliability-crash-transaction',
    // Shorter than the others: the handler holds the write lock while it works (it runs inside
    // the transaction); long enough that most kills land between its write and the commit.
    handlerMs: 10,
    args: (file, name, ms) => [file, name, String(ms), '2'],
    payload: (n) => ({ task: 'work', args: [n], v: 1 }),
  }));
