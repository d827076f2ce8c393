/**
 * The worker runtime: `db.worker({ queues, concurrency, batchSize }).run({ signal })`
 * runs the tasks registered with queue.task() on this database (task.ts).
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
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Connection } from './connection.js';
import { DEFAULT_RESULT_TTL_S, readEnvelope, resultEnvelopeText, type TaskResultEnvelope } from './envelope.js';
import { HonkerError } from './errors.js';
import { WorkerEvents, type JobInfo, type WorkerEventMap, type WorkerEventName } from './events.js';
import { Lifeline } from './lifeline.js';
import { ClaimClock, nextClaimAt, Queue, releaseJobs, type Job } from './queue.js';
import { saveResultText } from './results.js';
import { retryDelay, runWithContext, taskRegistry, type TaskContext, type TaskDefinition } from './task.js';
import * as validate from './validate.js';
import { wakeLoop } from './wake.js';

export interface WorkerOptions {
  /** Queues to work (default: every queue with a registered task when run() starts). */
  queues?: string[];
  /** Handlers running at once in this process (default 1). */
  concurrency?: number;
  /** Jobs claimed per round trip (default: concurrency). */
  batchSize?: number;
  /** Claim lifetime in seconds, renewed by heartbeats (default 300). */
  visibilityTimeoutS?: number;
  /** How long running handlers may finish after a stop (default 30000). */
  graceMs?: number;
  /** Default: `<hostname>:<pid>:<random>`. */
  workerId?: string;
}

export interface WorkerRunOptions {
  signal?: AbortSignal;
  /** Stop on SIGINT / SIGTERM as on an abort (default false). */
  handleSignals?: boolean;
}

export interface WorkerSummary {
  workerId: string;
  /** Jobs claimed. */
  claimed: number;
  completed: number;
  /** Attempts that failed (each then retried or dead). */
  failed: number;
  retried: number;
  /** Dead-lettered (retries exhausted, unknown task, bad envelope). */
  dead: number;
  /** Claimed but never started, handed back to pending at stop. */
  released: number;
  /** Still running after the grace period: retried with a "worker stopped" error. */
  abandoned: number;
  /** Settled after their claim was lost: nothing written. */
  lost: number;
  /** What stopped it: 'signal', 'SIGINT', 'SIGTERM'. */
  stoppedBy: string;
}

export const WORKER_OPTIONS = ['queues', 'concurrency', 'batchSize', 'visibilityTimeoutS', 'graceMs', 'workerId'] as const;
export const RUN_OPTIONS = ['signal', 'handleSignals'] as const;
/** setTimeout's largest delay: a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** After a SQLITE_BUSY while claiming, claim again this soon. */
const BUSY_RETRY_MS = 100;

type Outcome =
  | { kind: 'ok'; value: unknown }
  | { kind: 'error'; cause: unknown }
  | { kind: 'timeout' }
  | { kind: 'abandoned' }
  | { kind: 'lost' };

interface Running {
  job: Job<unknown>;
  info: JobInfo;
  controller: AbortController;
  /** Resolves the outcome race with 'abandoned' or 'lost'. */
  interrupt: (o: Outcome) => void;
  done: Promise<void>;
}

class ClaimLost extends Error {}

/** @internal the stored result of a successful run; throws (writing nothing) when the value is not JSON (both engines). */
export function successText(def: TaskDefinition, value: unknown): string {
  try {
    return resultEnvelopeText({ ok: true, value });
  } catch (err) {
    throw new Error(`task ${def.name} returned a value that is not JSON: ${errorText(err)}`, { cause: err });
  }
}

/** @internal an error as the text stored with the job (both engines). */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

/** A worker's settings, checked (both engines). */
export interface WorkerConfig {
  queueNames: string[] | undefined;
  concurrency: number;
  batchSize: number;
  visibilityTimeoutS: number;
  graceMs: number;
  workerId: string;
}

