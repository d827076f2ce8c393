/**
 * The worker runtime: `db.worker({ queues, concurrency, batchSize }).run({ signal })`
 * runs the tasks registered with queue.task() on this database (task.ts).
 * This header is the contract of both engines' workers; the loop is written
 * once, in worker_loop.ts, and this file says how a job is settled on SQLite.
 *
 * Loop: while a handler slot is free and no claimed job waits, claim up to
 * batchSize jobs (honker_claim_batch, the queues taken in turn); start claimed
 * jobs as slots free up. With nothing claimable it sleeps on the database's
 * commit watcher until a commit from any process or the queues' next
 * deadline (a delayed job's run_at or a lapsed claim) — never a fixed poll.
 *
 * Per job:
 *   - the payload must be a task envelope naming a task registered for its
 *     queue; otherwise the job is dead-lettered at once with an error naming it;
 *   - success: the result envelope is saved and the job acked in ONE
 *     transaction (a lost claim rolls both back: no result without ack);
 *   - group commit: jobs that finish in the same event-loop turn settle in
 *     one transaction, each in its own savepoint (a lost claim rolls back
 *     only its job); their events fire after the commit. A commit costs far
 *     more than the rows it writes, so a busy worker commits once per burst;
 *   - failure (throw, reject, timeout, a result that is not JSON): job.retry
 *     with delay round(retryDelayS * backoff^(attempt-1)) and the error text
 *     (kept per attempt by the extension); when that was the last attempt the
 *     extension dead-letters it and, in the same transaction, the worker saves
 *     {"ok":false,"error",...} so handle.get() rejects with the error;
 *   - timeoutS: the handler's AbortSignal aborts and the job is retried; a JS
 *     function cannot be killed, so a handler that ignores the signal runs on
 *     in the background (its slot is freed; what it returns is dropped);
 *   - heartbeat: every visibilityTimeoutS/2 seconds each job the worker holds
 *     (running or claimed-not-started) is extended by visibilityTimeoutS, so a
 *     long job is never reclaimed while its worker lives. Heartbeats run on
 *     the event loop: a handler that blocks it (synchronous CPU work) for
 *     longer than the visibility timeout can lose its claim (the job then
 *     runs again elsewhere and this worker's late ack is refused: 'lost').
 *   - liveness: while run() runs, workerId is registered (lifeline.ts): if
 *     the process dies, its jobs are claimable again within about a second
 *     (a blocked event loop keeps them: the OS lock lives with the process).
 * Stopping (signal abort, or SIGINT/SIGTERM with handleSignals): claiming
 * stops; claimed jobs that never started go back to pending with their
 * attempt given back (honker_release); running handlers get graceMs
 * (default 30000) to finish, then their signals abort and their jobs are
 * retried with the error "worker stopped ..." (the attempt counts). With
 * handleSignals the listeners fire once: a second SIGINT/SIGTERM during the
 * grace period gets Node's default (the process dies at once). run()
 * resolves with a WorkerSummary. db.close() while running makes run() reject
 * with the CLOSED HonkerError. A settle that fails (e.g. SQLITE_BUSY past
 * busy_timeout) becomes a process warning; its job's claim then lapses and
 * the job is claimed again (at-least-once).
 */
import type { Connection } from './connection.js';
import { DEFAULT_RESULT_TTL_S, resultEnvelopeText, type TaskResultEnvelope } from './envelope.js';
import { HonkerError } from './errors.js';
import type { JobInfo, WorkerEventMap, WorkerEventName } from './events.js';
import { Lifeline } from './lifeline.js';
import { nextClaimAt, Queue, releaseJobs, type Job } from './queue.js';
import { saveResultText } from './results.js';
import { retryDelay, runWithContext, taskRegistry, type TaskContext, type TaskDefinition } from './task.js';
import { ClaimLost, successText, errorText, WorkerLoop, type WorkerOptions, type WorkerSession, type WorkerSummary } from './worker_loop.js';

export type { WorkerOptions, WorkerRunOptions, WorkerSummary } from './worker_loop.js';

/** After a SQLITE_BUSY while claiming, claim again this soon. */
const BUSY_RETRY_MS = 100;

