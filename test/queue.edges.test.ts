/**
 * queue: edge cases of the claim path and the queue Fixes of spec/sql.md
 * (each "fix:" test fails on honker 0.4's behaviour), plus a check that
 * every queue statement is an index search (the claim-cost fix).
 */
import test from './helpers/test.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { freshDb, openDb, repoRoot, scalar, sqlError, type Db } from './helpers/db.js';

type Job = { id: number; queue: string; payload: string; worker_id: string; attempts: number; claim_expires_at: number };

function enqueue(db: Db, q: string, payload: string, opts: { priority?: number; delay?: number; max?: number; expires?: number } = {}): number {
  return scalar<number>(
    db,
    'SELECT honker_enqueue(?, ?, NULL, ?, ?, ?, ?)',
    q,
    payload,
    opts.delay ?? null,
    opts.priority ?? 0,
    opts.max ?? 3,
    opts.expires ?? null,
  );
}

function claim(db: Db, q: string, worker: string, n: number | bigint = 10, timeout = 60): Job[] {
  return JSON.parse(scalar<string>(db, 'SELECT honker_claim_batch(?, ?, ?, ?)', q, worker, n, timeout));
}

function lapse(db: Db, id: number): void {
  db.prepare('UPDATE _honker_live SET claim_expires_at = unixepoch() - 5 WHERE id = ?').run(id);
}

test('queue.edges claim: an empty queue and n = 0 give [] and change nothing', (t) => {
  const { db } = freshDb(t);
  t.deepEqual(claim(db, 'q', 'w'), []);
  enqueue(db, 'q', 'a');
  t.deepEqual(claim(db, 'q', 'w', 0), []);
  t.is(scalar(db, "SELECT state FROM _honker_live WHERE payload = 'a'"), 'pending');
  t.deepEqual(claim(db, 'other', 'w'), []);
});

test('queue.edges claim: an expired claim is reclaimed by another worker; the first loses it', (t) => {
  const { db } = freshDb(t);
  const id = enqueue(db, 'q', 'a');
  t.is(claim(db, 'q', 'w1')[0].attempts, 1);
  t.deepEqual(claim(db, 'q', 'w2'), [], 'a valid claim is not reclaimable');
  lapse(db, id);
  const [job] = claim(db, 'q', 'w2');
  t.like(job, { id, worker_id: 'w2', attempts: 2 });
  t.is(scalar(db, "SELECT honker_ack(?, 'w1')", id), 0);
  t.is(scalar(db, "SELECT honker_heartbeat(?, 'w1', 60)", id), 0);
  t.is(scalar(db, "SELECT honker_ack(?, 'w2')", id), 1);
});

test('queue.edges claim: a lapsed claim competes by priority with due pending rows', (t) => {
  const { db } = freshDb(t);
  const hi = enqueue(db, 'q', 'hi', { priority: 5 });
  claim(db, 'q', 'w1');
  lapse(db, hi);
  enqueue(db, 'q', 'mid', { priority: 3 });
  enqueue(db, 'q', 'top', { priority: 9 });
  enqueue(db, 'q', 'low', { priority: -2 });
  t.deepEqual(claim(db, 'q', 'w2', 3).map((j) => j.payload), ['top', 'hi', 'mid']);
  t.deepEqual(claim(db, 'q', 'w2', 3).map((j) => j.payload), ['low']);
});

test('queue.edges claim: exhausted rows go to dead, pending or lapsed, and are not returned', (t) => {
  const { db } = freshDb(t);
  const a = enqueue(db, 'q', 'lapsed', { max: 1 });
  claim(db, 'q', 'w');
  lapse(db, a);
  const b = enqueue(db, 'q', 'pending-exhausted', { max: 2 });
  db.prepare('UPDATE _honker_live SET attempts = 2 WHERE id = ?').run(b);
  const c = enqueue(db, 'q', 'fine');
  t.deepEqual(claim(db, 'q', 'w2').map((j) => j.id), [c]);
  t.deepEqual(db.prepare('SELECT id, last_error FROM _honker_dead ORDER BY id').raw().all(), [
    [a, 'max attempts exceeded'],
    [b, 'max attempts exceeded'],
  ]);
});

