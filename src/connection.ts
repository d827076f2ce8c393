/**
 * The connection every feature module works through: a better-sqlite3
 * connection with honker_ext loaded and bootstrapped, its statement cache,
 * its transactions, the one watcher of its file and the signal that tells
 * waiting code it was closed.
 *
 * Feature modules (queue.ts, notify.ts, stream.ts …) take a Connection and
 * never import database.ts: HonkerDatabase (database.ts) is this class plus
 * the public facade, so the modules below it form no import cycle.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { Checkpointer } from './checkpoint.js';
import { HonkerError } from './errors.js';
import { load } from './extension.js';
import * as validate from './validate.js';
import { Watcher } from './watcher.js';

export interface ConnectionOptions {
  /** Fallback poll interval of the commit watcher in ms (default 50; inotify wakes sooner). */
  watcherIntervalMs?: number;
  /** Run WAL checkpoints from a timer instead of inside commits (open()'s own connections). */
  checkpointInBackground?: boolean;
}

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

export class Connection {
  /** The underlying better-sqlite3 connection: same transactions as honker's calls. */
  readonly raw: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly closeController = new AbortController();
  private readonly watcherIntervalMs: number | undefined;
  private watcherRef: Watcher | undefined;
  private readonly checkpointer: Checkpointer | undefined;
  private closed = false;
  private txRunner: Database.Transaction<(fn: () => unknown) => unknown> | undefined;

  /** @internal use open() or attach() */
  constructor(raw: Database.Database, options: ConnectionOptions) {
    this.raw = raw;
    this.watcherIntervalMs = options.watcherIntervalMs;
    load(raw);
    this.sql('SELECT honker_bootstrap()').get();
    if (options.checkpointInBackground) {
      // Our own connection: its commits never run a checkpoint; a timer does, between commits.
      // (PRAGMA wal_autocheckpoint = 0 would also remove the hook that signals each commit to
      // other processes' watchers: ext/commit_signal.c.)
      this.sql('SELECT honker_wal_autocheckpoint(0)').get();
      const pageSize = raw.pragma('page_size', { simple: true }) as number;
      this.checkpointer = new Checkpointer(raw, path.resolve(raw.name), pageSize);
    }
  }

  /** The database file's absolute path. */
  get file(): string {
    return this.raw.name;
  }

  get isOpen(): boolean {
    return !this.closed;
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

  /** @internal a cached prepared statement of this connection. */
  sql(text: string): Database.Statement {
    let stmt = this.statements.get(text);
    if (!stmt) {
      stmt = this.raw.prepare(text);
      this.statements.set(text, stmt);
    }
    return stmt;
  }

  /** @internal the shared commit watcher of this file (created on first use). */
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
