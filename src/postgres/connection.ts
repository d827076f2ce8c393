/**
 * The Postgres connection every feature module of src/postgres works
 * through (src/connection.ts is its SQLite twin): a pg.Pool (ours, or the
 * application's), the runner statements go to (the pool, or one client: a
 * transaction's or the application's own), the one LISTEN watcher of the
 * database, and the signal that tells waiting code it was closed.
 *
 * Views: db.transaction(fn) and db.withClient(client) return views of the
 * same database whose statements all run on one client, so honker's calls
 * join that client's transaction: the application's INSERT and the enqueue
 * commit together or not at all. A view shares everything else (watcher,
 * close signal, task registry) with the database it came from.
 *
 * Every statement is `SELECT honker_*(…)`: the SQL lives in pg/, the client
 * never names a table.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { HonkerError } from '../errors.js';
import * as validate from '../validate.js';
import type { WakeSource, WakeWatcher } from '../wake.js';
import type { WakeReason, WaitOptions } from '../watcher.js';
import { PgWatcher } from './watcher.js';

/** Anything that runs a parameterized query: a pg.Pool, a pg.Client or a pool's client. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
}

/** The time zone cron boundaries are computed in: this process's (TZ), as the SQLite extension does. */
export function processTimeZone(): string {
  return process.env.TZ || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** The transaction db.transaction(fn) runs fn in: calls on the same database inside fn join it. */
const currentTransaction = new AsyncLocalStorage<{ shared: Shared; client: pg.PoolClient }>();

/** What every view of one database shares. */
interface Shared {
  readonly pool: pg.Pool;
  readonly ownsPool: boolean;
  readonly label: string;
  readonly watcherKey: string;
  readonly closeController: AbortController;
  closed: boolean;
  watcher: PgWatcher | undefined;
  /** The database openPostgres returned: tasks register on it, whatever view defined them. */
  root: PgConnection | undefined;
  /** listen() start positions being read: a later notify() of this process waits for them. */
  listenStarts: Promise<unknown>;
}

/** Is err a lost connection or a server going away (worth a retry after a pause)? */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^(08|57P0)/.test(code) || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT') return true;
  return typeof e?.message === 'string' && /Connection terminated|connection is closed|Client has encountered a connection error/.test(e.message);
}

export class PgConnection {
  /** @internal */
  protected readonly shared: Shared;
  /** The one client of a transaction or withClient view (undefined: the pool, or the current transaction). */
  private readonly fixed: Queryable | undefined;
  /** True for a view whose statements run on one client (inside its transaction). */
  readonly inTransaction: boolean;

  /** @internal use openPostgres() */
  constructor(shared: Shared, runner: Queryable | undefined, inTransaction: boolean) {
    this.shared = shared;
    this.fixed = runner;
    this.inTransaction = inTransaction;
  }

  /**
   * Where statements go: this view's client; else, inside db.transaction(fn)
   * on this database, that transaction's client (so code called from fn joins
   * it without being handed `tx`); else the pool.
   */
  protected get runner(): Queryable {
    if (this.fixed) return this.fixed;
    const tx = currentTransaction.getStore();
    return tx && tx.shared === this.shared ? tx.client : this.shared.pool;
  }

  /** The pg client this view's statements run on (a transaction's, or the one given to withClient); undefined on the database itself. */
  get client(): pg.ClientBase | undefined {
    return (this.fixed as pg.ClientBase | undefined) ?? currentTransaction.getStore()?.client;
  }

  /** @internal */
  static sharedState(pool: pg.Pool, ownsPool: boolean, label: string, watcherKey: string): Shared {
    return { pool, ownsPool, label, watcherKey, closeController: new AbortController(), closed: false, watcher: undefined, root: undefined, listenStarts: Promise.resolve() };
  }

  /** @internal the database openPostgres returned (views share it). */
  get root(): PgConnection {
    return this.shared.root ?? this;
  }

  /** The pg.Pool (ours when openPostgres was given a URL, else the application's). */
  get pool(): pg.Pool {
    return this.shared.pool;
  }

  /** The database as a URL without its password, for messages. */
  get label(): string {
    return this.shared.label;
  }

  get isOpen(): boolean {
    return !this.shared.closed;
  }

  /** @internal aborted (with a CLOSED HonkerError) when the database closes. */
  get closeSignal(): AbortSignal {
    return this.shared.closeController.signal;
  }

  /** @internal throw a CLOSED error naming the method. */
  assertOpen(where: string): void {
    if (this.shared.closed) throw new HonkerError('CLOSED', `${where}: the database is closed`);
  }

