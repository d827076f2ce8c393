/**
 * Queues: enqueue, claim, ack, retry, fail, heartbeat, stats and the dead
 * letters, each one `SELECT honker_*(…)` call into the extension.
 *
 * The claim iterator claims in batches, hands jobs out one at a time, and
 * when the queue is empty sleeps on the database's watcher until a commit
 * from any process, the queue's next deadline (a delayed job's run_at or a
 * lapsed claim) or an abort — never a fixed poll of the queue table. While it
 * runs its workerId is registered (lifeline.ts): if this process dies, its
 * jobs are claimable again within about a second.
 */
import type { Connection } from './connection.js';
import { DeadLetters } from './dead.js';
import { envelopeText } from './envelope.js';
import { HonkerError } from './errors.js';
import { Lifeline } from './lifeline.js';
import { parsePayload } from './payload.js';
import { Scheduler } from './scheduler.js';
import { definePeriodicTask, defineTask, makeTask, undefineTask, type Task, type TaskContext, type TaskOptions } from './task.js';
import * as validate from './validate.js';
import { wakeLoop, type WakeLoop } from './wake.js';

export interface QueueOptions {
  /** Seconds a claim stays valid before another worker may reclaim the job (default 300). */
  visibilityTimeoutS?: number;
  /** Attempts (first run + retries) before a job is dead-lettered (default 3). */
  maxAttempts?: number;
}

export interface EnqueueOptions {
  /** Run no earlier than now + delayS seconds (wins over runAt). */
  delayS?: number;
  /** Run no earlier than this time: a Date or unix seconds. */
  runAt?: Date | number;
  /** Higher runs first (default 0). */
  priority?: number;
  /** Drop the job (to the dead letters, by sweepExpired) if not started within expiresS seconds. */
  expiresS?: number;
  /** Attempts before dead-lettering; defaults to the queue's maxAttempts. */
  maxAttempts?: number;
  /** Idempotency key: while a live job of this queue holds the key, enqueue returns its id. */
  key?: string;
}

export interface ClaimOptions {
  signal?: AbortSignal;
  /** Jobs claimed per round trip (default 1). */
  batchSize?: number;
  /** Overrides the queue's visibilityTimeoutS for these claims. */
  visibilityTimeoutS?: number;
}

export interface QueueStats {
  /** Due now. */
  pending: number;
  /** Waiting for their run_at. */
  scheduled: number;
  processing: number;
  dead: number;
}

/** A job as stored (getJob). */
export interface JobRow<T> {
  id: number;
  queue: string;
  payload: T;
  state: 'pending' | 'processing';
  priority: number;
  runAt: number;
  workerId: string | null;
  claimExpiresAt: number | null;
  attempts: number;
  maxAttempts: number;
  createdAt: number;
  expiresAt: number | null;
  lastError: string | null;
}

const QUEUE_OPTIONS = ['visibilityTimeoutS', 'maxAttempts'] as const;
const ENQUEUE_OPTIONS = ['delayS', 'runAt', 'priority', 'expiresS', 'maxAttempts', 'key'] as const;
const CLAIM_OPTIONS = ['signal', 'batchSize', 'visibilityTimeoutS'] as const;

/** @internal the error text recorded for a retry or failure: an Error's message, or the value as text. */
export function errorText(error: unknown, fallback: string): string {
  if (error === undefined) return fallback;
  return error instanceof Error ? error.message : String(error);
}

/** The arguments of honker_enqueue(_unique) from queue.enqueue's payload and options (checked; engine-independent). */
export interface EnqueueArgs {
  text: string;
  runAt: number | null;
  delayS: number | null;
  priority: number;
  maxAttempts: number;
  expiresS: number | null;
  key: string | undefined;
}

/** @internal db.queue's name and options, checked (both engines). */
export function queueSettings(name: unknown, options: QueueOptions | undefined): { name: string; visibilityTimeoutS: number; maxAttempts: number } {
  const opts = validate.options('db.queue', options, QUEUE_OPTIONS);
  return {
    name: validate.name('db.queue', 'name', name),
    visibilityTimeoutS: validate.optSeconds('db.queue', 'visibilityTimeoutS', opts.visibilityTimeoutS, 1) ?? 300,
    maxAttempts: validate.optInt('db.queue', 'maxAttempts', opts.maxAttempts, 1) ?? 3,
  };
}

