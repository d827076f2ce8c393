/**
 * Orphaned error rows (ext/queue.c "Orphaned errors"): honker 0.4 acks and
 * cancels jobs with a plain DELETE and knows nothing of _honker_job_errors,
 * so the error history we recorded for such a job stays behind. Our
 * housekeeping functions, honker_dead_purge and honker_sweep_expired, delete
 * those rows in bounded batches; nothing is added to an ack.
 * (test/compat.honker04.test.ts does the same with honker 0.4 acking.)
 */
import test from './helpers/test.js';
import { freshDb, scalar, type Db } from './helpers/db.js';

/** n jobs of queue 'q' retried once by worker 'w' (one error row each); returns their ids. */
function jobsWithErrors(db: Db, n: number): number[] {
  const enqueue = db.prepare("SELECT honker_enqueue('q', '{}', NULL, NULL, 0, 5, NULL)").pluck();
  const ids = db.transaction(() => Array.from({ length: n }, () => enqueue.get() as number))();
  const claimed = JSON.parse(scalar(db, "SELECT honker_claim_batch('q', 'w', ?, 60)", n)) as { id: number }[];
  const retry = db.prepare("SELECT honker_retry(?, 'w', 3600, 'boom')").pluck();
  db.transaction(() => claimed.forEach((j) => retry.get(j.id)))();
  return ids;
}

const errorRows = (db: Db): number => scalar(db, 'SELECT count(*) FROM _honker_job_errors');

for (const [fn, call] of [
  ['honker_dead_purge', "SELECT honker_dead_purge('other-queue', 0)"],
  ['honker_sweep_expired', "SELECT honker_sweep_expired('other-queue')"],
] as const) {
  test(`queue.orphans: ${fn} deletes the errors of jobs that are neither live nor dead, 1,000 jobs per call`, (t) => {
    const { db } = freshDb(t);
    const ids = jobsWithErrors(db, 1502);
    // A live job (1501) and a dead one (1502) keep their history; the rest were acked by honker 0.4.
    db.prepare(
      "UPDATE _honker_live SET state = 'processing', worker_id = 'w', claim_expires_at = unixepoch() + 60, attempts = 2 WHERE id = ?",
    ).run(ids[1501]); // claimed again
    t.is(scalar(db, "SELECT honker_fail(?, 'w', 'dead')", ids[1501]), 1);
    db.prepare('DELETE FROM _honker_live WHERE id <= ?').run(ids[1499]); // what honker 0.4's ack does
    t.is(errorRows(db), 1503);
    db.prepare(call).get();
    t.is(errorRows(db), 503, 'the first 1,000 jobs with errors');
    db.prepare(call).get();
    t.is(errorRows(db), 3, 'the next ones, up to the last');
    db.prepare(call).get();
    t.is(errorRows(db), 3, 'from the start again: nothing more to delete');
    t.deepEqual(db.prepare('SELECT job_id FROM _honker_job_errors ORDER BY job_id, attempt').pluck().all(), [ids[1500], ids[1501], ids[1501]]);
  });
}