export class Worker extends WorkerLoop<Job<unknown>> {
  /** Settles waiting for the next group commit, and whether one is scheduled. */
  private readonly pendingSettles: Array<() => void> = [];
  private flushScheduled = false;
  /** While a group commit runs: the events it will emit once committed. */
  private deferredEvents: Array<() => void> | undefined;
  private currentSummary: WorkerSummary | undefined;

  /** @internal use db.worker() */
  constructor(
    private readonly db: Connection,
    options?: WorkerOptions,
  ) {
    super(options);
    db.assertOpen('db.worker');
  }

  protected assertOpen(where: string): void {
    this.db.assertOpen(where);
  }

  protected get isOpen(): boolean {
    return this.db.isOpen;
  }

  protected tasks(): Map<string, Map<string, TaskDefinition>> {
    return taskRegistry(this.db);
  }

  protected override runStarted(summary: WorkerSummary): void {
    this.currentSummary = summary;
  }

  protected openSession(queueNames: string[]): WorkerSession<Job<unknown>> {
    const db = this.db;
    const queues = new Map(queueNames.map((name) => [name, new Queue(db, name, { visibilityTimeoutS: this.visibilityTimeoutS })]));
    const lifeline = new Lifeline(db, this.workerId);
    return {
      wake: db,
      retryMs: BUSY_RETRY_MS,
      ensureLifeline: () => lifeline.ensure(),
      claim: (queue, n) => queues.get(queue)!.claimBatch(this.workerId, n),
      // Another writer held the lock past busy_timeout: try again shortly rather than die.
      passing: (err) => (err as { code?: string }).code === 'SQLITE_BUSY',
      nextClaimAt: () => nextClaimAt(db, queueNames),
      release: (jobs) => releaseJobs(db, jobs),
      close: () => lifeline.release(),
    };
  }

