/**
 * The facade: open() and attach() return a HonkerDatabase, a Connection
 * (connection.ts: the better-sqlite3 connection with honker_ext loaded, its
 * statements, transactions and watcher) whose methods each delegate to one
 * feature module (queue.ts, notify.ts, stream.ts, results.ts, locks.ts,
 * scheduler.ts, worker.ts). Nothing below imports this file.
 */
import Database from 'better-sqlite3';
import { cannotOpen, openFailure, writeProblem } from './access.js';
import { Connection } from './connection.js';
import { HonkerError } from './errors.js';
import { listen, notify, type ListenOptions, type Notification } from './notify.js';
import { Queue, type QueueOptions } from './queue.js';
import { Results } from './results.js';
import { Lock, tryLock, tryRateLimit, type LockOptions, type RateLimitOptions } from './locks.js';
import { Scheduler } from './scheduler.js';
import { Stream } from './stream.js';
import { taskConnections } from './task.js';
import * as validate from './validate.js';
import { Worker, type WorkerOptions } from './worker.js';

export interface OpenOptions {
  /** Fallback poll interval of the commit watcher in ms (default 50; inotify wakes sooner). */
  watcherIntervalMs?: number;
  /** How long a write waits for another writer's lock (default 5000). */
  busyTimeoutMs?: number;
}

const OPEN_OPTIONS = ['watcherIntervalMs', 'busyTimeoutMs'] as const;

/** Open (creating if needed) a database file with honker ready to use. */
export function open(file: string, options?: OpenOptions): HonkerDatabase {
  const opts = validate.options('open', options, OPEN_OPTIONS);
  validate.name('open', 'file', file);
  if (file === ':memory:' || file.startsWith('file::memory:')) {
    throw new HonkerError(
      'INVALID_ARGUMENT',
      'open: ":memory:" cannot be used: honker wakes other processes through the database file; pass a file path',
    );
  }
  const busyTimeoutMs = validate.optInt('open', 'busyTimeoutMs', opts.busyTimeoutMs, 0) ?? 5000;
  validate.optInt('open', 'watcherIntervalMs', opts.watcherIntervalMs, 1);
  // Before SQLite: a file this user cannot write would open read-only and leave -wal and -shm files behind.
  const problem = file.startsWith('file:') ? undefined : writeProblem(file);
  if (problem) throw cannotOpen('open', problem);
  let raw: Database.Database | undefined;
  try {
    raw = new Database(file);
    raw.pragma(`busy_timeout = ${busyTimeoutMs}`);
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    return new HonkerDatabase(raw, { ...opts, checkpointInBackground: true });
  } catch (err) {
    raw?.close();
    throw openFailure('open', file, err) ?? namingFile(err, file);
  }
}

/** The same error (class and code kept), its message prefixed with the file it concerns. */
function namingFile(err: unknown, file: string): unknown {
  if (err instanceof Error && !(err instanceof HonkerError) && !err.message.includes(file)) {
    err.message = `open: ${file}: ${err.message}`;
  }
  return err;
}

/** Use honker on a better-sqlite3 connection the application already owns. */
export function attach(raw: Database.Database, options?: Pick<OpenOptions, 'watcherIntervalMs'>): HonkerDatabase {
  const opts = validate.options('attach', options, ['watcherIntervalMs']);
  if (!(raw instanceof Database)) throw validate.invalid('attach', 'db', 'be a better-sqlite3 Database', raw);
  if (raw.memory) {
    throw new HonkerError('INVALID_ARGUMENT', 'attach: an in-memory database cannot be watched by other processes; use a file');
  }
  try {
    return new HonkerDatabase(raw, opts);
  } catch (err) {
    throw openFailure('attach', raw.name, err) ?? err;
  }
}

export class HonkerDatabase extends Connection {
  /** Job results (honker_result_*). */
  readonly results: Results;

  /** @internal use open() or attach() */
  constructor(raw: Database.Database, options: { watcherIntervalMs?: number; checkpointInBackground?: boolean }) {
    super(raw, options);
    this.results = new Results(this);
  }

  /** A typed handle on the named queue. */
  queue<T = unknown>(name: string, options?: QueueOptions): Queue<T> {
    this.assertOpen('db.queue');
    return new Queue<T>(this, name, options);
  }

  /** Send a notification on channel; inside a transaction it is sent on commit. Returns its id. */
  notify(channel: string, payload: unknown): number {
    this.assertOpen('db.notify');
    return notify(this, channel, payload);
  }

  /** Notifications on channel committed after this call, as they arrive. */
  listen<T = unknown>(channel: string, options?: ListenOptions): AsyncIterableIterator<Notification<T>> {
    this.assertOpen('db.listen');
    return listen<T>(this, channel, options);
  }

  /** A typed handle on a stream topic. */
  stream<T = unknown>(topic: string): Stream<T> {
    this.assertOpen('db.stream');
    return new Stream<T>(this, topic);
  }

  /** The cron scheduler of this database. */
  scheduler(): Scheduler {
    this.assertOpen('db.scheduler');
    return new Scheduler(this);
  }

  /** A worker running this database's registered tasks (worker.ts); start it with run(). */
  worker(options?: WorkerOptions): Worker {
    this.assertOpen('db.worker');
    return new Worker(this, options);
  }

  /** Take the named lock, or null when someone else holds it. */
  tryLock(name: string, options?: LockOptions): Lock | null {
    this.assertOpen('db.tryLock');
    return tryLock(this, name, options);
  }

  /** Count one call against a fixed-window rate limit; false when over the limit. */
  tryRateLimit(name: string, options: RateLimitOptions): boolean {
    this.assertOpen('db.tryRateLimit');
    return tryRateLimit(this, name, options);
  }
}

/** The open databases on which this process defined at least one task (`honker worker <module>`). */
export function taskDatabases(): HonkerDatabase[] {
  return taskConnections().filter((db): db is HonkerDatabase => db instanceof HonkerDatabase);
}