/** @internal claimBatch/claimOne's arguments, checked (both engines): the visibility timeout to claim with. */
export function claimNowArgs(where: string, workerId: unknown, n: unknown, options: { visibilityTimeoutS?: number } | undefined, queueTimeoutS: number): number {
  validate.name(where, 'workerId', workerId);
  validate.int(where, 'n', n, 0);
  const opts = validate.options(where, options, ['visibilityTimeoutS']);
  return validate.optSeconds(where, 'visibilityTimeoutS', opts.visibilityTimeoutS, 1) ?? queueTimeoutS;
}

/** @internal queue.claim's arguments, checked (both engines). */
export function claimIteratorArgs(workerId: unknown, options: ClaimOptions | undefined, queueTimeoutS: number): { signal: AbortSignal | undefined; batchSize: number; timeoutS: number } {
  const where = 'queue.claim';
  const opts = validate.options(where, options, CLAIM_OPTIONS);
  validate.name(where, 'workerId', workerId);
  return {
    signal: validate.signal(where, opts.signal),
    batchSize: validate.optInt(where, 'batchSize', opts.batchSize, 1) ?? 1,
    timeoutS: validate.optSeconds(where, 'visibilityTimeoutS', opts.visibilityTimeoutS, 1) ?? queueTimeoutS,
  };
}

/** @internal queue.ackBatch's arguments, checked (both engines): the ids as honker_ack_batch's JSON. */
export function ackBatchArgs(ids: unknown, workerId: unknown): string {
  const where = 'queue.ackBatch';
  if (!Array.isArray(ids)) throw validate.invalid(where, 'ids', 'be an array of job ids', ids);
  ids.forEach((id, i) => validate.int(where, `ids[${i}]`, id, 1));
  validate.name(where, 'workerId', workerId);
  return JSON.stringify(ids);
}

/** @internal job.retry's options, checked (both engines). */
export function retryArgs(options: { delayS?: number; error?: string } | undefined): { delayS: number; error: string } {
  const opts = validate.options('job.retry', options, ['delayS', 'error']);
  return { delayS: validate.optSeconds('job.retry', 'delayS', opts.delayS, 0) ?? 0, error: errorText(opts.error, 'retried') };
}

/** @internal check queue.enqueue's payload and options (both engines): what the SQL call takes. */
export function enqueueArgs(where: string, payload: unknown, options: EnqueueOptions | undefined, queueMaxAttempts: number): EnqueueArgs {
  const opts = validate.options(where, options, ENQUEUE_OPTIONS);
  const text = validate.json(where, 'payload', payload);
  const delayS = validate.optSeconds(where, 'delayS', opts.delayS, 0);
  const runAt = opts.runAt === undefined ? undefined : validate.time(where, 'runAt', opts.runAt);
  const priority = opts.priority === undefined ? 0 : validate.anyInt(where, 'priority', opts.priority);
  const expiresS = validate.optSeconds(where, 'expiresS', opts.expiresS, 1);
  const maxAttempts = validate.optInt(where, 'maxAttempts', opts.maxAttempts, 1) ?? queueMaxAttempts;
  const key = opts.key === undefined ? undefined : validate.name(where, 'key', opts.key);
  return { text, runAt: runAt ?? null, delayS: delayS ?? null, priority, maxAttempts, expiresS: expiresS ?? null, key };
}

/** A queue's counts as honker_queues_stats returns them (both engines; the command line and the dashboard). */
export interface QueueStatsRecord {
  queue: string;
  pending: number;
  scheduled: number;
  processing: number;
  dead: number;
  oldest_pending_at: number | null;
}

/**
 * A live job as the SQL returns it (honker_get_job, honker_job_list; both
 * engines): JobRow's fields with their SQL names, the payload as stored
 * text. What the command line and the dashboard read.
 */
export interface LiveJobRecord {
  id: number;
  queue: string;
  payload: string;
  state: string;
  priority: number;
  run_at: number;
  worker_id: string | null;
  claim_expires_at: number | null;
  attempts: number;
  max_attempts: number;
  created_at: number;
  expires_at: number | null;
  last_error: string | null;
}

