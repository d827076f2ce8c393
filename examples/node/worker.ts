// npx tsx worker.ts [db] [queue] [worker_id]: claim, handle, ack; sleep until the next commit.
import { open } from 'honker';

const [path = 'app.db', queue = 'orders', worker = `node-${process.pid}`] = process.argv.slice(2);
const nowMs = () => performance.timeOrigin + performance.now(); // wall clock, sub-millisecond
const db = open(path);
const ac = new AbortController();
process.on('SIGINT', () => ac.abort()); // stop claiming; the loop ends and the file closes
process.on('SIGTERM', () => ac.abort());
// The iterator registers the worker (honker_worker_register): if this process dies, its jobs come
// back within about a second.

// The iterator claims up to 10 jobs for 30 s each and, when none is due, sleeps until a commit
// from any process (its own inotify watcher) or the next due time: no polling.
const jobs = db.queue<{ order?: number; fail?: boolean }>(queue).claim(worker, {
  signal: ac.signal,
  batchSize: 10,
  visibilityTimeoutS: 30,
});
for await (const job of jobs) {
  const wokeMs = nowMs(); // when the iterator handed us the job (it woke just before)
  let outcome: string;
  if (job.payload.fail) { // the handler failed: try again in 1 s (dead after maxAttempts)
    job.retry({ delayS: 1, error: 'payload asked to fail' });
    outcome = 'retried';
  } else { // "ship" the order, then ack: the job is deleted
    job.ack();
    outcome = 'acked';
  }
  console.log(JSON.stringify({ id: job.id, attempts: job.attempts, outcome, woke_ms: wokeMs }));
}
db.close();
