/**
 * notify / listen: Postgres-style notifications stored in the database file.
 * A notification made inside a transaction exists only if the transaction
 * commits; listeners in any process see it right after the commit.
 *
 * listen() is a plain function that validates its arguments and fixes the
 * start position *at the call* (the newest notification id then, or afterId),
 * and only then returns the async generator: argument errors throw
 * synchronously, and a notification committed between the call and the first
 * next() is delivered, not lost. Ids are assigned under the write lock, so
 * they grow in commit order and "every id > the last one seen" misses nothing
 * (unless honker_notify_prune deleted it first).
 */
import type { Connection } from './connection.js';
import { parsePayload } from './payload.js';
import * as validate from './validate.js';
import { wakeLoop } from './wake.js';

export interface Notification<T> {
  id: number;
  channel: string;
  payload: T;
  /** Unix seconds. */
  createdAt: number;
}

export interface ListenOptions {
  /** Aborting ends the iteration (it returns; it does not throw). */
  signal?: AbortSignal;
  /** Start after this notification id instead of at the newest one (replay); an integer >= 0. */
  afterId?: number;
}

const LISTEN_OPTIONS = ['signal', 'afterId'] as const;
const PAGE = 256;

export function notify(db: Connection, channel: string, payload: unknown): number {
  validate.name('db.notify', 'channel', channel);
  const text = validate.json('db.notify', 'payload', payload);
  return db.sql('SELECT notify(?, ?)').pluck().get(channel, text) as number;
}

interface NotificationRow {
  id: number;
  channel: string;
  payload: string;
  created_at: number;
}

/**
 * Notifications on channel with id > afterId (default: the newest id at this
 * call), oldest first, then new ones as they are committed. Throws
 * synchronously on a bad argument or a closed database.
 */
export function listen<T>(
  db: Connection,
  channel: string,
  options?: ListenOptions,
): AsyncGenerator<Notification<T>, void, undefined> {
  const where = 'db.listen';
  const opts = validate.options(where, options, LISTEN_OPTIONS);
  validate.name(where, 'channel', channel);
  const signal = validate.signal(where, opts.signal);
  const afterId = validate.optInt(where, 'afterId', opts.afterId, 0);
  db.assertOpen(where);
  // Subscribe before reading the position, so no commit falls in between.
  db.watcher();
  const start = afterId ?? (db.sql('SELECT honker_notify_last_id()').pluck().get() as number);
  return listenFrom<T>(db, channel, start, signal);
}

async function* listenFrom<T>(
  db: Connection,
  channel: string,
  start: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Notification<T>, void, undefined> {
  let after = start;
  for (const wake = wakeLoop(db, { signal }); wake.look(); await wake.sleep()) {
    const text = db.sql('SELECT honker_notify_read_since(?, ?, ?)').pluck().get(channel, after, PAGE) as string;
    const rows = JSON.parse(text) as NotificationRow[];
    for (const row of rows) {
      after = row.id;
      yield { id: row.id, channel: row.channel, payload: parsePayload<T>(row.payload), createdAt: row.created_at };
      // Aborted while the caller held that one: hand out nothing more.
      if (signal?.aborted) return;
    }
    if (rows.length === PAGE) wake.again();
  }
}
