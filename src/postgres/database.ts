/**
 * The Postgres facade: `await openPostgres(urlOrPool)` returns a
 * PgHonkerDatabase with the names of the SQLite client's HonkerDatabase
 * (src/database.ts), each method one line into a feature module of
 * src/postgres; methods that reach the server return promises.
 *
 * Opening: a URL (`postgres://…` or `postgresql://…`) makes a pg.Pool of our
 * own (ended by close()); a pg.Pool the application owns is used as it is
 * (close() leaves it open). Either way the first connection installs or
 * upgrades the SQL surface and bootstraps the tables (src/postgres/install.ts),
 * so opening a current database costs one read.
 */
import pg from 'pg';
import { HonkerError } from '../errors.js';
import type { LockOptions, RateLimitOptions } from '../locks.js';
import type { ListenOptions, Notification } from '../notify.js';
import type { QueueOptions } from '../queue.js';
import { taskConnections } from '../task.js';
import * as validate from '../validate.js';
import type { WorkerOptions } from '../worker.js';
import { PgConnection, type Queryable } from './connection.js';
import { install, isInstalled } from './install.js';
import { PgLock, tryLock, tryRateLimit } from './locks.js';
import { listen, notify } from './notify.js';
import { PgQueue } from './queue.js';
import { PgResults } from './results.js';
import { PgScheduler } from './scheduler.js';
import { PgStream } from './stream.js';
import { PgWorker } from './worker.js';

export interface OpenPostgresOptions {
  /** Connections of the pool openPostgres makes from a URL (default 10); ignored for a pool you pass. */
  poolSize?: number;
  /**
   * false: never install or upgrade honker's functions and tables (a
   * read-only tool): the database must already have them, in whatever
   * version installed them. Default true.
   */
  install?: boolean;
}

const OPEN_OPTIONS = ['poolSize', 'install'] as const;

/** A postgres:// URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/** Is value a postgres:// or postgresql:// URL (what the CLI and openPostgres take)? */
export const isPostgresUrl = validate.isPostgresUrl;

/** For install: false: the database has honker's tables and functions (any version), else an error. */
async function assertInstalled(client: pg.PoolClient): Promise<void> {
  if (!(await isInstalled(client))) throw new Error('honker is not installed there (no _honker_live table), and install: false never installs it');
}

/**
 * Open a Postgres database with honker ready to use: installs or upgrades
 * honker's functions and tables on first use (concurrent openers wait for
 * one another). Pass a URL or your own pg.Pool.
 */
export async function openPostgres(urlOrPool: string | pg.Pool, options?: OpenPostgresOptions): Promise<PgHonkerDatabase> {
  const opts = validate.options('openPostgres', options, OPEN_OPTIONS);
  const poolSize = validate.optInt('openPostgres', 'poolSize', opts.poolSize, 1) ?? 10;
  if (opts.install !== undefined && typeof opts.install !== 'boolean') throw validate.invalid('openPostgres', 'install', 'be true or false', opts.install);
  let pool: pg.Pool;
  let owns: boolean;
  let label: string;
  let key: string;
  if (typeof urlOrPool === 'string') {
    if (!isPostgresUrl(urlOrPool)) throw validate.invalid('openPostgres', 'url', 'be a postgres:// or postgresql:// URL, or a pg.Pool', urlOrPool);
    pool = new pg.Pool({ connectionString: urlOrPool, max: poolSize, allowExitOnIdle: true });
    owns = true;
    label = redact(urlOrPool);
    key = urlOrPool;
  } else if (urlOrPool instanceof pg.Pool) {
    pool = urlOrPool;
    owns = false;
    const o = (pool as unknown as { options: pg.PoolConfig }).options;
    key = o.connectionString ?? JSON.stringify([o.host, o.port, o.database, o.user]);
    label = o.connectionString ? redact(o.connectionString) : `postgres://${o.user ?? ''}@${o.host ?? 'localhost'}:${o.port ?? 5432}/${o.database ?? ''}`;
  } else {
    throw validate.invalid('openPostgres', 'urlOrPool', 'be a postgres:// URL or a pg.Pool', urlOrPool);
  }
  // An idle client's error (the server restarting) must not crash the process: the pool drops it.
  const onIdleError = () => undefined;
  pool.on('error', onIdleError);
  try {
    const client = await pool.connect();
    try {
      if (opts.install === false) await assertInstalled(client);
      else await install(client);
    } finally {
      client.release();
    }
  } catch (err) {
    if (owns) await pool.end().catch(() => undefined);
    throw new HonkerError('CANNOT_OPEN', `openPostgres: ${label}: ${(err as Error).message}`, { cause: err });
  }
  const shared = PgConnection.sharedState(pool, owns, label, key);
  const db = new PgHonkerDatabase(shared, undefined, false);
  shared.root = db;
  return db;
}

export class PgHonkerDatabase extends PgConnection {
  /** Job results (honker_result_*). */
  readonly results: PgResults;

  /** @internal use openPostgres() */
  constructor(shared: ReturnType<typeof PgConnection.sharedState>, runner: Queryable | undefined, inTransaction: boolean) {
    super(shared, runner, inTransaction);
    this.results = new PgResults(this);
  }

  /** A typed handle on the named queue. */
  queue<T = unknown>(name: string, options?: QueueOptions): PgQueue<T> {
    this.assertOpen('db.queue');
    return new PgQueue<T>(this, name, options);
  }

  /** Send a notification on channel; inside a transaction it is sent on commit. Resolves with its id. */
  notify(channel: string, payload: unknown): Promise<number> {
    this.assertOpen('db.notify');
    return notify(this, channel, payload);
  }

  /** Notifications on channel committed after this call, as they arrive. */
  listen<T = unknown>(channel: string, options?: ListenOptions): AsyncGenerator<Notification<T>, void, undefined> {
    this.assertOpen('db.listen');
    return listen<T>(this, channel, options);
  }

  /** A typed handle on a stream topic. */
  stream<T = unknown>(topic: string): PgStream<T> {
    this.assertOpen('db.stream');
    return new PgStream<T>(this, topic);
  }

  /** The cron scheduler of this database. */
  scheduler(): PgScheduler {
    this.assertOpen('db.scheduler');
    return new PgScheduler(this);
  }

  /** A worker running this database's registered tasks; start it with run(). */
  worker(options?: WorkerOptions): PgWorker {
    this.assertOpen('db.worker');
    return new PgWorker(this, options);
  }

  /** Take the named lock, or null when someone else holds it. */
  tryLock(name: string, options?: LockOptions): Promise<PgLock | null> {
    this.assertOpen('db.tryLock');
    return tryLock(this, name, options);
  }

  /** Count one call against a fixed-window rate limit; false when over the limit. */
  tryRateLimit(name: string, options: RateLimitOptions): Promise<boolean> {
    this.assertOpen('db.tryRateLimit');
    return tryRateLimit(this, name, options);
  }
}

/** The open Postgres databases on which this process defined at least one task (`honker worker <module>`). */
export function pgTaskDatabases(): PgHonkerDatabase[] {
  return taskConnections().filter((db): db is PgHonkerDatabase => db instanceof PgHonkerDatabase);
}
