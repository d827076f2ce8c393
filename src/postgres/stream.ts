/**
 * Streams on Postgres (src/stream.ts is the SQLite twin and its header the
 * delivery contract: a named consumer's offset is saved when it asks for the
 * next event, so a crash replays at most the event it held). Offsets of one
 * topic become visible in increasing order (pg/stream.sql), so resuming after
 * a saved offset never skips an event.
 */
import { PAGE, streamEvents, SUBSCRIBE_OPTIONS, type StreamEvent, type SubscribeOptions } from '../stream.js';
import * as validate from '../validate.js';
import { wakeLoop } from '../wake.js';
import type { PgConnection } from './connection.js';
import { wakeKey } from './watcher.js';

export class PgStream<T = unknown> {
  readonly topic: string;

  /** @internal use db.stream(topic) */
  constructor(
    private readonly db: PgConnection,
    topic: string,
  ) {
    this.topic = validate.name('db.stream', 'topic', topic);
  }

  /** Append an event; resolves with its offset. Inside db.transaction it commits with it. */
  publish(payload: T, options?: { key?: string }): Promise<number> {
    const opts = validate.options('stream.publish', options, ['key']);
    const key = opts.key === undefined ? null : validate.name('stream.publish', 'key', opts.key);
    const text = validate.json('stream.publish', 'payload', payload);
    this.db.assertOpen('stream.publish');
    return this.db.int('SELECT honker_stream_publish($1, $2, $3) AS v', [this.topic, key, text]);
  }

  /** Up to limit events after offset, oldest first. */
  readSince(offset: number, limit = PAGE): Promise<StreamEvent<T>[]> {
    validate.int('stream.readSince', 'offset', offset, 0);
    validate.int('stream.readSince', 'limit', limit, 0);
    this.db.assertOpen('stream.readSince');
    return this.db
      .value<string>('SELECT honker_stream_read_since($1, $2, $3) AS v', [this.topic, offset, limit])
      .then((text) => streamEvents<T>(text));
  }

  /** The saved offset of a consumer (0 when it never saved one). */
  offset(consumer: string): Promise<number> {
    validate.name('stream.offset', 'consumer', consumer);
    this.db.assertOpen('stream.offset');
    return this.db.int('SELECT honker_stream_get_offset($1, $2) AS v', [consumer, this.topic]);
  }

  /** Save a consumer's offset; offsets never move back (resolves false then). */
  saveOffset(consumer: string, offset: number): Promise<boolean> {
    validate.name('stream.saveOffset', 'consumer', consumer);
    validate.int('stream.saveOffset', 'offset', offset, 0);
    this.db.assertOpen('stream.saveOffset');
    return this.db.int('SELECT honker_stream_save_offset($1, $2, $3) AS v', [consumer, this.topic, offset]).then((v) => v === 1);
  }

  /**
   * Every event after the start position, then new ones as they are
   * committed. Start: fromOffset, else the consumer's saved offset, else 0.
   */
  subscribe(options?: SubscribeOptions): AsyncGenerator<StreamEvent<T>, void, undefined> {
    const where = 'stream.subscribe';
    const opts = validate.options(where, options, SUBSCRIBE_OPTIONS);
    const consumer = opts.consumer === undefined ? undefined : validate.name(where, 'consumer', opts.consumer);
    const signal = validate.signal(where, opts.signal);
    const fromOffset = validate.optInt(where, 'fromOffset', opts.fromOffset, 0);
    this.db.assertOpen(where);
    this.db.pgWatcher(); // LISTEN before reading
    const start = fromOffset !== undefined ? Promise.resolve(fromOffset) : consumer ? this.offset(consumer) : Promise.resolve(0);
    start.catch(() => undefined);
    return this.subscribeFrom(start, consumer, signal);
  }

  private async *subscribeFrom(
    start: Promise<number>,
    consumer: string | undefined,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<StreamEvent<T>, void, undefined> {
    let position = await start;
    const sub = await this.db.subscribe([wakeKey('s', this.topic)]);
    try {
      for (const wake = wakeLoop(sub, { signal }); wake.look(); await wake.sleep()) {
        const events = await this.readSince(position, PAGE);
        for (const event of events) {
          yield event;
          position = event.offset;
          if (consumer) await this.saveOffset(consumer, position);
          if (signal?.aborted) return;
        }
        if (events.length === PAGE) wake.again();
      }
    } finally {
      sub.close();
    }
  }
}
