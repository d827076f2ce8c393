/**
 * Tasks (Huey-style): `queue.task(name, fn, opts)` registers a handler and
 * returns a typed function; calling it enqueues a job and returns a handle
 * whose get() waits for the result.
 *
 * The wire format (stable; any language can write and read it with raw SQL):
 *   job payload (the envelope):  {"task":"<name>","args":[<JSON values>],"v":1}
 *     e.g. SELECT honker_enqueue('emails', '{"task":"send_email","args":["alice","hi"],"v":1}',
 *                                NULL, NULL, 0, 4, NULL);
 *     "args" may be omitted (= []); "v" is required and must be 1. A worker
 *     dead-letters at once (the handler never runs) a payload that is not such
 *     an object, whose "v" is not 1, or whose task is not registered for its queue.
 *   result (honker_result_get(job_id)), saved by the worker:
 *     success: {"ok":true,"value":<the handler's return value, JSON>}
 *       (undefined is stored as null; a value JSON cannot hold, e.g. a BigInt,
 *       fails the attempt) — saved and acked in ONE transaction;
 *     death:   {"ok":false,"error":"<last error text>","attempts":<n>}
 *       — saved in the same transaction that dead-letters the job.
 *   Results expire after resultTtlS seconds (default 86400; 0 = kept forever).
 *   A job that dies without a worker saving this (its claim lapsed on the
 *   last attempt, expired by sweepExpired, failed by raw SQL) has no result:
 *   get() then reads the error from its dead row (honker_dead_get) and
 *   rejects with it; a job gone with no result and no dead row
 *   (cancelled, result expired) rejects with a JOB_FAILED error saying so.
 *
 * Options:
 *   retries      retries after the first attempt (default: queue maxAttempts - 1);
 *                `retries: 3` = up to 4 runs in all; the job's max_attempts = retries + 1.
 *   retryDelayS  delay before retry k (k = 1 for the first retry) is
 *                round(retryDelayS * backoff^(k-1)) seconds (default 0), at most 1 year.
 *   backoff      multiplier >= 1 (default 1: a constant delay).
 *   timeoutS     the handler's time limit (1 .. 2147483 s); when it passes, the handler's
 *                AbortSignal aborts and the job is retried (or dies) with the
 *                error "task <name> timed out after <n> s". A JS function
 *                cannot be killed: a handler that ignores its signal keeps
 *                running in the background, and whatever it returns later is
 *                dropped (its claim is gone, so it cannot ack).
 *   priority, expiresS   as queue.enqueue.
 *   resultTtlS   seconds a result is kept (default 86400; 0 = forever).
 *
 * The handler gets its context as `this` (a `function`, not an arrow) or
 * from currentTask() anywhere in its async call tree: { signal, jobId,
 * attempt, taskName, queue }.
 *
 * queue.periodicTask(schedule, name, fn, opts) registers the task and a
 * scheduler entry named `name` (one namespace across queues) whose fired jobs
 * carry {"task":name,"args":[],"v":1}; run db.scheduler().run() somewhere.
 *
 * Tasks register in a per-database registry (queue -> name -> task) that
 * db.worker() reads; registering the same queue/name again replaces it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { HonkerDatabase } from './database.js';
import { HonkerError } from './errors.js';
import { parsePayload, type Queue } from './queue.js';
import * as validate from './validate.js';

export const ENVELOPE_VERSION = 1;

export interface TaskOptions {
  retries?: number;
  timeoutS?: number;
  retryDelayS?: number;
  backoff?: number;
  priority?: number;
  expiresS?: number;
  resultTtlS?: number;
}

export interface TaskContext {
  /** Aborts when timeoutS passes or the worker gives up on the job at shutdown. */
  signal: AbortSignal;
  jobId: number;
  /** This attempt's number (1 for the first run). */
  attempt: number;
  taskName: string;
  queue: string;
}

export interface TaskEnvelope {
  task: string;
  args: unknown[];
  v: number;
}

export type TaskResultEnvelope = { ok: true; value: unknown } | { ok: false; error: string; attempts: number };