test('queue.edges claim: expired jobs are never claimed and are left for the sweep', (t) => {
  const { db } = freshDb(t);
  const a = enqueue(db, 'q', 'a', { expires: 100 });
  db.prepare('UPDATE _honker_live SET expires_at = unixepoch() WHERE id = ?').run(a);
  t.deepEqual(claim(db, 'q', 'w'), []);
  t.is(scalar(db, 'SELECT count(*) FROM _honker_dead'), 0);
  t.is(scalar(db, "SELECT honker_sweep_expired('q')"), 1);
  t.is(scalar(db, 'SELECT last_error FROM _honker_dead WHERE id = ?', a), 'expired');
});

test('queue.edges claim: a huge n claims what there is; many priority levels keep their order', (t) => {
  const { db } = freshDb(t);
  for (let p = 0; p < 50; p++) enqueue(db, 'q', `p${p}`, { priority: p % 2 ? p : -p });
  enqueue(db, 'q', 'future', { priority: 1000, delay: 3600 });
  const jobs = claim(db, 'q', 'w', 4611686018427387904n);
  t.is(jobs.length, 50);
  const prios = jobs.map((j) => Number(j.payload.slice(1))).map((p) => (p % 2 ? p : -p));
  t.deepEqual(prios, [...prios].sort((x, y) => y - x));
});

test('queue.edges payload: 10 MB and embedded NULs round-trip through claim and get_job', (t) => {
  const { db } = freshDb(t);
  const big = 'x'.repeat(10 * 1024 * 1024);
  const id = enqueue(db, 'q', big);
  t.is(claim(db, 'q', 'w', 1)[0].payload.length, big.length);
  const nul = 'a\u0000b"\\c\u0001';
  const id2 = enqueue(db, 'q\u0000z', nul);
  const [job] = claim(db, 'q\u0000z', 'w\u0000x', 1);
  t.like(job, { id: id2, queue: 'q\u0000z', payload: nul, worker_id: 'w\u0000x' });
  t.is(JSON.parse(scalar<string>(db, 'SELECT honker_get_job(?)', id2)).payload, nul);
  t.is(scalar(db, "SELECT honker_ack(?, 'w')", id), 1);
  t.is(scalar(db, "SELECT honker_ack(?, 'w')", id2), 0, 'worker ids with NULs are compared whole');
  t.is(scalar(db, "SELECT honker_ack(?, 'w' || char(0) || 'x')", id2), 1);
});

test('queue.edges enqueue_unique: a cancelled, failed or acked holder frees the key', (t) => {
  const { db } = freshDb(t);
  const uq = (payload: string) => scalar<number>(db, "SELECT honker_enqueue_unique('q', 'k', ?, NULL, NULL, 0, 3, NULL)", payload);
  const a = uq('a');
  t.is(uq('dup'), a);
  t.is(scalar(db, 'SELECT honker_cancel(?)', a), 1);
  const b = uq('b');
  t.not(b, a);
  claim(db, 'q', 'w');
  t.is(uq('dup'), b);
  t.is(scalar(db, "SELECT honker_fail(?, 'w', 'x')", b), 1);
  const c = uq('c');
  t.true(c > b);
  t.is(scalar(db, "SELECT count(*) FROM _honker_live WHERE queue = 'q'"), 1);
  // requeued dead jobs do not take the key back
  t.is(scalar(db, 'SELECT honker_dead_requeue(?)', b), 1);
  t.is(uq('dup'), c);
});

test('queue.edges fix: a negative n is an error (honker claims every row)', (t) => {
  const { db } = freshDb(t);
  enqueue(db, 'q', 'a');
  t.is(sqlError(t, db, "SELECT honker_claim_batch('q', 'w', -1, 60)"), 'honker_claim_batch: n must be >= 0 (got -1)');
  t.is(scalar(db, "SELECT count(*) FROM _honker_live WHERE state = 'pending'"), 1);
});

