/**
 * The worker on Postgres: `db.worker({ queues, concurrency, batchSize }).run({ signal })`
 * runs the tasks registered with queue.task() on this database. Same options,
 * events, summary and rules as src/worker.ts (its header is the contract);
 * what differs comes from the engine:
 *   - claims (honker_claim_batch, the queues taken in turn) never wait for
 *     another worker: FOR UPDATE SKIP LOCKED; with nothing claimable the
 *     worker sleeps on the LISTEN connection ('q:<queue>' of its queues) or
 *     until the queues' next deadline;
 *   - group commit: successes that finish in the same event-loop turn are
 *     acked and their results saved in ONE statement (honker_ack_results: a
 *     job whose claim was lost is neither acked nor given a result); a
 *     failure is retried (or dead-lettered with its {"ok":false,…} result) in
 *     a transaction of its own;
 *   - a transaction task's handler may be async: it runs inside a Postgres
 *     transaction that also acks the job and saves its result, so its writes
 *     (honker calls on this database, and `db.client.query(…)` inside it)
 *     commit exactly once, with the ack;
 *   - a lost connection while claiming (the server restarting) is retried
 *     after a pause instead of stopping the worker;
 *   - liveness: the worker id is registered on the process's LISTEN
 *     connection (pg/lifeline.sql): if the process dies, its jobs are
 *     claimable again within about a second.
 */
import { DEFAULT_RESULT_TTL_S, readEnvelope, resultEnvelopeText, type TaskResultEnvelope } from '../envelope.js';
import { HonkerError } from '../errors.js';
import { WorkerEvents, type JobInfo, type WorkerEventMap, type WorkerEventName } from '../events.js';
import { ClaimClock } from '../queue.js';
import { retryDelay, runWithContext, taskRegistry, type TaskContext, type TaskDefinition } from '../task.js';
import * as validate from '../validate.js';
import { wakeLoop } from '../wake.js';
import { errorText, MAX_TIMER_MS, RUN_OPTIONS, successText, workerConfig, type WorkerOptions, type WorkerRunOptions, type WorkerSummary } from '../worker.js';
import { isConnectionError, type PgConnection } from './connection.js';
import { PgLifeline } from './lifeline.js';
import { nextClaimAt, PgQueue, releaseJobs, type PgJob } from './queue.js';
import { wakeKey } from './watcher.js';

/** After a lost connection while claiming, claim again this soon. */
const RETRY_MS = 200;

type Outcome = { kind: 'ok'; value: unknown } | { kind: 'error'; cause: unknown } | { kind: 'timeout' } | { kind: 'abandoned' } | { kind: 'lost' };

interface Running {
  job: PgJob<unknown>;
  interrupt: (o: Outcome) => void;
  done: Promise<void>;
}

interface Success {
  job: PgJob<unknown>;
  def: TaskDefinition;
  info: JobInfo;
  text: string;
  value: unknown;
  durationMs: number;
}

class ClaimLost extends Error {}

export class PgWorker extends WorkerEvents {
  readonly workerId: string;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly visibilityTimeoutS: number;
  readonly graceMs: number;
  private readonly queueNames: string[] | undefined;
  private runningNow = false;
  private readonly successes: Success[] = [];
  private flushScheduled = false;
  /** Settles in flight (group commits, failures): stop waits for them. */
  private readonly settling = new Set<Promise<void>>();

  /** @internal use db.worker() */
  constructor(
    private readonly db: PgConnection,
    options?: WorkerOptions,
  ) {
    super();
    const c = workerConfig('db.worker', options);
    this.queueNames = c.queueNames;
    this.concurrency = c.concurrency;
    this.batchSize = c.batchSize;
    this.visibilityTimeoutS = c.visibilityTimeoutS;
    this.graceMs = c.graceMs;
    this.workerId = c.workerId;
    db.assertOpen('db.worker');
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
    const queueNames = this.queueNames ?? [...taskRegistry(this.db.root).keys()];
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
    const queues = queueNames.map((name) => new PgQueue(this.db, name, { visibilityTimeoutS: this.visibilityTimeoutS }));
    return this.loop(queues, stop.signal, summary).finally(() => {
      signal?.removeEventListener('abort', onAbort);
      process.off('SIGINT', sigint);
      process.off('SIGTERM', sigterm);
      this.runningNow = false;
    });
  }