/** @internal check db.worker's options and apply the defaults (both engines). */
export function workerConfig(where: string, options: WorkerOptions | undefined): WorkerConfig {
  const opts = validate.options(where, options, WORKER_OPTIONS);
  let queueNames: string[] | undefined;
  if (opts.queues !== undefined) {
    if (!Array.isArray(opts.queues) || opts.queues.length === 0) {
      throw validate.invalid(where, 'queues', 'be a non-empty array of queue names', opts.queues);
    }
    opts.queues.forEach((q, i) => validate.name(where, `queues[${i}]`, q));
    queueNames = [...new Set(opts.queues)];
  }
  const concurrency = validate.optInt(where, 'concurrency', opts.concurrency, 1) ?? 1;
  return {
    queueNames,
    concurrency,
    batchSize: validate.optInt(where, 'batchSize', opts.batchSize, 1) ?? concurrency,
    visibilityTimeoutS: validate.optSeconds(where, 'visibilityTimeoutS', opts.visibilityTimeoutS, 1) ?? 300,
    graceMs: validate.optInt(where, 'graceMs', opts.graceMs, 0) ?? 30000,
    workerId:
      opts.workerId === undefined
        ? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
        : validate.name(where, 'workerId', opts.workerId),
  };
}

export class Worker extends WorkerEvents {
  readonly workerId: string;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly visibilityTimeoutS: number;
  readonly graceMs: number;
  private readonly queueNames: string[] | undefined;
  private runningNow = false;
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
    super();
    const where = 'db.worker';
    const c = workerConfig(where, options);
    this.queueNames = c.queueNames;
    this.concurrency = c.concurrency;
    this.batchSize = c.batchSize;
    this.visibilityTimeoutS = c.visibilityTimeoutS;
    this.graceMs = c.graceMs;
    this.workerId = c.workerId;
    db.assertOpen(where);
  }

  /** Run until signal aborts (or SIGINT/SIGTERM with handleSignals); resolves with what it did. */
  run(options?: WorkerRunOptions): Promise<WorkerSummary> {
    const where = 'worker.run';
    const opts = validate.options(where, options, RUN_OPTIONS);
    const signal = validate.signal(where, opts.signal);
    if (opts.handleSignals !== undefined && typeof opts.handleSignals !== 'boolean') {
      throw validate.invalid(where, 'handleSignals', 'be a boolean', opts.handleSignals);
    }
    this.db.assertOpen(where);
    if (this.runningNow) throw new HonkerError('INVALID_ARGUMENT', `${where}: this worker is already running`);
    const queueNames = this.queueNames ?? [...taskRegistry(this.db).keys()];
    if (queueNames.length === 0) {
      throw new HonkerError('INVALID_ARGUMENT', `${where}: no queues to work: register a task (queue.task) or pass queues`);
    }
    this.runningNow = true;
    const stop = new AbortController();
    const summary: WorkerSummary = {
      workerId: this.workerId,
      claimed: 0,
      completed: 0,
      failed: 0,
      retried: 0,
      dead: 0,
      released: 0,
      abandoned: 0,
      lost: 0,
      stoppedBy: 'signal',
    };
    this.currentSummary = summary;
    const onAbort = (): void => stop.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const onSig = (name: string) => (): void => {
      summary.stoppedBy = name;
      stop.abort();
    };
    const sigint = onSig('SIGINT');
    const sigterm = onSig('SIGTERM');
    if (opts.handleSignals) {
      process.once('SIGINT', sigint);
      process.once('SIGTERM', sigterm);
    }
    if (signal?.aborted) stop.abort();
    const queues = queueNames.map((name) => new Queue(this.db, name, { visibilityTimeoutS: this.visibilityTimeoutS }));
    return this.loop(queues, stop.signal, summary).finally(() => {
      signal?.removeEventListener('abort', onAbort);
      process.off('SIGINT', sigint);
      process.off('SIGTERM', sigterm);
      this.runningNow = false;
    });
  }

  private async loop(queues: Queue<unknown>[], stop: AbortSignal, summary: WorkerSummary): Promise<WorkerSummary> {
    const running = new Set<Running>();
    const buffer: Job<unknown>[] = [];
    let slotFreed: (() => void) | undefined;
    const beatMs = Math.min((this.visibilityTimeoutS * 1000) / 2, MAX_TIMER_MS);
    // Ref'd: a running worker keeps its process alive, like a server, even while every handler
    // awaits something that does not (otherwise the process could exit mid-job with code 0).
    const heartbeat = setInterval(() => this.heartbeatAll(running, buffer, summary), beatMs);
    const stopWait = new Promise<void>((resolve) => {
      if (stop.aborted) resolve();
      else stop.addEventListener('abort', () => resolve(), { once: true });
    });
    const queueNames = queues.map((q) => q.name);
    const clock = new ClaimClock();
    const lifeline = new Lifeline(this.db, this.workerId);
    let rotation = 0;
    try {
      for (const wake = wakeLoop(this.db, { signal: stop }); wake.look(); await wake.sleep()) {
        clock.look(wake);
        lifeline.ensure();
        while (buffer.length > 0 && running.size < this.concurrency) {
          const r: Running = this.start(buffer.shift() as Job<unknown>, summary, () => {
            running.delete(r);
            slotFreed?.();
          });
          running.add(r);
        }
        if (buffer.length > 0 || running.size >= this.concurrency) {
          await Promise.race([new Promise<void>((resolve) => (slotFreed = resolve)), stopWait]);
          slotFreed = undefined;
          wake.again();
          continue;
        }
        try {
          for (let i = 0; i < queues.length && buffer.length < this.batchSize; i++) {
            const queue = queues[(rotation + i) % queues.length];
            const jobs = queue.claimBatch(this.workerId, this.batchSize - buffer.length);
            summary.claimed += jobs.length;
            buffer.push(...jobs);
          }
        } catch (err) {
          // Another writer held the lock past busy_timeout: try again shortly rather than die.
          if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
          if (buffer.length === 0) {
            wake.until(Date.now() + BUSY_RETRY_MS);
            continue;
          }
        }
        rotation++;
        if (buffer.length > 0) {
          clock.found();
          wake.again();
        } else clock.schedule(wake, nextClaimAt(this.db, queueNames));
      }
      // Stopping: hand back what never started, give the running ones graceMs.
      this.releaseAll(buffer.splice(0), summary);
      if (running.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.graceMs)));
        await Promise.race([Promise.all([...running].map((r) => r.done)), grace]);
        clearTimeout(timer);
        for (const r of [...running]) r.interrupt({ kind: 'abandoned' });
        await Promise.all([...running].map((r) => r.done));
      }
      this.flushSettles();
      return summary;
    } finally {
      clearInterval(heartbeat);
      if (buffer.length > 0 && this.db.isOpen) this.releaseAll(buffer.splice(0), summary);
      lifeline.release();
    }
  }

  private releaseAll(jobs: Job<unknown>[], summary: WorkerSummary): void {
    for (const job of releaseJobs(this.db, jobs)) {
      summary.released++;
      this.emit('released', this.info(job, undefined));
    }
  }

  /** Extend every held claim; a claim found lost interrupts its handler's race. */
  private heartbeatAll(running: Set<Running>, buffer: Job<unknown>[], summary: WorkerSummary): void {
    if (!this.db.isOpen) return;
    for (const r of running) {
      try {
        if (!r.job.heartbeat(this.visibilityTimeoutS)) r.interrupt({ kind: 'lost' });
      } catch {
        // SQLITE_BUSY: the next beat retries; the claim has half a timeout left.
      }
    }
    for (let i = buffer.length - 1; i >= 0; i--) {
      try {
        if (!buffer[i].heartbeat(this.visibilityTimeoutS)) {
          const [job] = buffer.splice(i, 1);
          summary.lost++;
          this.emit('lost', { ...this.info(job, undefined), reason: 'claim lapsed before the job started' });
        }
      } catch {
        // as above
      }
    }
  }

  private info(job: Job<unknown>, task: string | undefined): JobInfo {
    return { jobId: job.id, queue: job.queue, task, attempt: job.attempts };
  }

  /**
   * Start one claimed job. It holds a slot until it is settled: an async
   * handler until it finishes; a transaction task, a bad envelope or an
   * unknown task until the group commit has run it (settleInSlot).
   */
  private start(job: Job<unknown>, summary: WorkerSummary, onDone: () => void): Running {
    const envelope = readEnvelope(job.payload);
    const info = this.info(job, envelope.task);
    const tasks = taskRegistry(this.db).get(job.queue);
    const def = envelope.problem === undefined ? tasks?.get(envelope.task) : undefined;
    if (envelope.problem !== undefined || !def) {
      const known = [...(tasks?.keys() ?? [])].join(', ') || 'none';
      const problem =
        envelope.problem ?? `unknown task ${JSON.stringify(envelope.task)} on queue ${JSON.stringify(job.queue)} (this worker knows: ${known})`;
      return this.settleInSlot(job, info, onDone, () => this.deadNow(job, info, problem, summary));
    }
    const args = envelope.args;
    if (def.transaction) {
      // Runs in the next group commit, inside its own savepoint (no timer: it is synchronous).
      return this.settleInSlot(job, info, onDone, () => this.runInTransaction(job, def, args, info, summary));
    }
    const controller = new AbortController();
    let interrupt: (o: Outcome) => void = () => undefined;
    const interrupted = new Promise<Outcome>((resolve) => (interrupt = resolve));
    const ctx: TaskContext = {
      signal: controller.signal,
      jobId: job.id,
      attempt: job.attempts,
      taskName: def.name,
      queue: job.queue,
    };
    const started = Date.now();
    const fn = def.fn;
    const handler = new Promise<unknown>((resolve) => resolve(runWithContext(ctx, () => fn.apply(ctx, args)))).then(
      (value): Outcome => ({ kind: 'ok', value }),
      (cause: unknown): Outcome => ({ kind: 'error', cause }),
    );
    let timer: NodeJS.Timeout | undefined;
    const racers: Promise<Outcome>[] = [handler, interrupted];
    if (def.timeoutS !== undefined) {
      racers.push(new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ kind: 'timeout' }), def.timeoutS! * 1000))));
    }
    const taskDef = def;
    const done = Promise.race(racers).then((outcome) => {
      clearTimeout(timer);
      if (outcome.kind !== 'ok' && outcome.kind !== 'error') {
        controller.abort(new HonkerError('ABORTED', `task ${taskDef.name}: ${outcome.kind}`));
      }
      this.settleLater(() => this.settle(job, taskDef, info, outcome, Date.now() - started, summary));
      onDone();
    });
    return { job, info, controller, interrupt, done };
  }

  /**
   * A job settled by fn in the next group commit, holding its slot until
   * then: without the slot, a queue of such jobs would keep the claim loop
   * claiming (each claim an attempt) without ever yielding to the commit.
   */
  private settleInSlot(job: Job<unknown>, info: JobInfo, onDone: () => void, fn: () => void): Running {
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    this.settleLater(() => {
      try {
        fn();
      } finally {
        onDone();
        finish();
      }
    });
    return { job, info, controller: new AbortController(), interrupt: () => undefined, done };
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

  private lost(info: JobInfo, reason: string, summary: WorkerSummary): never {
    summary.lost++;
    this.emit('lost', { ...info, reason });
    throw new ClaimLost(reason);
  }

  private settle(
    job: Job<unknown>,
    def: TaskDefinition,
    info: JobInfo,
    outcome: Outcome,
    durationMs: number,
    summary: WorkerSummary,
  ): void {
    if (outcome.kind === 'lost') this.lost(info, 'claim lost while running (lapsed or cancelled)', summary);
    if (outcome.kind === 'ok') {
      const value = outcome.value === undefined ? null : outcome.value;
      let text: string;
      try {
        // Serialized before anything is written, so a value that is not JSON writes nothing.
        text = successText(def, value);
      } catch (err) {
        this.fail(job, def, info, errorText(err), (err as Error).cause, durationMs, summary);
        return;
      }
      // Inside the group commit. Ack first: a lost claim writes nothing, so no savepoint is needed.
      if (!job.ack()) this.lost(info, 'claim lost before the result was saved', summary);
      saveResultText(this.db, job.id, text, def.resultTtlS);
      summary.completed++;
      this.emit('completed', { ...info, value, durationMs });
      return;
    }
    const error =
      outcome.kind === 'error'
        ? errorText(outcome.cause)
        : outcome.kind === 'timeout'
          ? `task ${def.name} timed out after ${def.timeoutS} s`
          : `worker stopped: task ${def.name} did not finish within the ${this.graceMs} ms grace period`;
    if (outcome.kind === 'abandoned') summary.abandoned++;
    this.fail(job, def, info, error, outcome.kind === 'error' ? outcome.cause : undefined, durationMs, summary);
  }

  /**
   * A transaction task (TaskOptions.transaction): the handler, the ack and
   * the result in one savepoint of the group commit, so the handler's writes
   * commit exactly once, with the ack. A throw (or a lost claim) rolls back
   * the savepoint, then the job is retried or dead-lettered as usual.
   */
  private runInTransaction(job: Job<unknown>, def: TaskDefinition, args: unknown[], info: JobInfo, summary: WorkerSummary): void {
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
  private fail(
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

  private deadNow(job: Job<unknown>, info: JobInfo, error: string, summary: WorkerSummary): void {
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
