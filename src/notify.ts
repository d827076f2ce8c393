/**
 * notify / listen: Postgres-style notifications stored in the database file.
 * A notification made inside a transaction exists only if the transaction
 * commits; listeners in any process see it right after the commit.
 */
import type { HonkerDatabase } from './database.js';
import { parsePayload } from './queue.js';
import * as validate from './validate.js';

export interface Notification<T> {
  id: number;
  channel: string;
  payload: T;
  /** Unix seconds. */
  createdAt: number;
}

export interface ListenOptions {
  signal?: AbortSignal;
  /** Start after this notification id instead of at the newest one (replay). */
  afterId?: number;
}

const PAGE = 256;

export function notify(db: HonkerDatabase, channel: string, payload: unknown): number {
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

export async function* listen<T>(
  db: HonkerDatabase,
  channel: string,
  options?: ListenOptions,
): AsyncGenerator<Notification<T>, void, undefined> {
  const where = 'db.listen';
  const opts = validate.options(where, options, ['signal', 'afterId']);
  validate.name(where, 'channel', channel);
  const signal = validate.signal(where, opts.signal);
  let after = validate.optInt(where, 'afterId', opts.afterId, 0);
  // Subscribe first: the position is fixed at the call, not at the first read.
  const watcher = db.watcher();
  after ??= db.sql('SELECT honker_notify_last_id()').pluck().get() as number;
  const signals = [signal, db.closeSignal];
  for (;;) {
    if (signal?.aborted) return;
    const since = watcher.generation();
    const text = db.sql('SELECT honker_notify_read_since(?, ?, ?)').pluck().get(channel, after, PAGE) as string;
    const rows = JSON.parse(text) as NotificationRow[];
    for (const row of rows) {
      after = row.id;
      yield { id: row.id, channel: row.channel, payload: parsePayload<T>(row.payload), createdAt: row.created_at };
    }
    if (rows.length === PAGE) continue;
    try {
      await watcher.wait(since, { signals });
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
  }
}