  private async loop(queues: PgQueue<unknown>[], stop: AbortSignal, summary: WorkerSummary): Promise<WorkerSummary> {
    const running = new Set<Running>();
    const buffer: PgJob<unknown>[] = [];
    let slotFreed: (() => void) | undefined;
    const beatMs = Math.min((this.visibilityTimeoutS * 1000) / 2, MAX_TIMER_MS);
    let beating = false;
    // Ref'd: a running worker keeps its process alive, like a server.
    const heartbeat = setInterval(() => {
      if (beating) return;
      beating = true;
      this.heartbeatAll(running, buffer, summary).finally(() => (beating = false));
    }, beatMs);
    const stopWait = new Promise<void>((resolve) => {
      if (stop.aborted) resolve();
      else stop.addEventListener('abort', () => resolve(), { once: true });
    });
    const queueNames = queues.map((q) => q.name);
    const clock = new ClaimClock();
    const lifeline = new PgLifeline(this.db, this.workerId);
    let rotation = 0;
    let sub: Awaited<ReturnType<PgConnection['subscribe']>> | undefined;
    try {
      sub = await this.db.subscribe(queueNames.map((q) => wakeKey('q', q)));
      for (const wake = wakeLoop(sub, { signal: stop }); wake.look(); await wake.sleep()) {
        clock.look(wake);
        await lifeline.ensure();
        while (buffer.length > 0 && running.size < this.concurrency) {
          const r: Running = this.start(buffer.shift() as PgJob<unknown>, summary, () => {
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
            const queue = queues[(rotation + i) % queues.length]!;
            const jobs = await queue.claimNow(this.workerId, this.batchSize - buffer.length, this.visibilityTimeoutS);
            summary.claimed += jobs.length;
            buffer.push(...jobs);
          }
        } catch (err) {
          if (!isConnectionError(err) || !this.db.isOpen) throw err;
          if (buffer.length === 0) {
            wake.until(Date.now() + RETRY_MS);
            continue;
          }
        }
        rotation++;
        if (buffer.length > 0) {
          clock.found();
          wake.again();
        } else {
          clock.schedule(wake, await nextClaimAt(this.db, queueNames).catch((err) => (isConnectionError(err) ? Math.floor(Date.now() / 1000) + 1 : Promise.reject(err))));
        }
      }
      // Stopping: hand back what never started, give the running ones graceMs.
      await this.releaseAll(buffer.splice(0), summary);
      if (running.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.graceMs)));
        await Promise.race([Promise.all([...running].map((r) => r.done)), grace]);
        clearTimeout(timer);
        for (const r of [...running]) r.interrupt({ kind: 'abandoned' });
        await Promise.all([...running].map((r) => r.done));
      }
      await this.settled();
      return summary;
    } finally {
      clearInterval(heartbeat);
      sub?.close();
      if (buffer.length > 0 && this.db.isOpen) await this.releaseAll(buffer.splice(0), summary).catch(() => undefined);
      await this.settled().catch(() => undefined);
      await lifeline.release().catch(() => undefined);
    }
  }

  /** Every settle started so far has finished. */
  private async settled(): Promise<void> {
    if (this.flushScheduled) await new Promise((r) => setImmediate(r));
    while (this.settling.size > 0) await Promise.all([...this.settling]);
  }

  private track(p: Promise<void>): void {
    const q = p.catch((err) => {
      if (this.db.isOpen) process.emitWarning(`honker worker: settling a job failed: ${(err as Error)?.stack ?? String(err)}`);
    });
    this.settling.add(q);
    q.finally(() => this.settling.delete(q));
  }

  private async releaseAll(jobs: PgJob<unknown>[], summary: WorkerSummary): Promise<void> {
    for (const job of await releaseJobs(this.db, jobs)) {
      summary.released++;
      this.emit('released', this.info(job, undefined));
    }
  }

  /** Extend every held claim; a claim found lost interrupts its handler's race. */
  private async heartbeatAll(running: Set<Running>, buffer: PgJob<unknown>[], summary: WorkerSummary): Promise<void> {
    if (!this.db.isOpen) return;
    await Promise.all([
      ...[...running].map((r) =>
        r.job.heartbeat(this.visibilityTimeoutS).then(
          (ok) => ok || r.interrupt({ kind: 'lost' }),
          () => undefined, // a lost connection: the next beat retries; the claim has half a timeout left
        ),
      ),
      ...[...buffer].map((job) =>
        job.heartbeat(this.visibilityTimeoutS).then(
          (ok) => {
            const i = buffer.indexOf(job);
            if (ok || i < 0) return;
            buffer.splice(i, 1);
            summary.lost++;
            this.emit('lost', { ...this.info(job, undefined), reason: 'claim lapsed before the job started' });
          },
          () => undefined,
        ),
      ),
    ]);
  }

  private info(job: PgJob<unknown>, task: string | undefined): JobInfo {
    return { jobId: job.id, queue: job.queue, task, attempt: job.attempts };
  }

  /** Start one claimed job; it holds its slot until its handler finished (and, for a transaction task, committed). */
  private start(job: PgJob<unknown>, summary: WorkerSummary, onDone: () => void): Running {
    const envelope = readEnvelope(job.payload);
    const info = this.info(job, envelope.task);
    const tasks = taskRegistry(this.db.root).get(job.queue);
    const def = envelope.problem === undefined ? tasks?.get(envelope.task) : undefined;
    if (envelope.problem !== undefined || !def) {
      const known = [...(tasks?.keys() ?? [])].join(', ') || 'none';
      const problem =
        envelope.problem ?? `unknown task ${JSON.stringify(envelope.task)} on queue ${JSON.stringify(job.queue)} (this worker knows: ${known})`;
      const done = this.deadNow(job, info, problem, summary).finally(onDone);
      this.track(done);
      return { job, interrupt: () => undefined, done: done.catch(() => undefined) };
    }
    const args = envelope.args;
    if (def.transaction) {
      const done = this.runInTransaction(job, def, args, info, summary).finally(onDone);
      this.track(done);
      return { job, interrupt: () => undefined, done: done.catch(() => undefined) };
    }
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
      this.settle(job, def, info, outcome, Date.now() - started, summary);
      onDone();
    });
    return { job, interrupt, done };
  }

  private settle(job: PgJob<unknown>, def: TaskDefinition, info: JobInfo, outcome: Outcome, durationMs: number, summary: WorkerSummary): void {
    if (outcome.kind === 'lost') {
      summary.lost++;
      this.emit('lost', { ...info, reason: 'claim lost while running (lapsed or cancelled)' });
      return;
    }
    if (outcome.kind === 'ok') {
      const value = outcome.value === undefined ? null : outcome.value;
      let text: string;
      try {
        text = successText(def, value);
      } catch (err) {
        this.track(this.fail(job, def, info, errorText(err), (err as Error).cause, durationMs, summary));
        return;
      }
      this.successes.push({ job, def, info, text, value, durationMs });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.track(this.flushSuccesses(summary)));
      }
      return;
    }
    const error =
      outcome.kind === 'error'
        ? errorText(outcome.cause)
        : outcome.kind === 'timeout'
          ? `task ${def.name} timed out after ${def.timeoutS} s`
          : `worker stopped: task ${def.name} did not finish within the ${this.graceMs} ms grace period`;
    if (outcome.kind === 'abandoned') summary.abandoned++;
    this.track(this.fail(job, def, info, error, outcome.kind === 'error' ? outcome.cause : undefined, durationMs, summary));
  }

  /** The group commit: every success of this turn acked with its result in one statement. */
  private async flushSuccesses(summary: WorkerSummary): Promise<void> {
    this.flushScheduled = false;
    const batch = this.successes.splice(0);
    if (batch.length === 0) return;
    const rows = await this.db.rows<{ id: string }>('SELECT unnest(honker_ack_results($1, $2, $3, $4)) AS id', [
      this.workerId,
      batch.map((s) => s.job.id),
      batch.map((s) => s.text),
      batch.map((s) => s.def.resultTtlS),
    ]);
    const acked = new Set(rows.map((r) => Number(r.id)));
    for (const s of batch) {
      if (acked.has(s.job.id)) {
        summary.completed++;
        this.emit('completed', { ...s.info, value: s.value, durationMs: s.durationMs });
      } else {
        summary.lost++;
        this.emit('lost', { ...s.info, reason: 'claim lost before the result was saved' });
      }
    }
  }

  /** A transaction task: handler, ack and result in one Postgres transaction. */
  private async runInTransaction(job: PgJob<unknown>, def: TaskDefinition, args: unknown[], info: JobInfo, summary: WorkerSummary): Promise<void> {
    const ctx: TaskContext = { signal: new AbortController().signal, jobId: job.id, attempt: job.attempts, taskName: def.name, queue: job.queue };
    const started = Date.now();
    let value: unknown;
    try {
      value = await this.db.root.transaction(async (tx) => {
        const v = await runWithContext(ctx, () => def.fn.apply(ctx, args));
        const text = successText(def, v === undefined ? null : v);
        if ((await tx.int('SELECT honker_ack($1, $2) AS v', [job.id, job.workerId])) !== 1) throw new ClaimLost('claim lost');
        await tx.value('SELECT honker_result_save($1, $2, $3) AS v', [job.id, text, def.resultTtlS]);
        return v === undefined ? null : v;
      });
    } catch (err) {
      if (err instanceof ClaimLost) {
        summary.lost++;
        this.emit('lost', { ...info, reason: 'claim lost before the transaction task committed' });
        return;
      }
      await this.fail(job, def, info, errorText(err), err, Date.now() - started, summary);
      return;
    }
    summary.completed++;
    this.emit('completed', { ...info, value, durationMs: Date.now() - started });
  }

  /** Retry the job (or dead-letter it when attempts are used up, saving the error result). */
  private async fail(job: PgJob<unknown>, def: TaskDefinition, info: JobInfo, error: string, cause: unknown, durationMs: number, summary: WorkerSummary): Promise<void> {
    const delayS = retryDelay(def, job.attempts);
    let died = false;
    try {
      await this.db.root.transaction(async (tx) => {
        if ((await tx.int('SELECT honker_retry($1, $2, $3, $4) AS v', [job.id, job.workerId, delayS, error])) !== 1) throw new ClaimLost('claim lost');
        if (!(await tx.value<string>('SELECT honker_get_job($1) AS v', [job.id]))) {
          died = true;
          await this.saveFailure(tx, job, error, def.resultTtlS);
        }
      });
    } catch (err) {
      if (err instanceof ClaimLost) {
        summary.lost++;
        this.emit('lost', { ...info, reason: 'claim lost before the failure was recorded' });
        return;
      }
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

  private async saveFailure(tx: PgConnection, job: PgJob<unknown>, error: string, ttlS: number): Promise<void> {
    const result: TaskResultEnvelope = { ok: false, error, attempts: job.attempts };
    await tx.value('SELECT honker_result_save($1, $2, $3) AS v', [job.id, resultEnvelopeText(result), ttlS]);
  }

  private async deadNow(job: PgJob<unknown>, info: JobInfo, error: string, summary: WorkerSummary): Promise<void> {
    try {
      await this.db.root.transaction(async (tx) => {
        if ((await tx.int('SELECT honker_fail($1, $2, $3) AS v', [job.id, job.workerId, error])) !== 1) throw new ClaimLost('claim lost');
        await this.saveFailure(tx, job, error, DEFAULT_RESULT_TTL_S);
      });
    } catch (err) {
      if (err instanceof ClaimLost) {
        summary.lost++;
        this.emit('lost', { ...info, reason: 'claim lost before the job was dead-lettered' });
        return;
      }
      throw err;
    }
    summary.dead++;
    this.emit('dead', { ...info, error });
  }

  protected override emit<K extends WorkerEventName>(name: K, event: WorkerEventMap[K]): void {
    super.emit(name, event);
  }
}