/** @internal a honker_get_job result ('' when no such live job) as a JobRow (both engines). */
export function jobRow<T>(text: string): JobRow<T> | null {
  if (!text) return null;
  const r = JSON.parse(text) as LiveJobRecord;
  return {
    id: r.id,
    queue: r.queue,
    payload: parsePayload<T>(r.payload),
    state: r.state as 'pending' | 'processing',
    priority: r.priority,
    runAt: r.run_at,
    workerId: r.worker_id ?? null,
    claimExpiresAt: r.claim_expires_at ?? null,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    createdAt: r.created_at,
    expiresAt: r.expires_at ?? null,
    lastError: r.last_error ?? null,
  };
}

/**
 * When to claim again after a claim found nothing: the rule the claim
 * iterator and the worker share. `next` is the earliest
 * honker_queue_next_claim_at of the queues (0: none).
 *   - nothing scheduled: only a commit can bring work;
 *   - a deadline ahead (a delayed job's run_at, a claim's lapse): wake then;
 *   - a deadline already due, yet the claim found nothing: the second turned
 *     (or a commit landed) between the two reads, so look again at once —
 *     and if that finds nothing too, other workers are taking these jobs:
 *     look again at the next second.
 * A claim that found jobs, or a wake by a commit, starts the rule over.
 */
export class ClaimClock {
  private missed = false;

  /** Call at each look before claiming; call found() when a claim returned jobs. */
  look(wake: WakeLoop): void {
    if (wake.reason === 'change') this.missed = false;
  }

  found(): void {
    this.missed = false;
  }

  /** After an empty claim: tell wake when to look next. */
  schedule(wake: WakeLoop, next: number): void {
    const nowS = Math.floor(Date.now() / 1000);
    if (next === 0) wake.until(undefined);
    else if (next > nowS) wake.until(next * 1000);
    else if (!this.missed) {
      this.missed = true;
      wake.again();
    } else wake.until((nowS + 1) * 1000);
  }
}

/** @internal the earliest honker_queue_next_claim_at of queues (0 when none has one). */
export function nextClaimAt(db: Connection, queues: readonly string[]): number {
  let next = 0;
  for (const q of queues) {
    const at = db.sql('SELECT honker_queue_next_claim_at(?)').pluck().get(q) as number;
    if (at !== 0 && (next === 0 || at < next)) next = at;
  }
  return next;
}

/**
 * @internal hand claimed jobs that never started back to pending, as if
 * never claimed (honker_release); returns those still held (released).
 */
export function releaseJobs<T>(db: Connection, jobs: readonly Job<T>[]): Job<T>[] {
  const stmt = db.sql('SELECT honker_release(?, ?)').pluck();
  return jobs.filter((job) => stmt.get(job.id, job.workerId) === 1);
}

export interface ClaimedRow {
  id: number;
  queue: string;
  payload: string;
  worker_id: string;
  attempts: number;
  claim_expires_at: number;
}

/** A claimed job. Settle it once: ack, retry or fail. */
export class Job<T> {
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
    private readonly db: Connection,
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
  ack(): boolean {
    this.db.assertOpen('job.ack');
    return this.db.sql('SELECT honker_ack(?, ?)').pluck().get(this.id, this.workerId) === 1;
  }

  /**
   * Run fn and ack the job in ONE transaction, and return what fn returned:
   * fn's writes to this database commit together with the ack, exactly once.
   * When the claim was lost (it lapsed and another worker took the job, or
   * it was cancelled), fn's writes roll back and this throws a CLAIM_LOST
   * HonkerError. fn must be synchronous; inside db.transaction it joins it.
   */
  ackWith<R>(fn: () => R): R {
    if (typeof fn !== 'function') throw validate.invalid('job.ackWith', 'fn', 'be a function', fn);
    this.db.assertOpen('job.ackWith');
    return this.db.transaction(() => {
      const result = fn();
      if (!this.ack()) {
        throw new HonkerError('CLAIM_LOST', `job.ackWith: the claim of job ${this.id} was lost (it lapsed or was cancelled); nothing was written`);
      }
      return result;
    });
  }

  /** Run it again after delayS (default 0), or dead-letter it when attempts are used up. */
  retry(options?: { delayS?: number; error?: string }): boolean {
    const { delayS, error } = retryArgs(options);
    this.db.assertOpen('job.retry');
    return this.db.sql('SELECT honker_retry(?, ?, ?, ?)').pluck().get(this.id, this.workerId, delayS, error) === 1;
  }

