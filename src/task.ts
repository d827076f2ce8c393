/**
 * Tasks (Huey-style): `queue.task(name, fn, opts)` registers a handler and
 * returns a typed function; calling it enqueues a job and returns a handle
 * whose get() waits for the result.
 *
 * The wire format (the job's envelope and the result the worker saves) is
 * in envelope.ts. A job that dies without a worker saving its result (its
 * claim lapsed on the last attempt, expired by sweepExpired, failed by raw
 * SQL) has none: get() then reads the error from its dead row
 * (honker_dead_get) and rejects with it; a job gone with no result and no
 * dead row (cancelled, result expired) rejects with a JOB_FAILED error
 * saying so.
 *
 * Options:
 *   retries      retries after the first attempt (default: queue maxAttempts - 1);
 *                `retries: 3` = up to 4 runs in all; the job's max_attempts = retries + 1.
 *   retryDelayS  delay before retry k (k = 1 for the first retry) is
 *                round(retryDelayS * backoff^(k-1)) seconds (default 0); retryDelayS
 *                is at most 1 year (31536000), and so is each delay backoff grows.
 *   backoff      multiplier >= 1 (default 1: a constant delay).
 *   timeoutS     the handler's time limit (1 .. 2147483 s); when it passes, the handler's
 *                AbortSignal aborts and the job is retried (or dies) with the
 *                error "task <name> timed out after <n> s". A JS function
 *                cannot be killed: a handler that ignores its signal keeps
 *                running in the background, and whatever it returns later is
 *                dropped (its claim is gone, so it cannot ack).
 *   priority, expiresS   as queue.enqueue.
 *   resultTtlS   seconds a result is kept (default 86400; 0 = forever).
 *   transaction  true: the handler runs synchronously inside the transaction
 *                that acks the job and saves its result (each job in its own
 *                savepoint of the worker's group commit). Whatever it writes
 *                to this database commits exactly once, together with the
 *                ack: if the worker dies before the commit, nothing of it
 *                stays and the job runs again; if the claim was lost, the
 *                writes roll back. The handler must be synchronous (an async
 *                one is refused), timeoutS does not apply, and effects
 *                outside the database are still at-least-once.
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
 * db.worker() reads. Registering a name the queue already has is an error
 * (nothing is registered or written): a silent replacement would make calls
 * of the first task run the second one's code.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Connection } from './connection.js';
import { DeadLetters } from './dead.js';
import { DEFAULT_RESULT_TTL_S, envelopeText, parseResultEnvelope } from './envelope.js';
import { abortError, HonkerError } from './errors.js';
import { parsePayload } from './payload.js';
import { storedResult } from './results.js';
import * as validate from './validate.js';
import { wakeLoop } from './wake.js';

export interface TaskOptions {
  retries?: number;
  timeoutS?: number;
  retryDelayS?: number;
  backoff?: number;
  priority?: number;
  expiresS?: number;
  resultTtlS?: number;
  /**
   * Run the handler synchronously inside the transaction that acks the job
   * and saves its result: its writes to this database commit exactly once,
   * with the ack, or not at all (default false).
   */
  transaction?: boolean;
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
  /** Runs inside the settle transaction (TaskOptions.transaction). */
  transaction: boolean;
  /** Registered by queue.periodicTask (its schedule entry is named by the task's name alone). */
  periodic?: boolean;
}

const TASK_OPTIONS = ['retries', 'timeoutS', 'retryDelayS', 'backoff', 'priority', 'expiresS', 'resultTtlS', 'transaction'] as const;
export const MAX_TIMEOUT_S = Math.floor((2 ** 31 - 1) / 1000);
const MAX_RETRY_DELAY_S = 365 * 86400;

/** What tasks are registered on: a database of either engine (its close ends the registration). */
export interface TaskHost {
  readonly isOpen: boolean;
  readonly closeSignal: AbortSignal;
  assertOpen(where: string): void;
}

const registries = new WeakMap<TaskHost, Map<string, Map<string, TaskDefinition>>>();
/**
 * Connections on which this process defined tasks, for `honker worker <module>`.
 * Weak, and dropped at close: a registry must never keep a database alive.
 */
const connectionsWithTasks = new Set<WeakRef<TaskHost>>();

/** @internal queue -> (task name -> definition) of this database. */
export function taskRegistry(db: TaskHost): Map<string, Map<string, TaskDefinition>> {
  let reg = registries.get(db);
  if (!reg) {
    reg = new Map();
    registries.set(db, reg);
    const ref = new WeakRef(db);
    connectionsWithTasks.add(ref);
    db.closeSignal.addEventListener('abort', () => connectionsWithTasks.delete(ref), { once: true });
  }
  return reg;
}

