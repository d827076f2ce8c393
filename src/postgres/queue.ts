/**
 * Queues on Postgres: the same names as src/queue.ts, each method one
 * `SELECT honker_*(…)` (pg/queue*.sql), async where Postgres needs it
 * (`await q.enqueue(…)`). Arguments are checked synchronously, before
 * anything is sent, with the SQLite client's checks and messages
 * (enqueueArgs, validate.ts): a bad one throws, it does not reject.
 *
 * The claim iterator claims in batches, hands jobs out one at a time and,
 * when the queue is empty, sleeps on the database's LISTEN connection until a
 * commit makes work on this queue (honker_wake 'q:<queue>'), the queue's next
 * deadline (a delayed job's run_at or a lapsed claim: ClaimClock, shared with
 * the SQLite client) or an abort — never a fixed poll. While it runs, its
 * workerId is registered on that connection (pg/lifeline.sql), so if this
 * process dies its jobs are claimable again within about a second.
 */
import { HonkerError } from '../errors.js';
import { envelopeText } from '../envelope.js';
import { parsePayload } from '../payload.js';
import {
  ackBatchArgs,
  ClaimClock,
  claimIteratorArgs,
  claimNowArgs,
  enqueueArgs,
  errorText,
  jobRow,
  queueSettings,
  retryArgs,
  type ClaimedRow,
  type ClaimOptions,
  type EnqueueOptions,
  type JobRow,
  type QueueOptions,
  type QueueStats,
} from '../queue.js';
import { definePeriodicTask, defineTask, undefineTask, type TaskContext, type TaskOptions } from '../task.js';
import * as validate from '../validate.js';
import { wakeLoop } from '../wake.js';
import type { PgConnection } from './connection.js';
import { PgDeadLetters } from './dead.js';
import { PgLifeline } from './lifeline.js';
import { PgScheduler } from './scheduler.js';
import { makePgTask, type PgTask } from './task.js';
import { wakeKey } from './watcher.js';

/** @internal the earliest honker_queue_next_claim_at of queues (0 when none has one). */
export async function nextClaimAt(db: PgConnection, queues: readonly string[]): Promise<number> {
  let next = 0;
  for (const q of queues) {
    const at = await db.int('SELECT honker_queue_next_claim_at($1) AS v', [q]);
    if (at !== 0 && (next === 0 || at < next)) next = at;
  }
  return next;
}

/** @internal hand claimed jobs that never started back to pending (honker_release); returns those released. */
export async function releaseJobs<T>(db: PgConnection, jobs: readonly PgJob<T>[]): Promise<PgJob<T>[]> {
  const out: PgJob<T>[] = [];
  for (const job of jobs) {
    if ((await db.int('SELECT honker_release($1, $2) AS v', [job.id, job.workerId])) === 1) out.push(job);
  }
  return out;
}

/** A claimed job. Settle it once: ack, retry or fail. */
export class PgJob<T> {
  readonly id: number;
  readonly queue: string;
  readonly payload: T;
  readonly workerId: string;
  /** This attempt's number (1 for the first run). */
  readonly attempts: number;
  /** Unix seconds at which the claim lapses unless heartbeat() extends it. */
  claimExpiresAt: number;

  /** @internal */
  constructor(
    private readonly db: PgConnection,
    row: ClaimedRow,
  ) {
    this.id = row.id;
    this.queue = row.queue;
    this.payload = parsePayload<T>(row.payload);
    this.workerId = row.worker_id;
    this.attempts = row.attempts;
    this.claimExpiresAt = row.claim_expires_at;
  }

  /** Finish the job (deletes it). False when the claim was lost (expired and reclaimed, or cancelled). */
  ack(): Promise<boolean> {
    this.db.assertOpen('job.ack');
    return this.db.int('SELECT honker_ack($1, $2) AS v', [this.id, this.workerId]).then((v) => v === 1);
  }

  /**
   * Run fn(tx) and ack the job in ONE transaction, and return what fn
   * returned: fn's writes through `tx` (and `tx.client`) commit together
   * with the ack, exactly once. When the claim was lost, they roll back and
   * this rejects with a CLAIM_LOST HonkerError.
   */
  ackWith<R>(fn: (tx: PgConnection) => Promise<R> | R): Promise<R> {
    if (typeof fn !== 'function') throw validate.invalid('job.ackWith', 'fn', 'be a function', fn);
    this.db.assertOpen('job.ackWith');
    return this.db.transaction(async (tx) => {
      const result = await fn(tx);
      if ((await tx.int('SELECT honker_ack($1, $2) AS v', [this.id, this.workerId])) !== 1) {
        throw new HonkerError('CLAIM_LOST', `job.ackWith: the claim of job ${this.id} was lost (it lapsed or was cancelled); nothing was written`);
      }
      return result;
    });
  }