  /** @internal the rows of one statement. */
  async rows<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]> {
    return (await this.runner.query(text, values)).rows as R[];
  }

  /** @internal the first column of the first row of one statement (`SELECT honker_x(…) AS v`). */
  async value<T = unknown>(text: string, values?: unknown[]): Promise<T> {
    const r = await this.runner.query(text, values);
    const row = r.rows[0] as Record<string, unknown> | undefined;
    return (row ? row[r.fields[0]!.name] : undefined) as T;
  }

  /** @internal value() as a number (bigint results arrive as strings). */
  async int(text: string, values?: unknown[]): Promise<number> {
    return Number(await this.value(text, values));
  }

  /**
   * @internal listen() reads its start (the newest notification id) at the call; a notify()
   * made after that call by this process must land after it, so it waits for the read.
   */
  orderAfter(start: Promise<unknown>): void {
    const prev = this.shared.listenStarts;
    this.shared.listenStarts = Promise.all([prev, start]).catch(() => undefined);
  }

  /** @internal resolves once every listen() start read issued so far is done. */
  listenStartsDone(): Promise<unknown> {
    return this.shared.listenStarts;
  }

  /** @internal the shared LISTEN watcher of this database (started on first use). */
  pgWatcher(): PgWatcher {
    this.assertOpen('watcher');
    if (!this.shared.watcher) {
      const options = (this.shared.pool as unknown as { options: pg.ClientConfig }).options;
      this.shared.watcher = PgWatcher.acquire(this.shared.watcherKey, () => new pg.Client(options));
    }
    return this.shared.watcher;
  }

  /**
   * @internal a wake source that wakes on the given keys (wakeKey()) only,
   * once the LISTEN connection listens on them; close() it when done.
   */
  async subscribe(keys: readonly string[]): Promise<WakeSource & { close(): void }> {
    const w = this.pgWatcher();
    await w.subscribe(keys);
    let closed = false;
    const watcher: WakeWatcher = {
      generation: () => w.generation(keys),
      wait: (since: number, options: WaitOptions): Promise<WakeReason> => w.wait(keys, since, options),
    };
    return {
      closeSignal: this.closeSignal,
      watcher: () => watcher,
      close: () => {
        if (closed) return;
        closed = true;
        w.unsubscribe(keys);
      },
    };
  }

  /**
   * Run fn(tx) inside BEGIN … COMMIT on one pooled client (ROLLBACK when it
   * throws) and return its result: every honker call made through `tx`, and
   * every statement run on `tx.client`, commits together. Inside a view that
   * is already in a transaction, a SAVEPOINT.
   */
  async transaction<T>(fn: (tx: this) => Promise<T> | T): Promise<T> {
    this.assertOpen('db.transaction');
    if (typeof fn !== 'function') throw validate.invalid('db.transaction', 'fn', 'be a function', fn);
    const outer = this.fixed ?? currentTransaction.getStore()?.client;
    if (outer) return this.savepoint(outer, fn);
    const client = await this.shared.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        const tx = this.view(client, true);
        const result = await currentTransaction.run({ shared: this.shared, client }, () => fn(tx));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  /** fn inside a savepoint of the transaction on client (a withClient client not in one: BEGIN … COMMIT). */
  private async savepoint<T>(client: Queryable, fn: (tx: this) => Promise<T> | T): Promise<T> {
    const tx = this.fixed === client ? this : this.view(client, true);
    const name = `honker_sp_${Math.random().toString(36).slice(2, 10)}`;
    let begun = false;
    try {
      await client.query(`SAVEPOINT ${name}`);
    } catch (err) {
      if ((err as { code?: unknown }).code !== '25P01') throw err; // no transaction in progress
      await client.query('BEGIN');
      begun = true;
    }
    try {
      const result = await fn(tx);
      await client.query(begun ? 'COMMIT' : `RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (err) {
      await client.query(begun ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
      throw err;
    }
  }

  /**
   * This database on a pg client the application owns: every honker call
   * made through the returned view runs on that client, so it joins the
   * transaction the application began there (BEGIN … your INSERT … enqueue …
   * COMMIT) and commits or rolls back with it.
   */
  withClient(client: pg.ClientBase): this {
    this.assertOpen('db.withClient');
    if (client === null || typeof client !== 'object' || typeof (client as { query?: unknown }).query !== 'function') {
      throw validate.invalid('db.withClient', 'client', 'be a pg Client or PoolClient', client);
    }
    return this.view(client, true);
  }

  /** @internal a view whose statements run on client. */
  protected view(client: Queryable, inTransaction: boolean): this {
    const Ctor = this.constructor as new (shared: Shared, runner: Queryable | undefined, inTransaction: boolean) => this;
    return new Ctor(this.shared, client, inTransaction);
  }

  /** Stop every iterator and the LISTEN connection; end the pool when it is ours. */
  async close(): Promise<void> {
    if (this.shared.closed) return;
    this.shared.closed = true;
    this.shared.closeController.abort(new HonkerError('CLOSED', `honker: the database ${this.shared.label} was closed`));
    this.shared.watcher?.release();
    this.shared.watcher = undefined;
    if (this.shared.ownsPool) await this.shared.pool.end();
  }
}
