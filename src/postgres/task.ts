/**
 * Tasks on Postgres (src/task.ts is the SQLite twin and holds what both
 * engines share: the options and their checks, the registry db.worker reads,
 * the handler context, the retry delays; src/envelope.ts is the wire format).
 * Here a call enqueues asynchronously: `const handle = await sendEmail(to)`;
 * inside db.transaction it joins the transaction. handle.get() waits on the
 * LISTEN connection for the job's result ('r:<id>', woken when a worker saves
 * it or the job ends without one).
 */
import { DEFAULT_RESULT_TTL_S, envelopeText } from '../envelope.js';
import { resultLook, resultWaitArgs, resultWaitEnded, type TaskDefinition } from '../task.js';
import * as validate from '../validate.js';
import { wakeLoop } from '../wake.js';
import type { PgConnection } from './connection.js';
import { PgDeadLetters } from './dead.js';
import { wakeKey } from './watcher.js';

export { DEFAULT_RESULT_TTL_S };

export interface PgTaskHandle<R> {
  /** The job id (also the result's key). */
  readonly id: number;
  readonly taskName: string;
  /**
   * Resolve with the return value once a worker ran the task; reject with a
   * JOB_FAILED HonkerError once the job is dead, and with a TIMEOUT one after
   * timeoutMs (default: wait forever).
   */
  get(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<R>;
}

/** A registered task: call it to enqueue (resolves with the handle). */
export interface PgTask<A extends unknown[], R> {
  (...args: A): Promise<PgTaskHandle<R>>;
  readonly taskName: string;
  readonly queue: string;
  /** The handle of an already enqueued job of this task (e.g. from another process). */
  handle(id: number): PgTaskHandle<R>;
}

/** @internal the callable of a defined task. */
export function makePgTask<A extends unknown[], R>(db: PgConnection, def: TaskDefinition): PgTask<A, R> {
  const where = `task ${def.name}`;
  const handle = (id: number): PgTaskHandle<R> => ({
    id,
    taskName: def.name,
    get: (options) => getResult<R>(db, def, id, options),
  });
  const call = (...args: A): Promise<PgTaskHandle<R>> => {
    const text = envelopeText(where, def.name, args);
    db.assertOpen(where);
    return db
      .int('SELECT honker_enqueue($1, $2, $3, $4, $5, $6, $7) AS v', [def.queue, text, null, null, def.priority, def.maxAttempts, def.expiresS ?? null])
      .then(handle);
  };
  const task = call as PgTask<A, R>;
  Object.defineProperty(task, 'taskName', { value: def.name, enumerable: true });
  Object.defineProperty(task, 'queue', { value: def.queue, enumerable: true });
  Object.defineProperty(task, 'handle', {
    value: (id: number) => handle(validate.int(`${where}.handle`, 'id', id, 1)),
    enumerable: true,
  });
  return task;
}

function getResult<R>(db: PgConnection, def: TaskDefinition, id: number, options: { timeoutMs?: number; signal?: AbortSignal } | undefined): Promise<R> {
  const { timeoutMs, deadlineMs, signal } = resultWaitArgs(options);
  db.assertOpen('task.get');
  db.pgWatcher(); // LISTEN before the first read
  return waitResult<R>(db, def, id, timeoutMs, deadlineMs, signal);
}

/** The result of job id once it is there, or the reason there will be none (resultLook in src/task.ts). */
async function waitResult<R>(
  db: PgConnection,
  def: TaskDefinition,
  id: number,
  timeoutMs: number | undefined,
  deadlineMs: number | undefined,
  signal: AbortSignal | undefined,
): Promise<R> {
  const label = `task ${def.name} (job ${id})`;
  const sub = await db.subscribe([wakeKey('r', id)]);
  try {
    for (const wake = wakeLoop(sub, { signal, deadlineMs }); wake.look(); await wake.sleep()) {
      const live = await db.value<string>('SELECT honker_get_job($1) AS v', [id]);
      const stored = await db.value<string | null>('SELECT honker_result_get($1) AS v', [id]);
      // The dead row is read only when the job is gone without a result.
      const dead = !live && stored === null ? await new PgDeadLetters(db, def.queue).get(id) : null;
      const found = resultLook<R>(label, live, stored, () => dead);
      if (found) return found.value;
    }
  } finally {
    sub.close();
  }
  throw resultWaitEnded(label, timeoutMs, signal);
}
