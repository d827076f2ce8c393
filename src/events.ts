/**
 * The events a worker emits (worker.on(name, listener)), for logging and
 * metrics. Each listener gets one object. Order per job attempt:
 *   completed                     the handler returned; its result is saved and the job acked
 *   failed -> retried | dead      the handler threw, timed out, returned a value that is not
 *                                 JSON, or was abandoned at shutdown; then the job was either
 *                                 scheduled again (retried) or dead-lettered (dead)
 *   dead (alone)                  the payload is not a task envelope or names no task this
 *                                 worker knows: dead-lettered at once, the handler never ran
 *   released                      an unstarted claimed job handed back to pending at shutdown
 *   lost                          the claim was gone when the job settled (it lapsed and another
 *                                 worker took it, or it was cancelled): nothing was written
 * A listener that throws does not stop the worker (the error becomes a process warning).
 */
import { EventEmitter } from 'node:events';

export interface JobInfo {
  jobId: number;
  queue: string;
  /** The task name from the envelope (undefined when the payload is not an envelope). */
  task: string | undefined;
  /** The attempt's number (1 for the first run). */
  attempt: number;
}

export interface CompletedEvent extends JobInfo {
  value: unknown;
  durationMs: number;
}

export interface FailedEvent extends JobInfo {
  /** The error text stored with the job (last_error / the dead row). */
  error: string;
  /** What the handler threw (undefined for a timeout or abandonment). */
  cause: unknown;
  durationMs: number;
}

export interface RetriedEvent extends JobInfo {
  error: string;
  delayS: number;
}

export interface DeadEvent extends JobInfo {
  error: string;
}

export type ReleasedEvent = JobInfo;

export interface LostEvent extends JobInfo {
  reason: string;
}

export interface WorkerEventMap {
  completed: CompletedEvent;
  failed: FailedEvent;
  retried: RetriedEvent;
  dead: DeadEvent;
  released: ReleasedEvent;
  lost: LostEvent;
}

export type WorkerEventName = keyof WorkerEventMap;

/** A typed EventEmitter whose listeners cannot break the emitter. */
export class WorkerEvents {
  private readonly emitter = new EventEmitter();

  on<K extends WorkerEventName>(name: K, listener: (event: WorkerEventMap[K]) => void): this {
    this.emitter.on(name, listener);
    return this;
  }

  once<K extends WorkerEventName>(name: K, listener: (event: WorkerEventMap[K]) => void): this {
    this.emitter.once(name, listener);
    return this;
  }

  off<K extends WorkerEventName>(name: K, listener: (event: WorkerEventMap[K]) => void): this {
    this.emitter.off(name, listener);
    return this;
  }

  /** @internal */
  protected emit<K extends WorkerEventName>(name: K, event: WorkerEventMap[K]): void {
    for (const listener of this.emitter.listeners(name)) {
      try {
        (listener as (e: WorkerEventMap[K]) => void)(event);
      } catch (err) {
        process.emitWarning(`honker worker: a "${name}" listener threw: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
  }
}