  /** Run it again after delayS (default 0), or dead-letter it when attempts are used up. */
  retry(options?: { delayS?: number; error?: string }): Promise<boolean> {
    const { delayS, error } = retryArgs(options);
    this.db.assertOpen('job.retry');
    return this.db.int('SELECT honker_retry($1, $2, $3, $4) AS v', [this.id, this.workerId, delayS, error]).then((v) => v === 1);
  }

  /** Dead-letter the job now with error. */
  fail(error?: unknown): Promise<boolean> {
    this.db.assertOpen('job.fail');
    const text = errorText(error, 'failed');
    return this.db.int('SELECT honker_fail($1, $2, $3) AS v', [this.id, this.workerId, text]).then((v) => v === 1);
  }

  /** Extend the claim to now + extendS; false when the claim already lapsed. */
  heartbeat(extendS: number): Promise<boolean> {
    validate.seconds('job.heartbeat', 'extendS', extendS, 1);
    this.db.assertOpen('job.heartbeat');
    return this.db.int('SELECT honker_heartbeat($1, $2, $3) AS v', [this.id, this.workerId, extendS]).then(async (v) => {
      if (v !== 1) return false;
      const row = jobRow(await this.db.value<string>('SELECT honker_get_job($1) AS v', [this.id]));
      this.claimExpiresAt = row?.claimExpiresAt ?? Math.floor(Date.now() / 1000) + extendS;
      return true;
    });
  }
}

export class PgQueue<T = unknown> {
  readonly name: string;
  readonly visibilityTimeoutS: number;
  readonly maxAttempts: number;
  /** Dead letters of this queue. */
  readonly dead: PgDeadLetters<T>;

  /** @internal use db.queue(name) */
  constructor(
    private readonly db: PgConnection,
    name: string,
    options?: QueueOptions,
  ) {
    ({ name: this.name, visibilityTimeoutS: this.visibilityTimeoutS, maxAttempts: this.maxAttempts } = queueSettings(name, options));
    this.dead = new PgDeadLetters<T>(db, this.name);
  }

  /** Add a job; inside db.transaction it commits with the transaction. Resolves with the job id. */
  enqueue(payload: T, options?: EnqueueOptions): Promise<number> {
    const a = enqueueArgs('queue.enqueue', payload, options, this.maxAttempts);
    this.db.assertOpen('queue.enqueue');
    if (a.key !== undefined) {
      return this.db.int('SELECT honker_enqueue_unique($1, $2, $3, $4, $5, $6, $7, $8) AS v', [
        this.name,
        a.key,
        a.text,
        a.runAt,
        a.delayS,
        a.priority,
        a.maxAttempts,
        a.expiresS,
      ]);
    }
    return this.db.int('SELECT honker_enqueue($1, $2, $3, $4, $5, $6, $7) AS v', [
      this.name,
      a.text,
      a.runAt,
      a.delayS,
      a.priority,
      a.maxAttempts,
      a.expiresS,
    ]);
  }

  /** Register a task handler of this queue; the returned function enqueues calls (see task.ts). */
  task<A extends unknown[], R>(name: string, fn: (this: TaskContext, ...args: A) => R, options?: TaskOptions): PgTask<A, Awaited<R>> {
    const root = this.db.root;
    return makePgTask(root, defineTask(root, this, 'queue.task', name, fn, options, { asyncTransaction: true }));
  }

  /**
   * A task with no arguments that the scheduler enqueues on `schedule` (entry
   * named `name`); resolves once the schedule entry is stored.
   */
  async periodicTask<R>(schedule: string, name: string, fn: (this: TaskContext) => R, options?: TaskOptions): Promise<PgTask<[], Awaited<R>>> {
    const root = this.db.root;
    const def = definePeriodicTask(root, this, name, fn, options, { asyncTransaction: true });
    try {
      await new PgScheduler(this.db).add({
        name,
        queue: this.name,
        schedule,
        payload: JSON.parse(envelopeText('queue.periodicTask', name, [])),
        priority: def.priority,
        expiresS: def.expiresS,
        maxAttempts: def.maxAttempts,
      });
    } catch (err) {
      undefineTask(root, def);
      throw err;
    }
    return makePgTask(root, def);
  }

  /** Claim up to n jobs now (possibly none). */
  claimBatch(workerId: string, n: number, options?: { visibilityTimeoutS?: number }): Promise<PgJob<T>[]> {
    return this.claimChecked('queue.claimBatch', workerId, n, options);
  }

