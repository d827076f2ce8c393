/**
 * The worker's loop, shared by both engines: `WorkerLoop` runs claimed jobs
 * through their handlers; src/worker.ts (SQLite) and src/postgres/worker.ts
 * say how a job is settled there. The rules are in src/worker.ts's header.
 *
 * What lives here, once:
 *   - the options (workerConfig), run()'s checks, its summary and its stop
 *     (the caller's signal, SIGINT/SIGTERM with handleSignals);
 *   - the claim loop over wakeLoop: start claimed jobs while slots are free,
 *     otherwise claim up to batchSize (the queues taken in turn), otherwise
 *     sleep until a commit or the queues' next deadline (ClaimClock); a
 *     claim that fails for a passing reason (SQLITE_BUSY, a lost Postgres
 *     connection) is retried shortly instead of stopping the worker;
 *   - the heartbeat of every held claim, and the 'lost' of a claim it finds gone;
 *   - one job's run: its envelope checked, its handler raced against its
 *     timeout and an interrupt (stop after graceMs: 'abandoned'; heartbeat:
 *     'lost'), then settled: success, or the failure text the job keeps;
 *   - stopping: unstarted jobs released, running ones given graceMs.
 * What an engine supplies (WorkerSession and the abstract methods): how to
 * claim, release, find the next deadline and keep the lifeline, and how a
 * settle is written (SQLite: one group commit per event-loop turn, each job
 * in a savepoint; Postgres: successes acked in one statement, failures in a
 * transaction each).
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { readEnvelope, resultEnvelopeText } from './envelope.js';
import { HonkerError } from './errors.js';
import { WorkerEvents, type JobInfo } from './events.js';
import { ClaimClock } from './queue.js';
import { runWithContext, type TaskContext, type TaskDefinition } from './task.js';
import * as validate from './validate.js';
import { MAX_TIMER_MS, wakeLoop, type WakeSource } from './wake.js';

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

const WORKER_OPTIONS = ['queues', 'concurrency', 'batchSize', 'visibilityTimeoutS', 'graceMs', 'workerId'] as const;
const RUN_OPTIONS = ['signal', 'handleSignals'] as const;

/** How a handler's race ended. */
export type Outcome =
  | { kind: 'ok'; value: unknown }
  | { kind: 'error'; cause: unknown }
  | { kind: 'timeout' }
  | { kind: 'abandoned' }
  | { kind: 'lost' };

/** Thrown inside a settle's transaction when the job's claim is gone: rolls back what it wrote. */
export class ClaimLost extends Error {}

/** A claimed job as the loop sees it (Job on SQLite, PgJob on Postgres). */
export interface LoopJob {
  readonly id: number;
  readonly queue: string;
  readonly payload: unknown;
  readonly attempts: number;
  heartbeat(extendS: number): boolean | Promise<boolean>;
}

/** What the loop needs from its engine while run() runs. */
export interface WorkerSession<J extends LoopJob> {
  /** What the loop sleeps on between claims. */
  readonly wake: WakeSource;
  /** After a claim failed for a passing reason, claim again this soon. */
  readonly retryMs: number;
  /** Register (again, if it was lost) this worker's liveness. */
  ensureLifeline(): void | Promise<void>;
  /** Claim up to n jobs of queue. */
  claim(queue: string, n: number): J[] | Promise<J[]>;
  /** True for a claim error that passes (SQLITE_BUSY past busy_timeout, a lost connection). */
  passing(err: unknown): boolean;
  /** Unix seconds at which some queue's jobs become claimable (0: none). */
  nextClaimAt(): number | Promise<number>;
  /** Hand unstarted jobs back to pending; returns those released. */
  release(jobs: J[]): J[] | Promise<J[]>;
  /** Unregister the lifeline, stop listening. */
  close(): void | Promise<void>;
}

interface Running<J> {
  job: J;
  /** Resolves the outcome race with 'abandoned' or 'lost'. */
  interrupt: (o: Outcome) => void;
  done: Promise<void>;
}

/** @internal the stored result of a successful run; throws (writing nothing) when the value is not JSON. */
export function successText(def: TaskDefinition, value: unknown): string {
  try {
    return resultEnvelopeText({ ok: true, value });
  } catch (err) {
    throw new Error(`task ${def.name} returned a value that is not JSON: ${errorText(err)}`, { cause: err });
  }
}