/** @internal the open connections on which this process defined at least one task. */
export function taskConnections(): TaskHost[] {
  const out: TaskHost[] = [];
  for (const ref of connectionsWithTasks) {
    const db = ref.deref();
    if (!db) connectionsWithTasks.delete(ref);
    else if (db.isOpen && registeredTasks(db).length > 0) out.push(db);
  }
  return out;
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
  return Number.isFinite(d) ? Math.min(d, MAX_RETRY_DELAY_S) : MAX_RETRY_DELAY_S;
}

/** @internal check and register a task; returns its definition. */
export function defineTask(
  db: TaskHost,
  queue: { readonly name: string; readonly maxAttempts: number },
  where: string,
  name: unknown,
  fn: unknown,
  options: TaskOptions | undefined,
  engine: { asyncTransaction?: boolean } = {},
): TaskDefinition {
  validate.name(where, 'name', name);
  if (typeof fn !== 'function') throw validate.invalid(where, 'fn', 'be a function', fn);
  const opts = validate.options(where, options, TASK_OPTIONS);
  const retries = validate.optInt(where, 'retries', opts.retries, 0) ?? queue.maxAttempts - 1;
  // At most what setTimeout can wait (~24.8 days).
  const timeoutS = opts.timeoutS === undefined ? undefined : validate.int(where, 'timeoutS', opts.timeoutS, 1, MAX_TIMEOUT_S);
  const retryDelayS =
    opts.retryDelayS === undefined ? 0 : validate.int(where, 'retryDelayS', opts.retryDelayS, 0, MAX_RETRY_DELAY_S);
  let backoff = 1;
  if (opts.backoff !== undefined) {
    if (typeof opts.backoff !== 'number' || !Number.isFinite(opts.backoff) || opts.backoff < 1) {
      throw validate.invalid(where, 'backoff', 'be a number >= 1', opts.backoff);
    }
    backoff = opts.backoff;
  }
  const priority = opts.priority === undefined ? 0 : validate.anyInt(where, 'priority', opts.priority);
  const expiresS = validate.optSeconds(where, 'expiresS', opts.expiresS, 1);
  const resultTtlS = validate.optSeconds(where, 'resultTtlS', opts.resultTtlS, 0) ?? DEFAULT_RESULT_TTL_S;
  const transaction = opts.transaction ?? false;
  if (typeof transaction !== 'boolean') throw validate.invalid(where, 'transaction', 'be a boolean', transaction);
  // A Postgres transaction spans awaits (engine.asyncTransaction); a SQLite one cannot.
  if (transaction && !engine.asyncTransaction && (fn as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'AsyncFunction') {
    throw new HonkerError(
      'INVALID_ARGUMENT',
      `${where}: a transaction task's handler must be synchronous (got an async function): it runs inside the transaction that acks the job, which cannot span an await`,
    );
  }
  if (transaction && timeoutS !== undefined) {
    throw new HonkerError(
      'INVALID_ARGUMENT',
      `${where}: timeoutS cannot apply to a transaction task: its handler runs synchronously and cannot be interrupted; drop timeoutS or transaction`,
    );
  }
  db.assertOpen(where);
  if (taskRegistry(db).get(queue.name)?.has(name as string)) {
    throw new HonkerError(
      'INVALID_ARGUMENT',
      `${where}: name must not repeat a task of queue ${JSON.stringify(queue.name)} (got ${JSON.stringify(name)}): ` +
        'give this task another name, or register it once and import it where it is needed',
    );
  }
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
    transaction,
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

/** @internal the callable of a defined task. */
export function makeTask<A extends unknown[], R>(db: Connection, def: TaskDefinition): Task<A, R> {
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
  transaction: boolean;
}

/** Every task registered on db (queue.task / queue.periodicTask), ordered by queue then name. */
export function registeredTasks(db: TaskHost): RegisteredTask[] {
  const out: RegisteredTask[] = [];
  for (const byName of registries.get(db)?.values() ?? []) {
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
        transaction: d.transaction,
      });
    }
  }
  return out.sort((a, b) => (a.queue === b.queue ? (a.name < b.name ? -1 : 1) : a.queue < b.queue ? -1 : 1));
}

/**
 * @internal defineTask for queue.periodicTask (both engines). Its schedule entry is named by the
 * task's name alone, so a periodic task of the same name on another queue of this database
 * would silently take that one's schedule: refused.
 */