  /** Claim one job now, or null when none is due. */
  claimOne(workerId: string, options?: { visibilityTimeoutS?: number }): Promise<PgJob<T> | null> {
    return this.claimChecked('queue.claimOne', workerId, 1, options).then((jobs) => jobs[0] ?? null);
  }

  private claimChecked(where: string, workerId: string, n: number, options: { visibilityTimeoutS?: number } | undefined): Promise<PgJob<T>[]> {
    const timeout = claimNowArgs(where, workerId, n, options, this.visibilityTimeoutS);
    this.db.assertOpen(where);
    return this.claimNow(workerId, n, timeout);
  }

  /** Ack several jobs claimed by workerId; resolves with how many were still validly claimed. */
  ackBatch(ids: readonly number[], workerId: string): Promise<number> {
    const idsJson = ackBatchArgs(ids, workerId);
    this.db.assertOpen('queue.ackBatch');
    return this.db.int('SELECT honker_ack_batch($1, $2) AS v', [idsJson, workerId]);
  }

  /**
   * Jobs as they become claimable, until signal aborts or the database
   * closes (see the file header). Settle each job before taking the next;
   * claimed jobs not handed out yet go back to pending when it stops.
   */
  claim(workerId: string, options?: ClaimOptions): AsyncGenerator<PgJob<T>, void, undefined> {
    const { signal, batchSize, timeoutS } = claimIteratorArgs(workerId, options, this.visibilityTimeoutS);
    this.db.assertOpen('queue.claim');
    this.db.pgWatcher(); // LISTEN before the first claim
    return this.claimLoop(workerId, signal, batchSize, timeoutS);
  }

  private async *claimLoop(workerId: string, signal: AbortSignal | undefined, batchSize: number, timeoutS: number): AsyncGenerator<PgJob<T>, void, undefined> {
    const clock = new ClaimClock();
    const lifeline = new PgLifeline(this.db, workerId);
    let unhanded: PgJob<T>[] = [];
    const sub = await this.db.subscribe([wakeKey('q', this.name)]);
    try {
      for (const wake = wakeLoop(sub, { signal }); wake.look(); await wake.sleep()) {
        clock.look(wake);
        await lifeline.ensure();
        const jobs = await this.claimNow(workerId, batchSize, timeoutS);
        if (jobs.length === 0) {
          clock.schedule(wake, await nextClaimAt(this.db, [this.name]));
          continue;
        }
        clock.found();
        unhanded = jobs;
        while (unhanded.length > 0) {
          yield unhanded.shift() as PgJob<T>;
          if (wake.stopped()) return;
        }
        wake.again();
      }
    } finally {
      sub.close();
      if (unhanded.length > 0 && this.db.isOpen) await releaseJobs(this.db, unhanded).catch(() => undefined);
      await lifeline.release();
    }
  }

  /** Counts by state (pending = due now, scheduled = delayed). */
  async stats(): Promise<QueueStats> {
    this.db.assertOpen('queue.stats');
    return JSON.parse(await this.db.value<string>('SELECT honker_queue_stats($1) AS v', [this.name])) as QueueStats;
  }

  /** A live job (pending or processing), or null once it finished, died or never existed. */
  getJob(id: number): Promise<JobRow<T> | null> {
    validate.int('queue.getJob', 'id', id, 1);
    this.db.assertOpen('queue.getJob');
    return this.db.value<string>('SELECT honker_get_job($1) AS v', [id]).then((text) => jobRow<T>(text));
  }

  /** Delete a live job whatever its state; true when it existed. */
  cancel(id: number): Promise<boolean> {
    validate.int('queue.cancel', 'id', id, 1);
    this.db.assertOpen('queue.cancel');
    return this.db.int('SELECT honker_cancel($1) AS v', [id]).then((v) => v === 1);
  }

  /** Move jobs whose expiresS passed to the dead letters; resolves with how many. */
  sweepExpired(): Promise<number> {
    this.db.assertOpen('queue.sweepExpired');
    return this.db.int('SELECT honker_sweep_expired($1) AS v', [this.name]);
  }

  /** @internal */
  async claimNow(workerId: string, n: number, timeoutS: number): Promise<PgJob<T>[]> {
    const text = await this.db.value<string>('SELECT honker_claim_batch($1, $2, $3, $4) AS v', [this.name, workerId, n, timeoutS]);
    return (JSON.parse(text) as ClaimedRow[]).map((row) => new PgJob<T>(this.db, row));
  }
}