export interface TaskHandle<R> {
  /** The job id (also the result's key). */
  readonly id: number;
  readonly taskName: string;
  /**
   * Resolve with the return value once a worker ran the task; reject with a
   * JOB_FAILED HonkerError carrying the last error once the job is dead, and
   * with a TIMEOUT HonkerError after timeoutMs (default: wait forever).
   */
  get(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<R>;
}

/** A registered task: call it to enqueue. */
export interface Task<A extends unknown[], R> {
  (...args: A): TaskHandle<R>;
  readonly taskName: string;
  readonly queue: string;
  /** The handle of an already enqueued job of this task (e.g. from another process). */
  handle(id: number): TaskHandle<R>;
}

/** What the worker needs to run a task. */
export interface TaskDefinition {
  name: string;
  queue: string;
  fn: (this: TaskContext, ...args: unknown[]) => unknown;
  maxAttempts: number;
  timeoutS: number | undefined;
  retryDelayS: number;
  backoff: number;
  priority: number;
  expiresS: number | undefined;
  resultTtlS: number;
}

const TASK_OPTIONS = ['retries', 'timeoutS', 'retryDelayS', 'backoff', 'priority', 'expiresS', 'resultTtlS'] as const;
const DEFAULT_RESULT_TTL_S = 86400;
const MAX_TIMEOUT_S = Math.floor((2 ** 31 - 1) / 1000);

const registries = new WeakMap<HonkerDatabase, Map<string, Map<string, TaskDefinition>>>();
/** Databases on which this process defined tasks, for `honker worker <module>`. */
const databasesWithTasks = new Set<HonkerDatabase>();

/** @internal queue -> (task name -> definition) of this database. */
export function taskRegistry(db: HonkerDatabase): Map<string, Map<string, TaskDefinition>> {
  let reg = registries.get(db);
  if (!reg) {
    reg = new Map();
    registries.set(db, reg);
    databasesWithTasks.add(db);
  }
  return reg;
}

/** The open databases on which this process defined at least one task. */
export function taskDatabases(): HonkerDatabase[] {
  return [...databasesWithTasks].filter((db) => db.isOpen && registeredTasks(db).length > 0);
}

const contextStore = new AsyncLocalStorage<TaskContext>();

/** The context of the task running in this async call tree, or undefined outside a task. */
export function currentTask(): TaskContext | undefined {
  return contextStore.getStore();
}

/** @internal run fn as the handler of a job, with its context. */
export function runWithContext<T>(ctx: TaskContext, fn: () => T): T {
  return contextStore.run(ctx, fn);
}

/** @internal the retry delay before retry number `retry` (1-based). */
export function retryDelay(def: Pick<TaskDefinition, 'retryDelayS' | 'backoff'>, retry: number): number {
  const d = Math.round(def.retryDelayS * Math.pow(def.backoff, retry - 1));
  return Number.isFinite(d) ? Math.min(d, 365 * 86400) : 365 * 86400;
}

/** @internal check and register a task; returns its definition. */
export function defineTask(
  db: HonkerDatabase,
  queue: Queue<unknown>,
  where: string,
  name: unknown,
  fn: unknown,
  options: TaskOptions | undefined,
): TaskDefinition {
  validate.name(where, 'name', name);
  if (typeof fn !== 'function') throw validate.invalid(where, 'fn', 'be a function', fn);
  const opts = validate.options(where, options, TASK_OPTIONS);
  const retries = validate.optInt(where, 'retries', opts.retries, 0) ?? queue.maxAttempts - 1;
  // At most what setTimeout can wait (~24.8 days).
  const timeoutS = opts.timeoutS === undefined ? undefined : validate.int(where, 'timeoutS', opts.timeoutS, 1, MAX_TIMEOUT_S);
  const retryDelayS = validate.optInt(where, 'retryDelayS', opts.retryDelayS, 0) ?? 0;
  let backoff = 1;
  if (opts.backoff !== undefined) {
    if (typeof opts.backoff !== 'number' || !Number.isFinite(opts.backoff) || opts.backoff < 1) {
      throw validate.invalid(where, 'backoff', 'be a number >= 1', opts.backoff);
    }
    backoff = opts.backoff;
  }
  const priority = opts.priority === undefined ? 0 : validate.anyInt(where, 'priority', opts.priority);
  const expiresS = validate.optInt(where, 'expiresS', opts.expiresS, 1);
  const resultTtlS = validate.optInt(where, 'resultTtlS', opts.resultTtlS, 0) ?? DEFAULT_RESULT_TTL_S;
  db.assertOpen(where);
  const def: TaskDefinition = {
    name: name as string,
    queue: queue.name,
    fn: fn as TaskDefinition['fn'],
    maxAttempts: retries + 1,
    timeoutS,
    retryDelayS,
    backoff,
    priority,
    expiresS,
    resultTtlS,
  };
  const reg = taskRegistry(db);
  let byName = reg.get(queue.name);
  if (!byName) {
    byName = new Map();
    reg.set(queue.name, byName);
  }
  byName.set(def.name, def);
  return def;
}

/** @internal the envelope text of a call (throws INVALID_ARGUMENT for non-JSON args). */
export function envelopeText(where: string, taskName: string, args: unknown[]): string {
  args.forEach((arg, i) => {
    if (arg === undefined) throw validate.invalid(where, `args[${i}]`, 'be JSON-serialisable', arg);
    validate.json(where, `args[${i}]`, arg);
  });
  const envelope: TaskEnvelope = { task: taskName, args, v: ENVELOPE_VERSION };
  return JSON.stringify(envelope);
}

/** @internal the callable of a defined task. */
export function makeTask<A extends unknown[], R>(db: HonkerDatabase, def: TaskDefinition): Task<A, R> {
  const where = `task ${def.name}`;
  const handle = (id: number): TaskHandle<R> => ({
    id,
    taskName: def.name,
    get: (options) => getResult<R>(db, def, id, options),
  });
  const call = (...args: A): TaskHandle<R> => {
    const text = envelopeText(where, def.name, args);
    db.assertOpen(where);
    const id = db
      .sql('SELECT honker_enqueue(?, ?, ?, ?, ?, ?, ?)')
      .pluck()
      .get(def.queue, text, null, null, def.priority, def.maxAttempts, def.expiresS ?? null) as number;
    return handle(id);
  };
  const task = call as Task<A, R>;
  Object.defineProperty(task, 'taskName', { value: def.name, enumerable: true });
  Object.defineProperty(task, 'queue', { value: def.queue, enumerable: true });
  Object.defineProperty(task, 'handle', {
    value: (id: number) => handle(validate.int(`${where}.handle`, 'id', id, 1)),
    enumerable: true,
  });
  return task;
}

/** Parse a stored result envelope; a value that is not one is handed over as a success. */
/** A registered task as registeredTasks() lists it (e.g. for `honker worker --list`). */
export interface RegisteredTask {
  queue: string;
  name: string;
  retries: number;
  timeoutS: number | null;
  retryDelayS: number;
  backoff: number;
  priority: number;
  expiresS: number | null;
  resultTtlS: number;
}

/** Every task registered on db (queue.task / queue.periodicTask), ordered by queue then name. */
export function registeredTasks(db: HonkerDatabase): RegisteredTask[] {
  const out: RegisteredTask[] = [];
  for (const byName of taskRegistry(db).values()) {
    for (const d of byName.values()) {
      out.push({
        queue: d.queue,
        name: d.name,
        retries: d.maxAttempts - 1,
        timeoutS: d.timeoutS ?? null,
        retryDelayS: d.retryDelayS,
        backoff: d.backoff,
        priority: d.priority,
        expiresS: d.expiresS ?? null,
        resultTtlS: d.resultTtlS,
      });
    }
  }
  return out.sort((a, b) => (a.queue === b.queue ? (a.name < b.name ? -1 : 1) : a.queue < b.queue ? -1 : 1));
}

/** @internal drop a registration (periodicTask whose schedule was refused). */
export function undefineTask(db: HonkerDatabase, def: TaskDefinition): void {
  const byName = taskRegistry(db).get(def.queue);
  if (byName?.get(def.name) === def) byName.delete(def.name);
}

export function parseResultEnvelope(value: unknown): TaskResultEnvelope {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { ok?: unknown }).ok === 'boolean') {
    const v = value as { ok: boolean; value?: unknown; error?: unknown; attempts?: unknown };
    if (v.ok) return { ok: true, value: v.value ?? null };
    return { ok: false, error: String(v.error ?? 'failed'), attempts: typeof v.attempts === 'number' ? v.attempts : 0 };
  }
  return { ok: true, value };
}