  /** Dead-letter the job now with error. */
  fail(error?: unknown): boolean {
    this.db.assertOpen('job.fail');
    const text = errorText(error, 'failed');
    return this.db.sql('SELECT honker_fail(?, ?, ?)').pluck().get(this.id, this.workerId, text) === 1;
  }

  /** Extend the claim to now + extendS; false when the claim already lapsed. */
  heartbeat(extendS: number): boolean {
    validate.seconds('job.heartbeat', 'extendS', extendS, 1);
    this.db.assertOpen('job.heartbeat');
    const ok = this.db.sql('SELECT honker_heartbeat(?, ?, ?)').pluck().get(this.id, this.workerId, extendS) === 1;
    if (ok) {
      // The stored deadline (the extension's clock), not a local guess that may straddle a second.
      const text = this.db.sql('SELECT honker_get_job(?)').pluck().get(this.id) as string;
      const stored = text ? (JSON.parse(text) as { claim_expires_at: unknown }).claim_expires_at : undefined;
      this.claimExpiresAt = typeof stored === 'number' ? stored : Math.floor(Date.now() / 1000) + extendS;
    }
    return ok;
  }
}

export class Queue<T = unknown> {
  readonly name: string;
  readonly visibilityTimeoutS: number;
  readonly maxAttempts: number;
  /** Dead letters of this queue. */
  readonly dead: DeadLetters<T>;

  /** @internal use db.queue(name) */
  constructor(
    private readonly db: Connection,
    name: string,
    options?: QueueOptions,
  ) {
    ({ name: this.name, visibilityTimeoutS: this.visibilityTimeoutS, maxAttempts: this.maxAttempts } = queueSettings(name, options));
    this.dead = new DeadLetters<T>(db, this.name);
  }

  /** Add a job; inside db.transaction it commits with the transaction. Returns the job id. */
  enqueue(payload: T, options?: EnqueueOptions): number {
    const a = enqueueArgs('queue.enqueue', payload, options, this.maxAttempts);
    this.db.assertOpen('queue.enqueue');
    if (a.key !== undefined) {
      return this.db
        .sql('SELECT honker_enqueue_unique(?, ?, ?, ?, ?, ?, ?, ?)')
        .pluck()
        .get(this.name, a.key, a.text, a.runAt, a.delayS, a.priority, a.maxAttempts, a.expiresS) as number;
    }
    return this.db
      .sql('SELECT honker_enqueue(?, ?, ?, ?, ?, ?, ?)')
      .pluck()
      .get(this.name, a.text, a.runAt, a.delayS, a.priority, a.maxAttempts, a.expiresS) as number;
  }

  /** Register a task handler of this queue; the returned function enqueues calls (see task.ts). */
  task<A extends unknown[], R>(
    name: string,
    fn: (this: TaskContext, ...args: A) => R,
    options?: TaskOptions,
  ): Task<A, Awaited<R>> {
    return makeTask(this.db, defineTask(this.db, this, 'queue.task', name, fn, options));
  }

  /** A task with no arguments that the scheduler enqueues on `schedule` (entry named `name`). */
  periodicTask<R>(schedule: string, name: string, fn: (this: TaskContext) => R, options?: TaskOptions): Task<[], Awaited<R>> {
    const def = definePeriodicTask(this.db, this, name, fn, options);
    try {
      new Scheduler(this.db).add({
        name,
        queue: this.name,
        schedule,
        payload: JSON.parse(envelopeText('queue.periodicTask', name, [])),
        priority: def.priority,
        expiresS: def.expiresS,
        maxAttempts: def.maxAttempts,
      });
    } catch (err) {
      undefineTask(this.db, def);
      throw err;
    }
    return makeTask(this.db, def);
  }

  /** Claim up to n jobs now (possibly none). */
  claimBatch(workerId: string, n: number, options?: { visibilityTimeoutS?: number }): Job<T>[] {
    return this.claimChecked('queue.claimBatch', workerId, n, options);
  }

  /** Claim one job now, or null when none is due. */
  claimOne(workerId: string, options?: { visibilityTimeoutS?: number }): Job<T> | null {
    return this.claimChecked('queue.claimOne', workerId, 1, options)[0] ?? null;
  }