  /**
   * A job settled by fn in the next group commit, holding its slot until
   * then: without the slot, a queue of such jobs would keep the claim loop
   * claiming (each claim an attempt) without ever yielding to the commit.
   */
  protected settleInSlot(fn: () => void | Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => this.settleLater(() => {
      try {
        void fn();
      } finally {
        resolve();
      }
    }));
  }

  protected settleAfterRun(fn: () => void | Promise<void>): void {
    this.settleLater(() => void fn());
  }

  protected settled(): void {
    this.flushSettles();
  }

  /** Settle a finished job in the next group commit (scheduled for the end of this turn). */
  private settleLater(fn: () => void): void {
    this.pendingSettles.push(fn);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flushSettles());
  }

  /**
   * The group commit: every pending settle in one transaction, each in its
   * own savepoint (settle's db.transaction nests). Events wait for the
   * commit; when the commit itself fails (SQLITE_BUSY past busy_timeout)
   * nothing of the batch was written, its events are dropped, the counters
   * are put back, and the jobs run again once their claims lapse.
   */
  private flushSettles(): void {
    this.flushScheduled = false;
    const batch = this.pendingSettles.splice(0);
    if (batch.length === 0) return;
    if (!this.db.isOpen) {
      // Nothing can be written: each settle fails at once (CLOSED) and gives its slot back.
      for (const fn of batch) this.settleOne(fn);
      return;
    }
    const events: Array<() => void> = [];
    const summary = this.currentSummary;
    const before = summary ? { ...summary } : undefined;
    this.deferredEvents = events;
    try {
      this.db.transaction(() => {
        for (const fn of batch) this.settleOne(fn);
      });
    } catch (err) {
      events.length = 0;
      if (summary && before) Object.assign(summary, before);
      if (this.db.isOpen) {
        process.emitWarning(`honker worker: committing ${batch.length} settled job(s) failed: ${(err as Error)?.stack ?? String(err)}`);
      }
    } finally {
      this.deferredEvents = undefined;
    }
    for (const fire of events) fire();
  }

  /** Settle one job, turning a lost claim into a 'lost' event; other errors (CLOSED) become warnings. */
  private settleOne(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof ClaimLost) return;
      if (!this.db.isOpen) return;
      process.emitWarning(`honker worker: settling a job failed: ${(err as Error)?.stack ?? String(err)}`);
    }
  }

  /** Events raised while a group commit runs fire after it commits. */
  protected override emit<K extends WorkerEventName>(name: K, event: WorkerEventMap[K]): void {
    if (this.deferredEvents) this.deferredEvents.push(() => super.emit(name, event));
    else super.emit(name, event);
  }

  /** A lost claim inside the group commit: ends the job's settle (settleOne), rolling back its savepoint. */
  private lost(info: JobInfo, reason: string, summary: WorkerSummary): never {
    this.lostClaim(info, reason, summary);
    throw new ClaimLost(reason);
  }

  /** Inside the group commit. Ack first: a lost claim writes nothing, so no savepoint is needed. */
  protected succeed(job: Job<unknown>, info: JobInfo, text: string, def: TaskDefinition, value: unknown, durationMs: number, summary: WorkerSummary): void {
    if (!job.ack()) this.lost(info, 'claim lost before the result was saved', summary);
    saveResultText(this.db, job.id, text, def.resultTtlS);
    summary.completed++;
    this.emit('completed', { ...info, value, durationMs });
  }

  /**
   * A transaction task (TaskOptions.transaction): the handler, the ack and
   * the result in one savepoint of the group commit, so the handler's writes
   * commit exactly once, with the ack. A throw (or a lost claim) rolls back
   * the savepoint, then the job is retried or dead-lettered as usual.
   */
  protected runInTransaction(job: Job<unknown>, def: TaskDefinition, args: unknown[], info: JobInfo, summary: WorkerSummary): void {
    const ctx: TaskContext = { signal: new AbortController().signal, jobId: job.id, attempt: job.attempts, taskName: def.name, queue: job.queue };
    const started = Date.now();
    let value: unknown;
    try {
      value = this.db.transaction(() => {
        const v = runWithContext(ctx, () => def.fn.apply(ctx, args));
        if (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') {
          (v as PromiseLike<unknown>).then(undefined, () => undefined);
          throw new HonkerError('INVALID_ARGUMENT', `task ${def.name} is a transaction task but returned a Promise: its handler must be synchronous`);
        }
        const text = successText(def, v === undefined ? null : v);
        if (!job.ack()) throw new ClaimLost('claim lost');
        saveResultText(this.db, job.id, text, def.resultTtlS);
        return v === undefined ? null : v;
      });
    } catch (err) {
      if (err instanceof ClaimLost) this.lost(info, 'claim lost before the transaction task committed', summary);
      this.fail(job, def, info, errorText(err), err, Date.now() - started, summary);
      return;
    }
    summary.completed++;
    this.emit('completed', { ...info, value, durationMs: Date.now() - started });
  }

  /** Retry the job (or dead-letter it when attempts are used up, saving the error result). */
  protected fail(
    job: Job<unknown>,
    def: TaskDefinition,
    info: JobInfo,
    error: string,
    cause: unknown,
    durationMs: number,
    summary: WorkerSummary,
  ): void {
    const delayS = retryDelay(def, job.attempts);
    let died = false;
    try {
      this.db.transaction(() => {
        if (!job.retry({ delayS, error })) throw new ClaimLost('claim lost');
        if (!this.db.sql('SELECT honker_get_job(?)').pluck().get(job.id)) {
          died = true;
          this.saveFailure(job, error, def.resultTtlS);
        }
      });
    } catch (err) {
      if (err instanceof ClaimLost) this.lost(info, 'claim lost before the failure was recorded', summary);
      throw err;
    }
    summary.failed++;
    this.emit('failed', { ...info, error, cause, durationMs });
    if (died) {
      summary.dead++;
      this.emit('dead', { ...info, error });
    } else {
      summary.retried++;
      this.emit('retried', { ...info, error, delayS });
    }
  }

  /** Save the {"ok":false,…} result of a job that just died, in the caller's transaction. */
  private saveFailure(job: Job<unknown>, error: string, ttlS: number): void {
    const result: TaskResultEnvelope = { ok: false, error, attempts: job.attempts };
    saveResultText(this.db, job.id, resultEnvelopeText(result), ttlS);
  }

  protected deadNow(job: Job<unknown>, info: JobInfo, error: string, summary: WorkerSummary): void {
    try {
      this.db.transaction(() => {
        if (!job.fail(error)) throw new ClaimLost('claim lost');
        this.saveFailure(job, error, DEFAULT_RESULT_TTL_S);
      });
    } catch (err) {
      if (err instanceof ClaimLost) this.lost(info, 'claim lost before the job was dead-lettered', summary);
      throw err;
    }
    summary.dead++;
    this.emit('dead', { ...info, error });
  }
}
