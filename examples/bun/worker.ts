// bun worker.ts [db] [queue] [worker_id]: claim, handle, ack; sleep until the next commit.
import { resolve } from 'node:path';
import { connect, one } from './honker-db.ts';

const [path = 'app.db', queue = 'orders', worker = `bun-${process.pid}`] = process.argv.slice(2);
type Job = { id: number; payload: string; attempts: number }; // payload: the payload's JSON text
const nowMs = () => performance.timeOrigin + performance.now(); // wall clock, sub-millisecond

const db = connect(path);
// The watcher's poller thread wakes our wait on any commit to the file, from any process. The wait
// blocks this thread, which is all a worker process does.
const watcher = one<number>(db, "SELECT honker_update_watcher_open(?, NULL)", resolve(path));
// Registered: if this process dies, its jobs come back within about a second.
one(db, 'SELECT honker_worker_register(?)', worker);

let wokeMs = nowMs();
for (;;) {
  const jobs: Job[] = JSON.parse(one(db, 'SELECT honker_claim_batch(?, ?, 10, 30)', queue, worker)); // up to 10, 30 s each
  for (const job of jobs) {
    let outcome: string;
    if (JSON.parse(job.payload).fail) { // the handler failed: try again in 1 s (dead after max_attempts)
      one(db, 'SELECT honker_retry(?, ?, 1, ?)', job.id, worker, 'payload asked to fail');
      outcome = 'retried';
    } else { // "ship" the order, then ack: the job is deleted
      one(db, 'SELECT honker_ack(?, ?)', job.id, worker);
      outcome = 'acked';
    }
    console.log(JSON.stringify({ id: job.id, attempts: job.attempts, outcome, woke_ms: wokeMs }));
  }
  if (jobs.length > 0) continue; // there may be more
  // Nothing due: sleep until a commit or the next due time (a retry's delay), never a fixed poll.
  const nextAt = one<number>(db, 'SELECT honker_queue_next_claim_at(?)', queue); // unix s, 0 = nothing scheduled
  const timeoutMs = nextAt === 0 ? -1 : Math.max(0, Math.floor(nextAt * 1000 - nowMs()));
  if (one<number>(db, 'SELECT honker_update_watcher_wait(?, ?)', watcher, timeoutMs) < 0) {
    throw new Error('watcher died (database file replaced?)');
  }
  wokeMs = nowMs();
}
