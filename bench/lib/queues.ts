/**
 * The queue libraries the end-to-end, wake and peer scenarios drive, behind
 * one small interface, each used the way its README shows:
 *   honker           tasks + db.worker (concurrency 8, batchSize 32)
 *   honker-iterator  queue.claim iterator (batchSize 32), job.ack() per job
 *   plainjob         defineQueue + defineWorker (one job at a time; it polls)
 *   liteque          SqliteQueue + Runner (concurrency 8; it polls)
 * A consumer calls onJob(payload) from its handler and stops when `signal`
 * aborts. The peers find work by polling: `pollMs` sets their interval
 * (their documented default is 1000 ms); honker wakes on commits.
 */
import Database from 'better-sqlite3';
import { open, type HonkerDatabase } from '../../src/index.js';

export type Payload = Record<string, unknown>;
export type LibName = 'honker' | 'honker-iterator' | 'plainjob' | 'liteque';
export const LIBS: LibName[] = ['honker', 'honker-iterator', 'plainjob', 'liteque'];

export interface QueueHandle {
  /** One job in its own transaction. */
  enqueue(p: Payload): void | Promise<void>;
  /** Jobs in one transaction. */
  enqueueMany(ps: Payload[]): void | Promise<void>;
  /** Run the library's consumer until signal aborts. */
  consume(onJob: (p: Payload) => void, signal: AbortSignal, pollMs: number): Promise<void>;
  close(): void;
}

/** The queue every library's handle uses. */
export const QUEUE = 'bench';

function honker(file: string, iterator: boolean): QueueHandle {
  const db: HonkerDatabase = open(file);
  const q = db.queue<Payload>(QUEUE);
  let onJob: (p: Payload) => void = () => {};
  const task = q.task('bench_job', (p: Payload) => onJob(p), { retries: 0 });
  return {
    // The worker runs task envelopes; the iterator sees plain payloads.
    enqueue: (p) => void (iterator ? q.enqueue(p) : task(p)),
    enqueueMany: (ps) =>
      db.transaction(() => {
        for (const p of ps) void (iterator ? q.enqueue(p) : task(p));
      }),
    async consume(fn, signal) {
      onJob = fn;
      if (iterator) {
        try {
          for await (const job of q.claim('bench', { batchSize: 32, signal })) {
            fn(job.payload);
            job.ack();
          }
        } catch (err) {
          if (!signal.aborted) throw err;
        }
        return;
      }
      await db.worker({ queues: [QUEUE], concurrency: 8, batchSize: 32 }).run({ signal });
    },
    close: () => db.close(),
  };
}

async function plainjob(file: string): Promise<QueueHandle> {
  const { better, defineQueue, defineWorker } = await import('plainjob');
  const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };
  const queue = defineQueue({ connection: better(new Database(file)), logger: silent });
  return {
    enqueue: (p) => void queue.add(QUEUE, p),
    enqueueMany: (ps) => void queue.addMany(QUEUE, ps),
    async consume(fn, signal, pollMs) {
      const worker = defineWorker(QUEUE, (job) => fn(JSON.parse(job.data) as Payload), {
        queue,
        pollIntervall: pollMs,
        logger: silent,
      });
      signal.addEventListener('abort', () => void worker.stop(), { once: true });
      await worker.start();
    },
    close: () => queue.close(),
  };
}

/**
 * liteque's dequeue passes an async function to a drizzle transaction, which
 * better-sqlite3 refuses since 11.10 ("Transaction function cannot return a
 * promise"; karakeep-app/karakeep#1594 — liteque's own app pins 11.3). This
 * gives its connection the behaviour it has under 11.3: BEGIN, run the
 * function up to its first await, COMMIT, and hand back the promise.
 */
function legacyTransactions(raw: Database.Database): void {
  type Fn = (...args: unknown[]) => unknown;
  const make = (fn: Fn, begin: string) =>
    function (this: unknown, ...args: unknown[]): unknown {
      raw.exec(begin);
      try {
        const result = fn.apply(this, args);
        raw.exec('COMMIT');
        return result;
      } catch (err) {
        if (raw.inTransaction) raw.exec('ROLLBACK');
        throw err;
      }
    };
  (raw as unknown as { transaction: (fn: Fn) => unknown }).transaction = (fn: Fn) =>
    Object.assign(make(fn, 'BEGIN'), {
      deferred: make(fn, 'BEGIN DEFERRED'),
      immediate: make(fn, 'BEGIN IMMEDIATE'),
      exclusive: make(fn, 'BEGIN EXCLUSIVE'),
    });
}

async function liteque(file: string): Promise<QueueHandle> {
  const { buildDBClient, Runner, SqliteQueue } = await import('liteque');
  const db = buildDBClient(file, { runMigrations: true });
  const queue = new SqliteQueue<Payload>(QUEUE, db, { defaultJobArgs: { numRetries: 0 }, keepFailedJobs: false });
  // drizzle keeps the better-sqlite3 connection as session.client.
  const raw = (db as unknown as { session: { client: Database.Database } }).session.client;
  legacyTransactions(raw);
  return {
    enqueue: async (p) => void (await queue.enqueue(p)),
    async enqueueMany(ps) {
      raw.exec('BEGIN IMMEDIATE');
      try {
        for (const p of ps) await queue.enqueue(p);
        raw.exec('COMMIT');
      } catch (err) {
        raw.exec('ROLLBACK');
        throw err;
      }
    },
    async consume(fn, signal, pollMs) {
      const runner = new Runner<Payload>(
        queue,
        { run: async (job) => fn(job.data), onError: async () => {} },
        { concurrency: 8, pollIntervalMs: pollMs, timeoutSecs: 60 },
      );
      signal.addEventListener('abort', () => runner.stop(), { once: true });
      await runner.run();
    },
    close: () => raw.close(),
  };
}

/** Open `file` with library `lib` (creating its tables). */
export async function openQueue(lib: LibName, file: string): Promise<QueueHandle> {
  switch (lib) {
    case 'honker':
      return honker(file, false);
    case 'honker-iterator':
      return honker(file, true);
    case 'plainjob':
      return plainjob(file);
    case 'liteque':
      return liteque(file);
  }
}
