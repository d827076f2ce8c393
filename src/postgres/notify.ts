/**
 * notify / listen on Postgres (src/notify.ts is the SQLite twin): rows in
 * _honker_notifications read by id, woken by pg_notify on the commit
 * ('n:<channel>'). listen() fixes its start at the call (the newest id then,
 * or afterId) and subscribes to the LISTEN connection before reading it, so a
 * notification committed between the call and the first next() is delivered.
 * Ids of one channel become visible in increasing order (notify takes the
 * channel's transaction lock before its id: pg/notify.sql).
 */
import type { ListenOptions, Notification } from '../notify.js';
import { parsePayload } from '../payload.js';
import * as validate from '../validate.js';
import { wakeLoop } from '../wake.js';
import type { PgConnection } from './connection.js';
import { wakeKey } from './watcher.js';

const LISTEN_OPTIONS = ['signal', 'afterId'] as const;
const PAGE = 256;

interface NotificationRow {
  id: number;
  channel: string;
  payload: string;
  created_at: number;
}

export function notify(db: PgConnection, channel: string, payload: unknown): Promise<number> {
  validate.name('db.notify', 'channel', channel);
  const text = validate.json('db.notify', 'payload', payload);
  db.assertOpen('db.notify');
  return db.listenStartsDone().then(() => db.int('SELECT notify($1, $2) AS v', [channel, text]));
}

export function listen<T>(db: PgConnection, channel: string, options?: ListenOptions): AsyncGenerator<Notification<T>, void, undefined> {
  const where = 'db.listen';
  const opts = validate.options(where, options, LISTEN_OPTIONS);
  validate.name(where, 'channel', channel);
  const signal = validate.signal(where, opts.signal);
  const afterId = validate.optInt(where, 'afterId', opts.afterId, 0);
  db.assertOpen(where);
  db.pgWatcher(); // LISTEN before reading the position
  const start = afterId === undefined ? db.int('SELECT honker_notify_last_id() AS v') : Promise.resolve(afterId);
  start.catch(() => undefined); // read (and its error thrown) by the first next()
  db.orderAfter(start);
  return listenFrom<T>(db, channel, start, signal);
}

async function* listenFrom<T>(
  db: PgConnection,
  channel: string,
  start: Promise<number>,
  signal: AbortSignal | undefined,
): AsyncGenerator<Notification<T>, void, undefined> {
  let after = await start;
  const sub = await db.subscribe([wakeKey('n', channel)]);
  try {
    for (const wake = wakeLoop(sub, { signal }); wake.look(); await wake.sleep()) {
      const text = await db.value<string>('SELECT honker_notify_read_since($1, $2, $3) AS v', [channel, after, PAGE]);
      const rows = JSON.parse(text) as NotificationRow[];
      for (const row of rows) {
        after = row.id;
        yield { id: row.id, channel: row.channel, payload: parsePayload<T>(row.payload), createdAt: row.created_at };
        if (signal?.aborted) return;
      }
      if (rows.length === PAGE) wake.again();
    }
  } finally {
    sub.close();
  }
}
