/**
 * queue: every multi-statement queue function applies all of its work or
 * none (spec/sql.md "Atomicity"). A later step is forced to fail by a
 * conflicting row planted beforehand (a _honker_dead row with the job's id
 * makes the dead-letter INSERT fail); the live row must be left unchanged.
 */
import test from './helpers/test.js';
import { freshDb, scalar, sqlError, type Db } from './helpers/db.js';

/** Enqueue one job on q and return its id. */
function enqueue(db: Db, q: string, maxAttempts = 3, expiresS: number | null = null): number {
  return scalar<number>(db, 'SELECT honker_enqueue(?, ?, NULL, NULL, 0, ?, ?)', q, `payload of ${q}`, maxAttempts, expiresS);
}

function liveRow(db: Db, id: number): unknown {
  return db.prepare('SELECT * FROM _honker_live WHERE id = ?').get(id);
}

/** Plant a dead row with this id so moving the job to dead fails. */
function plantDead(db: Db, id: number): void {
  db.prepare("INSERT INTO _honker_dead (id, queue, payload) VALUES (?, 'elsewhere', 'planted')").run(id);
}

const deadConflict = (fn: string) => `${fn}: UNIQUE constraint failed: _honker_dead.id`;

test('queue.atomicity honker_fail: a failed dead-letter insert leaves the claim and records no error', (t) => {
  const { db } = freshDb(t);
  const id = enqueue(db, 'q');
  scalar(db, "SELECT honker_claim_batch('q', 'w', 1, 60)");
  const before = liveRow(db, id);
  plantDead(db, id);
  t.is(sqlError(t, db, "SELECT honker_fail(?, 'w', 'boom')", id), deadConflict('honker_fail'));
  t.deepEqual(liveRow(db, id), before);
  t.is(scalar(db, 'SELECT count(*) FROM _honker_job_errors'), 0);
  t.true(db.inTransaction === false);
});

test('queue.atomicity honker_retry: the final attempt failing to reach dead changes nothing', (t) => {
  const { db } = freshDb(t);
  const id = enqueue(db, 'q', 1);
  scalar(db, "SELECT honker_claim_batch('q', 'w', 1, 60)");
  const before = liveRow(db, id);
  plantDead(db, id);
  t.is(sqlError(t, db, "SELECT honker_retry(?, 'w', 0, 'boom')", id), deadConflict('honker_retry'));
  t.deepEqual(liveRow(db, id), before);
  t.is(scalar(db, 'SELECT count(*) FROM _honker_job_errors'), 0);
});

test('queue.atomicity honker_claim_batch: a failed dead-lettering claims nothing', (t) => {
  const { db } = freshDb(t);
  const exhausted = enqueue(db, 'q', 1);
  scalar(db, "SELECT honker_claim_batch('q', 'w', 1, 60)");
  db.prepare('UPDATE _honker_live SET claim_expires_at = unixepoch() - 5 WHERE id = ?').run(exhausted);
  const other = enqueue(db, 'q');
  const before = [liveRow(db, exhausted), liveRow(db, other)];
  plantDead(db, exhausted);
  t.is(sqlError(t, db, "SELECT honker_claim_batch('q', 'w2', 5, 60)"), deadConflict('honker_claim_batch'));
  t.deepEqual([liveRow(db, exhausted), liveRow(db, other)], before);
  // with the conflict gone the same call dead-letters one and claims the other
  db.prepare("DELETE FROM _honker_dead WHERE payload = 'planted'").run();
  const jobs = JSON.parse(scalar<string>(db, "SELECT honker_claim_batch('q', 'w2', 5, 60)"));
  t.deepEqual(jobs.map((j: { id: number }) => j.id), [other]);
  t.is(scalar(db, 'SELECT last_error FROM _honker_dead WHERE id = ?', exhausted), 'max attempts exceeded');
});

test('queue.atomicity honker_sweep_expired: one conflicting row keeps every expired row live', (t) => {
  const { db } = freshDb(t);
  const a = enqueue(db, 'q', 3, 100);
  const b = enqueue(db, 'q', 3, 100);
  db.prepare("UPDATE _honker_live SET expires_at = unixepoch() - 1 WHERE queue = 'q'").run();
  plantDead(db, b);
  t.is(sqlError(t, db, "SELECT honker_sweep_expired('q')"), deadConflict('honker_sweep_expired'));
  t.is(scalar(db, 'SELECT count(*) FROM _honker_live WHERE id IN (?, ?)', a, b), 2);
  t.is(scalar(db, "SELECT count(*) FROM _honker_dead WHERE queue = 'q'"), 0);
});

test('queue.atomicity honker_dead_requeue: a conflicting live id leaves the dead row', (t) => {
  const { db } = freshDb(t);
  const id = enqueue(db, 'q');
  scalar(db, "SELECT honker_claim_batch('q', 'w', 1, 60)");
  scalar(db, "SELECT honker_fail(?, 'w', 'boom')", id);
  const dead = db.prepare('SELECT * FROM _honker_dead WHERE id = ?').get(id);
  db.prepare("INSERT INTO _honker_live (id, queue, payload) VALUES (?, 'squatter', 'x')").run(id);
  t.is(sqlError(t, db, 'SELECT honker_dead_requeue(?)', id), 'honker_dead_requeue: UNIQUE constraint failed: _honker_live.id');
  t.deepEqual(db.prepare('SELECT * FROM _honker_dead WHERE id = ?').get(id), dead);
  t.is(scalar(db, 'SELECT queue FROM _honker_live WHERE id = ?', id), 'squatter');
});

test("queue.atomicity: inside the caller's transaction a failed call undoes only its own work", (t) => {
  const { db } = freshDb(t);
  const id = enqueue(db, 'q');
  scalar(db, "SELECT honker_claim_batch('q', 'w', 1, 60)");
  plantDead(db, id);
  db.exec('BEGIN');
  const mine = enqueue(db, 'mine');
  t.is(sqlError(t, db, "SELECT honker_fail(?, 'w', 'boom')", id), deadConflict('honker_fail'));
  t.true(db.inTransaction);
  db.exec('COMMIT');
  t.is(scalar(db, 'SELECT queue FROM _honker_live WHERE id = ?', mine), 'mine');
  t.is(scalar(db, 'SELECT state FROM _honker_live WHERE id = ?', id), 'processing');
  t.is(scalar(db, 'SELECT count(*) FROM _honker_job_errors'), 0);
});