function getResult<R>(
  db: HonkerDatabase,
  def: TaskDefinition,
  id: number,
  options: { timeoutMs?: number; signal?: AbortSignal } | undefined,
): Promise<R> {
  const where = 'task.get';
  const opts = validate.options(where, options, ['timeoutMs', 'signal']);
  const timeoutMs = validate.optInt(where, 'timeoutMs', opts.timeoutMs, 0);
  const signal = validate.signal(where, opts.signal);
  db.assertOpen(where);
  db.watcher(); // subscribe before the first read
  const deadlineMs = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  return waitResult<R>(db, def, id, timeoutMs, deadlineMs, signal);
}

/**
 * The result of job id once it is there, or the reason there will be none.
 * Reads the live row BEFORE the result: the worker saves the result and acks
 * in one transaction, so a job found gone whose result is not there yet has
 * none (dead, cancelled, or acked by something other than a worker).
 */
async function waitResult<R>(
  db: HonkerDatabase,
  def: TaskDefinition,
  id: number,
  timeoutMs: number | undefined,
  deadlineMs: number | undefined,
  signal: AbortSignal | undefined,
): Promise<R> {
  const label = `task ${def.name} (job ${id})`;
  for (;;) {
    db.assertOpen('task.get');
    const watcher = db.watcher();
    const since = watcher.generation();
    const live = db.sql('SELECT honker_get_job(?)').pluck().get(id);
    const stored = db.sql('SELECT honker_result_get(?)').pluck().get(id) as string | null;
    if (stored !== null) {
      const env = parseResultEnvelope(parsePayload(stored));
      if (env.ok) return env.value as R;
      throw new HonkerError('JOB_FAILED', `${label} died after ${env.attempts} attempt(s): ${env.error}`);
    }
    if (!live) {
      const dead = db.queue(def.queue).dead.get(id);
      if (dead) {
        throw new HonkerError('JOB_FAILED', `${label} died after ${dead.attempts} attempt(s): ${dead.lastError ?? 'failed'}`);
      }
      throw new HonkerError(
        'JOB_FAILED',
        `${label} is no longer queued and has no result (cancelled, its result expired, or it never existed)`,
      );
    }
    const reason = await watcher.wait(since, { signals: [signal, db.closeSignal], deadlineMs });
    if (reason === 'deadline') {
      throw new HonkerError('TIMEOUT', `task.get: ${label} has no result within ${timeoutMs} ms`);
    }
  }
}