export function definePeriodicTask(
  db: TaskHost,
  queue: { readonly name: string; readonly maxAttempts: number },
  name: unknown,
  fn: unknown,
  options: TaskOptions | undefined,
  engine: { asyncTransaction?: boolean } = {},
): TaskDefinition {
  for (const [other, byName] of taskRegistry(db)) {
    if (other !== queue.name && typeof name === 'string' && byName.get(name)?.periodic) {
      throw new HonkerError(
        'INVALID_ARGUMENT',
        `queue.periodicTask: name must not repeat the periodic task of queue ${JSON.stringify(other)} (got ${JSON.stringify(name)}): ` +
          'a schedule is named by its task alone, so this one would take that one\'s schedule; give this one another name',
      );
    }
  }
  const def = defineTask(db, queue, 'queue.periodicTask', name, fn, options, engine);
  def.periodic = true;
  return def;
}

/** @internal drop a registration (periodicTask whose schedule was refused). */
export function undefineTask(db: TaskHost, def: TaskDefinition): void {
  const byName = taskRegistry(db).get(def.queue);
  if (byName?.get(def.name) === def) byName.delete(def.name);
}

/** @internal task.get's options, checked (both engines). */
export function resultWaitArgs(options: { timeoutMs?: number; signal?: AbortSignal } | undefined): {
  timeoutMs: number | undefined;
  deadlineMs: number | undefined;
  signal: AbortSignal | undefined;
} {
  const where = 'task.get';
  const opts = validate.options(where, options, ['timeoutMs', 'signal']);
  const timeoutMs = validate.optInt(where, 'timeoutMs', opts.timeoutMs, 0);
  const signal = validate.signal(where, opts.signal);
  return { timeoutMs, signal, deadlineMs: timeoutMs === undefined ? undefined : Date.now() + timeoutMs };
}

/**
 * @internal one look of task.get (both engines), given what it read: the
 * live row first, then the stored result (the worker saves the result and
 * acks in one transaction, so a job found gone whose result is not there yet
 * has none: dead, cancelled, or acked by something other than a worker).
 * Returns { value } when done, undefined to wait on; throws JOB_FAILED.
 */
export function resultLook<R>(label: string, live: unknown, stored: string | null, dead: () => { attempts: number; lastError: string | null } | null): { value: R } | undefined {
  if (stored !== null) {
    const env = parseResultEnvelope(parsePayload(stored));
    if (env.ok) return { value: env.value as R };
    throw new HonkerError('JOB_FAILED', `${label} died after ${env.attempts} attempt(s): ${env.error}`);
  }
  if (live) return undefined;
  const row = dead();
  if (row) throw new HonkerError('JOB_FAILED', `${label} died after ${row.attempts} attempt(s): ${row.lastError ?? 'failed'}`);
  throw new HonkerError('JOB_FAILED', `${label} is no longer queued and has no result (cancelled, its result expired, or it never existed)`);
}

/** @internal why task.get's wait ended without a result (both engines). */
export function resultWaitEnded(label: string, timeoutMs: number | undefined, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return abortError(signal, 'honker wait');
  return new HonkerError('TIMEOUT', `task.get: ${label} has no result within ${timeoutMs} ms`);
}

function getResult<R>(db: Connection, def: TaskDefinition, id: number, options: { timeoutMs?: number; signal?: AbortSignal } | undefined): Promise<R> {
  const { timeoutMs, deadlineMs, signal } = resultWaitArgs(options);
  db.assertOpen('task.get');
  db.watcher(); // subscribe before the first read
  return waitResult<R>(db, def, id, timeoutMs, deadlineMs, signal);
}

/** The result of job id once it is there, or the reason there will be none (resultLook). */
async function waitResult<R>(
  db: Connection,
  def: TaskDefinition,
  id: number,
  timeoutMs: number | undefined,
  deadlineMs: number | undefined,
  signal: AbortSignal | undefined,
): Promise<R> {
  const label = `task ${def.name} (job ${id})`;
  for (const wake = wakeLoop(db, { signal, deadlineMs }); wake.look(); await wake.sleep()) {
    const live = db.sql('SELECT honker_get_job(?)').pluck().get(id);
    const found = resultLook<R>(label, live, storedResult(db, id), () => new DeadLetters(db, def.queue).get(id));
    if (found) return found.value;
  }
  throw resultWaitEnded(label, timeoutMs, signal);
}