  /** claimBatch and claimOne: check, then claim; errors name the method called (where). */
  private claimChecked(where: string, workerId: string, n: number, options: { visibilityTimeoutS?: number } | undefined): Job<T>[] {
    const timeout = claimNowArgs(where, workerId, n, options, this.visibilityTimeoutS);
    this.db.assertOpen(where);
    return this.claimNow(workerId, n, timeout);
  }

  /** Ack several jobs claimed by workerId; returns how many were still validly claimed. */
  ackBatch(ids: readonly number[], workerId: string): number {
    const idsJson = ackBatchArgs(ids, workerId);
    this.db.assertOpen('queue.ackBatch');
    return this.db.sql('SELECT honker_ack_batch(?, ?)').pluck().get(idsJson, workerId) as number;
  }

  /**
   * Jobs as they become claimable, forever (until signal aborts or the
   * database closes). Settle each job before taking the next one.
   *
   * Arguments are checked here, synchronously. Jobs are claimed batchSize at
   * a time and handed out one by one; when the iterator stops early (abort,
   * `break`, db.close()) the claimed jobs it has not handed out yet go back to
   * pending at once, keeping their place and their attempts (honker_release). Closing the database rejects a waiting or later
   * next() with a CLOSED HonkerError.
   */
  claim(workerId: string, options?: ClaimOptions): AsyncGenerator<Job<T>, void, undefined> {
    const { signal, batchSize, timeoutS } = claimIteratorArgs(workerId, options, this.visibilityTimeoutS);
    this.db.assertOpen('queue.claim');
    return this.claimLoop(workerId, signal, batchSize, timeoutS);
  }

  private async *claimLoop(
    workerId: string,
    signal: AbortSignal | undefined,
    batchSize: number,
    timeoutS: number,
  ): AsyncGenerator<Job<T>, void, undefined> {
    const clock = new ClaimClock();
    const lifeline = new Lifeline(this.db, workerId);
    let unhanded: Job<T>[] = [];
    try {
      for (const wake = wakeLoop(this.db, { signal }); wake.look(); await wake.sleep()) {
        clock.look(wake);
        lifeline.ensure();
        const jobs = this.claimNow(workerId, batchSize, timeoutS);
        if (jobs.length === 0) {
          clock.schedule(wake, nextClaimAt(this.db, [this.name]));
          continue;
        }
        clock.found();
        unhanded = jobs;
        while (unhanded.length > 0) {
          yield unhanded.shift() as Job<T>;
          if (wake.stopped()) return;
        }
        wake.again();
      }
    } finally {
      if (unhanded.length > 0 && this.db.isOpen) releaseJobs(this.db, unhanded);
      lifeline.release();
    }
  }

  /** Counts by state (pending = due now, scheduled = delayed). */
  stats(): QueueStats {
    this.db.assertOpen('queue.stats');
    return JSON.parse(this.db.sql('SELECT honker_queue_stats(?)').pluck().get(this.name) as string) as QueueStats;
  }

  /** A live job (pending or processing), or null once it finished, died or never existed. */
  getJob(id: number): JobRow<T> | null {
    validate.int('queue.getJob', 'id', id, 1);
    this.db.assertOpen('queue.getJob');
    return jobRow<T>(this.db.sql('SELECT honker_get_job(?)').pluck().get(id) as string);
  }

  /** Delete a live job whatever its state; true when it existed. */
  cancel(id: number): boolean {
    validate.int('queue.cancel', 'id', id, 1);
    this.db.assertOpen('queue.cancel');
    return this.db.sql('SELECT honker_cancel(?)').pluck().get(id) === 1;
  }

  /** Move jobs whose expiresS passed to the dead letters; returns how many. */
  sweepExpired(): number {
    this.db.assertOpen('queue.sweepExpired');
    return this.db.sql('SELECT honker_sweep_expired(?)').pluck().get(this.name) as number;
  }

  private claimNow(workerId: string, n: number, timeoutS: number): Job<T>[] {
    const text = this.db.sql('SELECT honker_claim_batch(?, ?, ?, ?)').pluck().get(this.name, workerId, n, timeoutS) as string;
    return (JSON.parse(text) as ClaimedRow[]).map((row) => new Job<T>(this.db, row));
  }
}