/** @internal an error as the text stored with the job. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

/** A worker's settings, checked. */
interface WorkerConfig {
  queueNames: string[] | undefined;
  concurrency: number;
  batchSize: number;
  visibilityTimeoutS: number;
  graceMs: number;
  workerId: string;
}

/** Check db.worker's options and apply the defaults. */
function workerConfig(where: string, options: WorkerOptions | undefined): WorkerConfig {
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

/** The worker of one engine: the loop is here, the writes in the subclass. */
export abstract class WorkerLoop<J extends LoopJob> extends WorkerEvents {
  readonly workerId: string;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly visibilityTimeoutS: number;
  readonly graceMs: number;
  private readonly queueNames: string[] | undefined;
  private runningNow = false;

  protected constructor(options: WorkerOptions | undefined) {
    super();
    const c = workerConfig('db.worker', options);
    this.queueNames = c.queueNames;
    this.concurrency = c.concurrency;
    this.batchSize = c.batchSize;
    this.visibilityTimeoutS = c.visibilityTimeoutS;
    this.graceMs = c.graceMs;
    this.workerId = c.workerId;
  }

  // --- what the engine supplies ---

  protected abstract assertOpen(where: string): void;
  protected abstract get isOpen(): boolean;
  /** The tasks registered on this database: queue → task name → definition. */
  protected abstract tasks(): Map<string, Map<string, TaskDefinition>>;
  /** Start what run() needs (the LISTEN subscription, the lifeline). */
  protected abstract openSession(queueNames: string[]): WorkerSession<J> | Promise<WorkerSession<J>>;
  /** Run fn as a settle outside the handler race; the promise resolves (never rejects) once it wrote. */
  protected abstract settleInSlot(fn: () => void | Promise<void>): Promise<void>;
  /** Settle a job whose handler finished (fn: this.settle). */
  protected abstract settleAfterRun(fn: () => void | Promise<void>): void;
  /** Every settle started so far has been written. */
  protected abstract settled(): void | Promise<void>;
  /** Ack the job and save its result text. */
  protected abstract succeed(job: J, info: JobInfo, text: string, def: TaskDefinition, value: unknown, durationMs: number, summary: WorkerSummary): void | Promise<void>;
  /** Retry the job (or dead-letter it when attempts are used up, saving the error result). */
  protected abstract fail(job: J, def: TaskDefinition, info: JobInfo, error: string, cause: unknown, durationMs: number, summary: WorkerSummary): void | Promise<void>;
  /** Dead-letter the job at once (a bad envelope, an unknown task). */
  protected abstract deadNow(job: J, info: JobInfo, error: string, summary: WorkerSummary): void | Promise<void>;
  /** A transaction task: handler, ack and result in one transaction. */
  protected abstract runInTransaction(job: J, def: TaskDefinition, args: unknown[], info: JobInfo, summary: WorkerSummary): void | Promise<void>;

  /** Run until signal aborts (or SIGINT/SIGTERM with handleSignals); resolves with what it did. */
  run(options?: WorkerRunOptions): Promise<WorkerSummary> {
    const where = 'worker.run';
    const opts = validate.options(where, options, RUN_OPTIONS);
    const signal = validate.signal(where, opts.signal);
    if (opts.handleSignals !== undefined && typeof opts.handleSignals !== 'boolean') {
      throw validate.invalid(where, 'handleSignals', 'be a boolean', opts.handleSignals);
    }
    this.assertOpen(where);
    if (this.runningNow) throw new HonkerError('INVALID_ARGUMENT', `${where}: this worker is already running`);
    const queueNames = this.queueNames ?? [...this.tasks().keys()];
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
    this.runStarted(summary);
    return this.loop(queueNames, stop.signal, summary).finally(() => {
      signal?.removeEventListener('abort', onAbort);
      process.off('SIGINT', sigint);
      process.off('SIGTERM', sigterm);
      this.runningNow = false;
    });
  }

  /** Called once per run() before the loop starts. */
  protected runStarted(_summary: WorkerSummary): void {}

  private async loop(queueNames: string[], stop: AbortSignal, summary: WorkerSummary): Promise<WorkerSummary> {
    const running = new Set<Running<J>>();
    const buffer: J[] = [];
    let slotFreed: (() => void) | undefined;
    const beatMs = Math.min((this.visibilityTimeoutS * 1000) / 2, MAX_TIMER_MS);
    let beating = false;
    // Ref'd: a running worker keeps its process alive, like a server, even while every handler
    // awaits something that does not (otherwise the process could exit mid-job with code 0).
    const heartbeat = setInterval(() => {
      if (beating) return;
      beating = true;
      this.heartbeatAll(running, buffer, summary).finally(() => (beating = false));
    }, beatMs);
    const stopWait = new Promise<void>((resolve) => {
      if (stop.aborted) resolve();
      else stop.addEventListener('abort', () => resolve(), { once: true });
    });
    const clock = new ClaimClock();
    let rotation = 0;
    let session: WorkerSession<J> | undefined;
    try {
      // An engine step that returns a value (SQLite) is not awaited: a SQLite look runs in one
      // go, and run() registers the lifeline before it returns, as the contract says.
      const opened = this.openSession(queueNames);
      session = opened instanceof Promise ? await opened : opened;
      for (const wake = wakeLoop(session.wake, { signal: stop }); wake.look(); await wake.sleep()) {
        clock.look(wake);
        const ensured = session.ensureLifeline();
        if (ensured) await ensured;
        while (buffer.length > 0 && running.size < this.concurrency) {
          const r: Running<J> = this.start(buffer.shift() as J, summary, () => {
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
          for (let i = 0; i < queueNames.length && buffer.length < this.batchSize; i++) {
            const claimed = session.claim(queueNames[(rotation + i) % queueNames.length]!, this.batchSize - buffer.length);
            const jobs = claimed instanceof Promise ? await claimed : claimed;
            summary.claimed += jobs.length;
            buffer.push(...jobs);
          }
        } catch (err) {
          if (!session.passing(err) || !this.isOpen) throw err;
          if (buffer.length === 0) {
            wake.until(Date.now() + session.retryMs);
            continue;
          }
        }
        rotation++;
        if (buffer.length > 0) {
          clock.found();
          wake.again();
        } else {
          const next = session.nextClaimAt();
          clock.schedule(wake, next instanceof Promise ? await next : next);
        }
      }
      // Stopping: hand back what never started, give the running ones graceMs.
      const released = this.releaseAll(session, buffer.splice(0), summary);
      if (released) await released;
      if (running.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.graceMs)));
        await Promise.race([Promise.all([...running].map((r) => r.done)), grace]);
        clearTimeout(timer);
        for (const r of [...running]) r.interrupt({ kind: 'abandoned' });
        await Promise.all([...running].map((r) => r.done));
      }
      const settled = this.settled();
      if (settled) await settled;
      return summary;
    } finally {
      clearInterval(heartbeat);
      if (session) {
        const s = session;
        if (buffer.length > 0 && this.isOpen) await Promise.resolve().then(() => this.releaseAll(s, buffer.splice(0), summary)).catch(() => undefined);
        await Promise.resolve(this.settled()).catch(() => undefined);
        await Promise.resolve(session.close()).catch(() => undefined);
      }
    }
  }

  /** Hand unstarted jobs back; a Promise only when the engine's release is one. */
  private releaseAll(session: WorkerSession<J>, jobs: J[], summary: WorkerSummary): void | Promise<void> {
    const emit = (released: J[]): void => {
      for (const job of released) {
        summary.released++;
        this.emit('released', this.info(job, undefined));
      }
    };
    const released = session.release(jobs);
    return released instanceof Promise ? released.then(emit) : emit(released);
  }

  /** Extend every held claim; a claim found lost interrupts its handler's race. */
  private async heartbeatAll(running: Set<Running<J>>, buffer: J[], summary: WorkerSummary): Promise<void> {
    if (!this.isOpen) return;
    // A beat that fails (SQLITE_BUSY, a lost connection) is retried at the next one: the claim has half a timeout left.
    const beat = (job: J): Promise<boolean | undefined> => Promise.resolve().then(() => job.heartbeat(this.visibilityTimeoutS)).catch(() => undefined);
    await Promise.all([
      ...[...running].map(async (r) => {
        if ((await beat(r.job)) === false) r.interrupt({ kind: 'lost' });
      }),
      ...[...buffer].map(async (job) => {
        if ((await beat(job)) !== false) return;
        const i = buffer.indexOf(job);
        if (i < 0) return;
        buffer.splice(i, 1);
        this.lostClaim(this.info(job, undefined), 'claim lapsed before the job started', summary);
      }),
    ]);
  }

  /** The job's claim was gone when its settle ran: nothing of it was written. */
  protected lostClaim(info: JobInfo, reason: string, summary: WorkerSummary): void {
    summary.lost++;
    this.emit('lost', { ...info, reason });
  }

  protected info(job: J, task: string | undefined): JobInfo {
    return { jobId: job.id, queue: job.queue, task, attempt: job.attempts };
  }

  /**
   * Start one claimed job. It holds a slot until it is settled: an async
   * handler until it finishes; a transaction task, a bad envelope or an
   * unknown task until its settle has been written (settleInSlot).
   */
  private start(job: J, summary: WorkerSummary, onDone: () => void): Running<J> {
    const envelope = readEnvelope(job.payload);
    const info = this.info(job, envelope.task);
    const tasks = this.tasks().get(job.queue);
    const def = envelope.problem === undefined ? tasks?.get(envelope.task) : undefined;
    const inSlot = (fn: () => void | Promise<void>): Running<J> => ({ job, interrupt: () => undefined, done: this.settleInSlot(fn).finally(onDone) });
    if (envelope.problem !== undefined || !def) {
      const known = [...(tasks?.keys() ?? [])].join(', ') || 'none';
      const problem =
        envelope.problem ?? `unknown task ${JSON.stringify(envelope.task)} on queue ${JSON.stringify(job.queue)} (this worker knows: ${known})`;
      return inSlot(() => this.deadNow(job, info, problem, summary));
    }
    const args = envelope.args;
    if (def.transaction) return inSlot(() => this.runInTransaction(job, def, args, info, summary));
    const controller = new AbortController();
    let interrupt: (o: Outcome) => void = () => undefined;
    const interrupted = new Promise<Outcome>((resolve) => (interrupt = resolve));
    const ctx: TaskContext = { signal: controller.signal, jobId: job.id, attempt: job.attempts, taskName: def.name, queue: job.queue };
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
    const done = Promise.race(racers).then((outcome) => {
      clearTimeout(timer);
      if (outcome.kind !== 'ok' && outcome.kind !== 'error') {
        controller.abort(new HonkerError('ABORTED', `task ${def.name}: ${outcome.kind}`));
      }
      this.settleAfterRun(() => this.settle(job, def, info, outcome, Date.now() - started, summary));
      onDone();
    });
    return { job, interrupt, done };
  }

  /** A finished handler's outcome, written: success, or a failure with the text the job keeps. */
  private settle(job: J, def: TaskDefinition, info: JobInfo, outcome: Outcome, durationMs: number, summary: WorkerSummary): void | Promise<void> {
    if (outcome.kind === 'lost') return this.lostClaim(info, 'claim lost while running (lapsed or cancelled)', summary);
    if (outcome.kind === 'ok') {
      const value = outcome.value === undefined ? null : outcome.value;
      let text: string;
      try {
        // Serialized before anything is written, so a value that is not JSON writes nothing.
        text = successText(def, value);
      } catch (err) {
        return this.fail(job, def, info, errorText(err), (err as Error).cause, durationMs, summary);
      }
      return this.succeed(job, info, text, def, value, durationMs, summary);
    }
    const error =
      outcome.kind === 'error'
        ? errorText(outcome.cause)
        : outcome.kind === 'timeout'
          ? `task ${def.name} timed out after ${def.timeoutS} s`
          : `worker stopped: task ${def.name} did not finish within the ${this.graceMs} ms grace period`;
    if (outcome.kind === 'abandoned') summary.abandoned++;
    return this.fail(job, def, info, error, outcome.kind === 'error' ? outcome.cause : undefined, durationMs, summary);
  }
}
