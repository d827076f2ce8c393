/**
 * The two engines under the dashboard: what it needs of a database besides
 * the views, in one small object per engine.
 *
 *   SQLite (a Connection: open() or attach()): calls are synchronous
 *     better-sqlite3 statements; live pages sleep on the file's commit
 *     watcher, which wakes on every commit of any process.
 *   Postgres (a PgConnection: openPostgres() from 'honker/postgres'): calls
 *     go through the pool; live pages sleep on a LISTEN subscription to
 *     'honker:*', which every honker_wake of pg/ notifies on commit (an
 *     enqueue, retry, release, requeue, run-now, a job's end with a result
 *     or without an ack, notify, a stream event, a schedule change). A
 *     claim, an ack without a result and a heartbeat notify nothing there:
 *     the hub looks every second whether anything committed at all
 *     (committedSince: the server's snapshot, no table read; live.ts).
 *
 * This file loads no Postgres code and names no `pg` type: a Postgres
 * database is used through the few methods of PostgresDashboardDatabase, so
 * `import { dashboard } from 'honker'` loads no `pg` and its types need none.
 */
import { Connection } from '../connection.js';
import { HonkerError } from '../errors.js';
import { ANY_WAKE_KEY } from '../postgres/watcher.js';
import type { WakeSource } from '../wake.js';
import type { DashboardSql } from './data.js';

/** What the live hub sleeps on; close() releases it (UNLISTEN on Postgres). */
export type LiveSource = WakeSource & {
  close(): void;
  /**
   * Postgres: whether a transaction that wrote anything ended since the previous call (true on
   * the first). A claim, an ack without a result and a heartbeat notify nothing, so the hub asks
   * this once in a while for them; SQLite has no need (its watcher sees every commit).
   */
  committedSince?(): Promise<boolean>;
};

/**
 * What the dashboard uses of a Postgres database: the PgHonkerDatabase that
 * openPostgres() returns ('honker/postgres') has all of it.
 */
export interface PostgresDashboardDatabase {
  /** The URL without its password. */
  readonly label: string;
  readonly isOpen: boolean;
  /** The first column of the first row of one statement. */
  value(text: string, values?: unknown[]): Promise<unknown>;
  /** fn inside BEGIN … COMMIT; value() calls made inside it join the transaction. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /** A wake source woken by commits that notify one of keys (LISTEN). */
  subscribe(keys: readonly string[]): Promise<LiveSource>;
}

/** Either engine's database, as dashboard(db) takes it: open() / attach(), or openPostgres(). */
export type DashboardDatabase = Connection | PostgresDashboardDatabase;

export interface DashboardEngine extends DashboardSql {
  /** What the page header names: the file's path, or the URL without its password. */
  readonly label: string;
  readonly isOpen: boolean;
  /** A wake source for the live pages (see the file header). */
  liveSource(): Promise<LiveSource>;
}

function sqliteEngine(db: Connection): DashboardEngine {
  const call = (fn: string, args: readonly unknown[] = []): unknown =>
    db.sql(`SELECT ${fn}(${args.map(() => '?').join(', ')})`).pluck().get(...args);
  return {
    get label() {
      return db.file;
    },
    get isOpen() {
      return db.isOpen;
    },
    call: async (fn, args) => call(fn, args),
    now: async () => db.sql('SELECT unixepoch()').pluck().get() as number,
    // Synchronous, inside db.transaction: no other request's code can run (and so write)
    // between its statements, as it could between the awaits of an async transaction.
    requeueNewestDead: async (queue, n) =>
      db.transaction(() => {
        const rows = JSON.parse(call('honker_dead_list', [queue, n]) as string) as Array<{ id: number }>;
        let moved = 0;
        for (const row of rows) moved += Number(call('honker_dead_requeue', [row.id]));
        return rows.length === 0 ? -1 : moved;
      }),
    liveSource: async () => ({ closeSignal: db.closeSignal, watcher: () => db.watcher(), close: () => undefined }),
  };
}

/** A bigint arrives from pg as a string: numbers are numbers, as on SQLite (JSON text never matches). */
function pgValue(v: unknown): unknown {
  return typeof v === 'string' && /^-?\d{1,15}$/.test(v) ? Number(v) : v;
}

function postgresEngine(db: PostgresDashboardDatabase): DashboardEngine {
  const call = async (fn: string, args: readonly unknown[] = []): Promise<unknown> =>
    pgValue(await db.value(`SELECT ${fn}(${args.map((_, i) => `$${i + 1}`).join(', ')}) AS v`, [...args]));
  return {
    get label() {
      return db.label;
    },
    get isOpen() {
      return db.isOpen;
    },
    call,
    now: async () => Number(await db.value('SELECT honker_now() AS v')),
    // Calls made inside the transaction join it (PgConnection routes them to its client).
    requeueNewestDead: (queue, n) =>
      db.transaction(async () => {
        const rows = JSON.parse((await call('honker_dead_list', [queue, n])) as string) as Array<{ id: number }>;
        let moved = 0;
        for (const row of rows) moved += Number(await call('honker_dead_requeue', [row.id]));
        return rows.length === 0 ? -1 : moved;
      }),
    liveSource: async () => {
      const source = await db.subscribe([ANY_WAKE_KEY]);
      let seen: unknown;
      // The server's snapshot (xmin:xmax:in-progress xids) changes when a transaction is given an
      // xid (its first write) and when one ends: any commit since the last look, read from no table.
      const committedSince = async (): Promise<boolean> => {
        const snapshot = await db.value('SELECT pg_current_snapshot()::text AS v');
        const changed = snapshot !== seen;
        seen = snapshot;
        return changed;
      };
      return { ...source, committedSince };
    },
  };
}

function isPg(db: unknown): db is PostgresDashboardDatabase {
  const d = db as Partial<PostgresDashboardDatabase> | null;
  return typeof d === 'object' && d !== null && typeof d.subscribe === 'function' && typeof d.value === 'function' && typeof d.transaction === 'function';
}

/** The engine of db, or a clear error for anything else. */
export function engineOf(db: unknown): DashboardEngine {
  if (db instanceof Connection) return sqliteEngine(db);
  if (isPg(db)) return postgresEngine(db);
  throw new HonkerError(
    'INVALID_ARGUMENT',
    "dashboard: db must be a honker database: open(file) from 'honker' or await openPostgres(url) from 'honker/postgres'",
  );
}
