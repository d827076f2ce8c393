/**
 * The worker on Postgres: `db.worker({ queues, concurrency, batchSize }).run({ signal })`
 * runs the tasks registered with queue.task() on this database. Same options,
 * events, summary and rules as src/worker.ts (its header is the contract),
 * the same loop (src/worker_loop.ts); what differs comes from the engine:
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
import { DEFAULT_RESULT_TTL_S, resultEnvelopeText, type TaskResultEnvelope } from '../envelope.js';
import type { JobInfo } from '../events.js';
import { runWithContext, taskRegistry, retryDelay, type TaskContext, type TaskDefinition } from '../task.js';
import { ClaimLost, errorText, successText, WorkerLoop, type WorkerOptions, type WorkerSession, type WorkerSummary } from '../worker_loop.js';
import { isConnectionError, type PgConnection } from './connection.js';
import { PgLifeline } from './lifeline.js';
import { nextClaimAt, PgQueue, releaseJobs, type PgJob } from './queue.js';
import { wakeKey } from './watcher.js';

/** After a lost connection while claiming, claim again this soon. */
const RETRY_MS = 200;

interface Success {
  job: PgJob<unknown>;
  def: TaskDefinition;
  info: JobInfo;
  text: string;
  value: unknown;
  durationMs: number;
}

export class PgWorker extends WorkerLoop<PgJob<unknown>> {
  private readonly successes: Success[] = [];
  private flushScheduled = false;
  /** Settles in flight (group commits, failures): stop waits for them. */
  private readonly settling = new Set<Promise<void>>();

  /** @internal use db.worker() */
  constructor(
    private readonly db: PgConnection,
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
    return taskRegistry(this.db.root);
  }

  protected async openSession(queueNames: string[]): Promise<WorkerSession<PgJob<unknown>>> {
    const db = this.db;
    const queues = new Map(queueNames.map((name) => [name, new PgQueue(db, name, { visibilityTimeoutS: this.visibilityTimeoutS })]));
    const lifeline = new PgLifeline(db, this.workerId);
    const sub = await db.subscribe(queueNames.map((q) => wakeKey('q', q)));
    return {
      wake: sub,
      retryMs: RETRY_MS,
      ensureLifeline: () => lifeline.ensure(),
      claim: (queue, n) => queues.get(queue)!.claimNow(this.workerId, n, this.visibilityTimeoutS),
      passing: isConnectionError,
      // A lost connection: look again in a second (the claim loop then waits RETRY_MS per try).
      nextClaimAt: () => nextClaimAt(db, queueNames).catch((err) => (isConnectionError(err) ? Math.floor(Date.now() / 1000) + 1 : Promise.reject(err))),
      release: (jobs) => releaseJobs(db, jobs),
      close: async () => {
        sub.close();
        await lifeline.release();
      },
    };
  }

  protected settleInSlot(fn: () => void | Promise<void>): Promise<void> {
    const done = Promise.resolve().then(fn);
    this.track(done);
    return done.catch(() => undefined);
  }

  protected settleAfterRun(fn: () => void | Promise<void>): void {
    const r = fn();
    if (r) this.track(r);
  }

  /** Every settle started so far has finished. */
  protected async settled(): Promise<void> {
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

  /** Successes wait for the group commit at the end of this event-loop turn. */
  protected succeed(job: PgJob<unknown>, info: JobInfo, text: string, def: TaskDefinition, value: unknown, durationMs: number, summary: WorkerSummary): void {
    this.successes.push({ job, def, info, text, value, durationMs });
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.track(this.flushSuccesses(summary)));
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
        this.lostClaim(s.info, 'claim lost before the result was saved', summary);
      }
    }
  }

  /** A transaction task: handler, ack and result in one Postgres transaction. */
  protected async runInTransaction(job: PgJob<unknown>, def: TaskDefinition, args: unknown[], info: JobInfo, summary: WorkerSummary): Promise<void> {
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
        this.lostClaim(info, 'claim lost before the transaction task committed', summary);
        return;
      }
      await this.fail(job, def, info, errorText(err), err, Date.now() - started, summary);
      return;
    }
    summary.completed++;
    this.emit('completed', { ...info, value, durationMs: Date.now() - started });
  }

  /** Retry the job (or dead-letter it when attempts are used up, saving the error result). */
  protected async fail(job: PgJob<unknown>, def: TaskDefinition, info: JobInfo, error: string, cause: unknown, durationMs: number, summary: WorkerSummary): Promise<void> {
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
        this.lostClaim(info, 'claim lost before the failure was recorded', summary);
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

  protected async deadNow(job: PgJob<unknown>, info: JobInfo, error: string, summary: WorkerSummary): Promise<void> {
    try {
      await this.db.root.transaction(async (tx) => {
        if ((await tx.int('SELECT honker_fail($1, $2, $3) AS v', [job.id, job.workerId, error])) !== 1) throw new ClaimLost('claim lost');
        await this.saveFailure(tx, job, error, DEFAULT_RESULT_TTL_S);
      });
    } catch (err) {
      if (err instanceof ClaimLost) {
        this.lostClaim(info, 'claim lost before the job was dead-lettered', summary);
        return;
      }
      throw err;
    }
    summary.dead++;
    this.emit('dead', { ...info, error });
  }

}