test('queue.edges fix: sweep_expired moves a processing job that expired and whose claim lapsed', (t) => {
  const { db } = freshDb(t);
  const lapsed = enqueue(db, 'q', 'lapsed', { expires: 100 });
  const held = enqueue(db, 'q', 'held', { expires: 100 });
  claim(db, 'q', 'w');
  db.prepare("UPDATE _honker_live SET expires_at = unixepoch() - 1 WHERE queue = 'q'").run();
  lapse(db, lapsed);
  t.is(scalar(db, "SELECT honker_sweep_expired('q')"), 1);
  t.is(scalar(db, 'SELECT last_error FROM _honker_dead WHERE id = ?', lapsed), 'expired');
  t.is(scalar(db, "SELECT state FROM _honker_live WHERE id = ?", held), 'processing', 'a valid claim stays with its holder');
});

test('queue.edges fix: retry keeps the error of a non-final attempt readable', (t) => {
  const { db } = freshDb(t);
  const id = enqueue(db, 'q', 'a');
  claim(db, 'q', 'w');
  t.is(scalar(db, "SELECT honker_retry(?, 'w', 0, 'connection refused')", id), 1);
  t.is(JSON.parse(scalar<string>(db, 'SELECT honker_get_job(?)', id)).last_error, 'connection refused');
  t.deepEqual(db.prepare('SELECT attempt, error FROM _honker_job_errors WHERE job_id = ?').raw().all(id), [[1, 'connection refused']]);
  claim(db, 'q', 'w');
  t.is(scalar(db, "SELECT honker_ack(?, 'w')", id), 1);
  t.is(scalar(db, 'SELECT count(*) FROM _honker_job_errors'), 0, 'ack forgets the errors');
});

test('queue.edges fix: next_claim_at reports a due job or a just-lapsed claim instead of 0', (t) => {
  const { db } = freshDb(t);
  const now = () => scalar<number>(db, 'SELECT unixepoch()');
  t.is(scalar(db, "SELECT honker_queue_next_claim_at('q')"), 0);
  const id = enqueue(db, 'q', 'a');
  t.true(scalar<number>(db, "SELECT honker_queue_next_claim_at('q')") >= now() - 1);
  claim(db, 'q', 'w', 1, 100);
  t.is(scalar(db, "SELECT honker_queue_next_claim_at('q')"), scalar(db, 'SELECT claim_expires_at + 1 FROM _honker_live'));
  lapse(db, id);
  const at = scalar<number>(db, "SELECT honker_queue_next_claim_at('q')");
  t.true(at !== 0 && at <= now());
  // A lapsed final attempt (its worker died) is a time to wake: the claim made then buries it.
  db.prepare('UPDATE _honker_live SET attempts = max_attempts').run();
  const atFinal = scalar<number>(db, "SELECT honker_queue_next_claim_at('q')");
  t.true(atFinal !== 0 && atFinal <= now(), 'a lapsed final attempt is waited for');
  t.is(scalar(db, "SELECT honker_claim_batch('q', 'w2', 1, 30)"), '[]');
  t.is(scalar(db, 'SELECT count(*) FROM _honker_dead WHERE id = ?', id), 1, 'the claim buried it');
  t.is(scalar(db, "SELECT honker_queue_next_claim_at('q')"), 0);
});

test('queue.edges: next_claim_at never passes 9999-12-31T23:59:59Z, for a claim that lapses at it or a row stored beyond it', (t) => {
  const { db } = freshDb(t);
  const MAX = 253402300799;
  enqueue(db, 'q', 'a');
  claim(db, 'q', 'w', 1, 60);
  db.prepare('UPDATE _honker_live SET claim_expires_at = ?').run(MAX); // the longest visibility timeout there is
  t.is(scalar(db, "SELECT honker_queue_next_claim_at('q')"), MAX, 'not one second past it');
  // honker 0.4 has no bound: its rows may hold any time.
  db.prepare("UPDATE _honker_live SET claim_expires_at = 9223372036854775807").run();
  t.is(scalar(db, "SELECT honker_queue_next_claim_at('q')"), MAX);
  db.prepare("UPDATE _honker_live SET state = 'pending', worker_id = NULL, claim_expires_at = NULL, run_at = ?").run(MAX + 1000);
  t.is(scalar(db, "SELECT honker_queue_next_claim_at('q')"), MAX);
});

