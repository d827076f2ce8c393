/**
 * A honker database: a better-sqlite3 connection with honker_ext loaded and
 * bootstrapped, plus the one watcher of its file. The facade delegates each
 * feature to its module (queue.ts, notify.ts, stream.ts, results.ts,
 * locks.ts, scheduler.ts).
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { Checkpointer } from './checkpoint.js';
import { HonkerError } from './errors.js';
import { load } from './extension.js';
import { listen, notify, type ListenOptions, type Notification } from './notify.js';
import { Queue, type QueueOptions } from './queue.js';
import { Results } from './results.js';
import { Lock, tryLock, tryRateLimit, type LockOptions, type RateLimitOptions } from './locks.js';
import { Scheduler } from './scheduler.js';
import { Stream } from './stream.js';
import * as validate from './validate.js';
import { Watcher } from './watcher.js';
import { Worker, type WorkerOptions } from './worker.js';

export interface OpenOptions {
  /** Fallback poll interval of the commit watcher in ms (default 50; inotify wakes sooner). */
  watcherIntervalMs?: number;
  /** How long a write waits for another writer's lock (default 5000). */
  busyTimeoutMs?: number;
}

const OPEN_OPTIONS = ['watcherIntervalMs', 'busyTimeoutMs'] as const;

/** fn() inside db.transaction's wrapper; a Promise result is refused (and so rolled back). */
function runSync(fn: () => unknown): unknown {
  const result = fn();
  if (result && typeof (result as { then?: unknown }).then === 'function') {
    // Rolled back and reported by the throw; its later rejection must not crash the process.
    (result as PromiseLike<unknown>).then(undefined, () => undefined);
    throw new HonkerError(
      'INVALID_ARGUMENT',
      'db.transaction: fn returned a Promise; a SQLite transaction cannot span an await, so fn must be synchronous',
    );
  }
  return result;
}

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
    throw namingFile(err, file);
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
  return new HonkerDatabase(raw, opts);
}

export class HonkerDatabase {
  /** The underlying better-sqlite3 connection: same transactions as honker's calls. */
  readonly raw: Database.Database;
  /** Job results (honker_result_*). */
  readonly results: Results;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly closeController = new AbortController();
  private readonly watcherIntervalMs: number | undefined;
  private watcherRef: Watcher | undefined;
  private readonly checkpointer: Checkpointer | undefined;
  private closed = false;
  private txRunner: Database.Transaction<(fn: () => unknown) => unknown> | undefined;

  /** @internal use open() or attach() */
  constructor(raw: Database.Database, options: { watcherIntervalMs?: number; checkpointInBackground?: boolean }) {
    this.raw = raw;
    this.watcherIntervalMs = options.watcherIntervalMs;
    load(raw);
    this.sql('SELECT honker_bootstrap()').get();
    if (options.checkpointInBackground) {
      // Our own connection: its commits never run a checkpoint; a timer does, between commits.
      raw.pragma('wal_autocheckpoint = 0');
      const pageSize = raw.pragma('page_size', { simple: true }) as number;
      this.checkpointer = new Checkpointer(raw, path.resolve(raw.name), pageSize);
    }
    this.results = new Results(this);
  }

  /** The database file's absolute path. */
  get file(): string {
    return this.raw.name;
  }

  /**
   * Run fn inside BEGIN IMMEDIATE … COMMIT (ROLLBACK when it throws) and
   * return its result. Honker calls inside join the transaction; a nested
   * call becomes a savepoint. fn must be synchronous.
   */
  transaction<T>(fn: () => T): T {
    this.assertOpen('db.transaction');
    if (typeof fn !== 'function') throw validate.invalid('db.transaction', 'fn', 'be a function', fn);
    // Refuse an async function before it runs: what it writes after an await would commit on its own.
    if ((fn as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'AsyncFunction') {
      throw new HonkerError(
        'INVALID_ARGUMENT',
        'db.transaction: fn must be synchronous (got an async function); a SQLite transaction cannot span an await',
      );
    }
    // One better-sqlite3 wrapper for every call (making one per call costs more than a small transaction).
    this.txRunner ??= this.raw.transaction(runSync);
    return (this.raw.inTransaction ? this.txRunner(fn) : this.txRunner.immediate(fn)) as T;
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

  /** Stop every iterator, watcher and timer of this database, then close the connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Every waiting iterator of this database rejects with this reason.
    this.closeController.abort(new HonkerError('CLOSED', `honker: the database ${this.file} was closed`));
    this.watcherRef?.release();
    this.watcherRef = undefined;
    this.checkpointer?.stop();
    this.statements.clear();
    this.raw.close();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** @internal a cached prepared statement of this connection. */
  sql(text: string): Database.Statement {
    let stmt = this.statements.get(text);
    if (!stmt) {
      stmt = this.raw.prepare(text);
      this.statements.set(text, stmt);
    }
    return stmt;
  }

  /** @internal the shared commit watcher of this file (created on first wait). */
  watcher(): Watcher {
    this.assertOpen('watcher');
    if (!this.watcherRef) {
      this.watcherRef = Watcher.acquire(this.file, { intervalMs: this.watcherIntervalMs });
    }
    return this.watcherRef;
  }

  /** @internal aborted (with a CLOSED HonkerError) when the database closes. */
  get closeSignal(): AbortSignal {
    return this.closeController.signal;
  }

  /** @internal throw a CLOSED error naming the method. */
  assertOpen(where: string): void {
    if (this.closed || !this.raw.open) {
      throw new HonkerError('CLOSED', `${where}: the database is closed`);
    }
  }
}