/** Every *_SQL constant of the queue's C files, as SQLite sees it. */
function queueStatements(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const file of ['queue.c', 'queue_ack.c', 'queue_claim.c']) {
    let src = readFileSync(path.join(repoRoot, 'ext', file), 'utf8');
    // string macros (#define NAME "..." \ "..."), spliced where a statement names them
    for (const m of src.matchAll(/#define (\w+)((?:\s*\\?\s*"(?:[^"\\]|\\.)*")+)\s*\n(?!\s*")/g)) {
      src = src.replace(new RegExp(`(=\\s*)${m[1]}\\b`, 'g'), `$1${m[2].replace(/\\\n/g, '\n')}`);
    }
    for (const m of src.matchAll(/static const char (\w+_SQL)\[\] =((?:\s*"(?:[^"\\]|\\.)*")+);/g)) {
      const sql = [...m[2].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((s) => s[1].replace(/\\"/g, '"')).join('');
      out.push([m[1], sql]);
    }
  }
  return out;
}

test('queue.edges fix: every queue statement searches an index, none scans a table', (t) => {
  const { db } = freshDb(t);
  const statements = queueStatements();
  t.true(statements.length >= 30);
  const plans = new Map<string, string>();
  for (const [name, sql] of statements) {
    // numbered parameters as plain ones, bound to NULL: the plan does not depend on values
    const anon = sql.replace(/\?\d+/g, '?');
    const count = (anon.match(/\?/g) ?? []).length;
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${anon}`).all(...Array(count).fill(null)) as Array<{ detail: string }>;
    const plan = rows.map((r) => r.detail).join('; ');
    plans.set(name, plan);
    t.notRegex(plan, /SCAN _honker_(live|dead|job_errors)\b/, `${name}: ${plan}`);
  }
  t.regex(plans.get('LAPSED_SQL')!, /_honker_live_processing_deadline \(queue=\? AND claim_expires_at<\?\)/);
  t.regex(plans.get('TOP_PRIORITY_SQL')!, /_honker_live_ready \(queue=\?\)/);
  t.regex(plans.get('NEXT_PRIORITY_SQL')!, /_honker_live_ready \(queue=\? AND priority<\?\)/);
  t.regex(plans.get('DUE_AT_PRIORITY_SQL')!, /_honker_live_ready \(queue=\? AND priority=\? AND run_at<\?\)/);
  t.notRegex(plans.get('DUE_AT_PRIORITY_SQL')!, /TEMP B-TREE/);
  // schema 4: the probes find due and future rows per priority level, through _honker_live_ready
  for (const name of ['CLAIM_PROBE_SQL', 'NEXT_CLAIM_SQL']) {
    t.regex(plans.get(name)!, /_honker_live_ready \(queue=\? AND priority=\? AND run_at<\?\)/, name);
    t.notRegex(plans.get(name)!, /_honker_live_(claim|pending_deadline)/, name);
  }
  t.regex(plans.get('NEXT_CLAIM_SQL')!, /_honker_live_ready \(queue=\? AND priority=\? AND run_at>\?\)/);
});

/** Median microseconds of `iterations` claim(1) + ack pairs on q; feed() runs untimed before each. */
function medianClaimAck(db: Db, iterations: number, feed: () => void): number {
  const claimStmt = db.prepare("SELECT honker_claim_batch('q', 'w', 1, 30)").pluck();
  const ackStmt = db.prepare("SELECT honker_ack(?, 'w')").pluck();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    feed();
    const t0 = process.hrtime.bigint();
    const [job] = JSON.parse(claimStmt.get() as string) as Job[];
    ackStmt.get(job.id);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)];
}

test('queue.edges fix: claim cost does not grow with due, in-flight or future higher-priority rows', (t) => {
  // honker 0.4: ~100x slower with these backlogs (it walks them on every claim);
  // ours measures ~1.5x. The bound is loose because the machine is shared.
  const { db } = freshDb(t);
  const one = () => enqueue(db, 'q', 'one');
  const empty = medianClaimAck(db, 300, one);
  const fill = (n: number, values: string) =>
    db.exec(
      `WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < ${n})
       INSERT INTO _honker_live (queue, payload, state, priority, run_at, worker_id, claim_expires_at, attempts)
       SELECT ${values} FROM s`,
    );
  fill(40_000, "'q', 'x', 'processing', 0, unixepoch() - 10, 'other', unixepoch() + 3600, 1");
  fill(20_000, "'q', 'x', 'pending', 10, unixepoch() + 3600, NULL, NULL, 0");
  const inFlight = medianClaimAck(db, 300, one);
  fill(20_000, "'q', 'x', 'pending', 0, unixepoch() - 10, NULL, NULL, 0");
  const due = medianClaimAck(db, 300, () => {});
  t.log(`median claim+ack: empty ${empty.toFixed(0)} µs, in-flight+future ${inFlight.toFixed(0)} µs, +20k due ${due.toFixed(0)} µs`);
  t.true(inFlight < 20 * empty, `in-flight + future: ${inFlight} µs vs ${empty} µs`);
  t.true(due < 20 * empty, `20k due: ${due} µs vs ${empty} µs`);
});

test('queue.edges claim_batch with nothing claimable answers from a read, without the write lock', (t) => {
  const { db, file } = freshDb(t);
  const writer = openDb(file);
  t.teardown(() => writer.close());
  enqueue(db, 'q', 'later', { delay: 3600 });
  writer.exec('BEGIN IMMEDIATE'); // another process holds the write lock
  db.pragma('busy_timeout = 0');
  t.is(scalar(db, "SELECT honker_claim_batch('q', 'w', 5, 30)"), '[]');
  // A due job needs the lock: the same call now waits for it (and fails at once with timeout 0).
  writer.exec('ROLLBACK');
  enqueue(db, 'q', 'now');
  writer.exec('BEGIN IMMEDIATE');
  t.regex(sqlError(t, db, "SELECT honker_claim_batch('q', 'w', 5, 30)"), /database is locked/);
  writer.exec('ROLLBACK');
});

test('queue.edges: job ids are never reused, even after the newest job is acked, cancelled or dead and purged (results are keyed by job id)', (t) => {
  const { db } = freshDb(t);
  const seen: number[] = [];
  const fresh = (): number => {
    const id = enqueue(db, 'q', `job-${seen.length}`);
    t.true(seen.every((old) => id > old), `id ${id} after ${seen.join(',')}`);
    seen.push(id);
    return id;
  };
  // the newest job leaves each way a job can leave _honker_live, and the next id is still new
  let id = fresh();
  t.is(scalar(db, "SELECT honker_ack(?, 'w')", claim(db, 'q', 'w', 1)[0].id), 1);
  t.is(scalar(db, 'SELECT count(*) FROM _honker_live'), 0);
  id = fresh();
  t.is(scalar(db, 'SELECT honker_cancel(?)', id), 1);
  id = fresh();
  t.is(scalar(db, "SELECT honker_fail(?, 'w', 'boom')", claim(db, 'q', 'w', 1)[0].id), 1);
  t.is(scalar(db, "SELECT honker_dead_purge('q', 0)"), 1);
  t.is(scalar(db, 'SELECT count(*) FROM _honker_live') as number + (scalar(db, 'SELECT count(*) FROM _honker_dead') as number), 0);
  t.is(scalar(db, "SELECT honker_result_save(?, 'old', 0)", id), 1);
  const next = fresh();
  t.is(scalar(db, 'SELECT honker_result_get(?)', next), null, 'the new job does not see the old job\'s result');
  // a unique enqueue, and a raw INSERT by another writer (honker 0.4's enqueue has no id)
  const unique = scalar<number>(db, "SELECT honker_enqueue_unique('q', 'k', 'u', NULL, NULL, 0, 3, NULL)");
  t.true(unique > next);
  t.is(scalar(db, 'SELECT honker_cancel(?)', unique), 1);
  db.prepare("INSERT INTO _honker_live (queue, payload) VALUES ('q', 'raw')").run();
  t.true(scalar<number>(db, "SELECT id FROM _honker_live WHERE payload = 'raw'") > unique);
});
