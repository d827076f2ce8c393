/**
 * Streams: an append-only, offset-addressed log per topic with named
 * consumers. A named consumer resumes from its saved offset.
 *
 * Delivery is at-least-once, and exactly what a crash replays is fixed:
 * subscribe() hands events out one at a time, and an event is *finished*
 * when the consumer asks for the next one (the for-await loop comes back for
 * more). Only then is its offset saved (one small write, its own commit). So
 * a process that dies — SIGKILL included — while holding an event replays
 * exactly that one event (or, if it died inside the save itself, that same
 * one), then the rest; it never skips one and never replays a finished one.
 * Leaving the loop (break, return, throw) does not finish the event held at
 * that moment: it is delivered again next time. An abort ends the iteration
 * at the next request for an event: the held event is finished (saved) by
 * that request, and nothing more is handed out.
 *
 * subscribe() validates its arguments and fixes the start position at the
 * call (a plain method that returns the generator), so argument errors throw
 * synchronously.
 */
import type { Connection } from './connection.js';
import { parsePayload } from './payload.js';
import * as validate from './validate.js';
import { wakeLoop } from './wake.js';

export interface StreamEvent<T> {
  offset: number;
  topic: string;
  key: string | null;
  payload: T;
  /** Unix seconds. */
  createdAt: number;
}

export interface SubscribeOptions {
  /** Named consumer: resume from its saved offset and save progress. */
  consumer?: string;
  /** Start after this offset (overrides the saved one; default: saved offset, or 0). */
  fromOffset?: number;
  signal?: AbortSignal;
}

interface EventRow {
  offset: number;
  topic: string;
  key: string | null;
  payload: string;
  created_at: number;
}

export const SUBSCRIBE_OPTIONS = ['consumer', 'fromOffset', 'signal'] as const;
export const PAGE = 256;

/** @internal honker_stream_read_since's JSON -> events (both engines). */
export function streamEvents<T>(text: string): StreamEvent<T>[] {
  return (JSON.parse(text) as EventRow[]).map((r) => ({
    offset: r.offset,
    topic: r.topic,
    key: r.key,
    payload: parsePayload<T>(r.payload),
    createdAt: r.created_at,
  }));
}

export class Stream<T = unknown> {
  readonly topic: string;

  /** @internal use db.stream(topic) */
  constructor(
    private readonly db: Connection,
    topic: string,
  ) {
    this.topic = validate.name('db.stream', 'topic', topic);
  }

  /** Append an event; returns its offset. Inside db.transaction it commits with it. */
  publish(payload: T, options?: { key?: string }): number {
    const opts = validate.options('stream.publish', options, ['key']);
    const key = opts.key === undefined ? null : validate.name('stream.publish', 'key', opts.key);
    const text = validate.json('stream.publish', 'payload', payload);
    this.db.assertOpen('stream.publish');
    return this.db.sql('SELECT honker_stream_publish(?, ?, ?)').pluck().get(this.topic, key, text) as number;
  }

  /** Up to limit events after offset, oldest first. */
  readSince(offset: number, limit = PAGE): StreamEvent<T>[] {
    validate.int('stream.readSince', 'offset', offset, 0);
    validate.int('stream.readSince', 'limit', limit, 0);
    this.db.assertOpen('stream.readSince');
    const text = this.db.sql('SELECT honker_stream_read_since(?, ?, ?)').pluck().get(this.topic, offset, limit) as string;
    return streamEvents<T>(text);
  }

  /** The saved offset of a consumer (0 when it never saved one). */
  offset(consumer: string): number {
    validate.name('stream.offset', 'consumer', consumer);
    this.db.assertOpen('stream.offset');
    return this.db.sql('SELECT honker_stream_get_offset(?, ?)').pluck().get(consumer, this.topic) as number;
  }

  /** Save a consumer's offset; offsets never move back (returns false then). */
  saveOffset(consumer: string, offset: number): boolean {
    validate.name('stream.saveOffset', 'consumer', consumer);
    validate.int('stream.saveOffset', 'offset', offset, 0);
    this.db.assertOpen('stream.saveOffset');
    return this.db.sql('SELECT honker_stream_save_offset(?, ?, ?)').pluck().get(consumer, this.topic, offset) === 1;
  }

  /**
   * Every event after the start position, then new ones as they are
   * committed. Start: fromOffset, else the consumer's saved offset, else 0.
   * Throws synchronously on a bad argument or a closed database.
   */
  subscribe(options?: SubscribeOptions): AsyncGenerator<StreamEvent<T>, void, undefined> {
    const where = 'stream.subscribe';
    const opts = validate.options(where, options, SUBSCRIBE_OPTIONS);
    const consumer = opts.consumer === undefined ? undefined : validate.name(where, 'consumer', opts.consumer);
    const signal = validate.signal(where, opts.signal);
    const fromOffset = validate.optInt(where, 'fromOffset', opts.fromOffset, 0);
    this.db.assertOpen(where);
    this.db.watcher(); // subscribe before reading, so no commit falls in between
    const start = fromOffset ?? (consumer ? this.offset(consumer) : 0);
    return this.subscribeFrom(start, consumer, signal);
  }

  private async *subscribeFrom(
    start: number,
    consumer: string | undefined,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<StreamEvent<T>, void, undefined> {
    let position = start;
    for (const wake = wakeLoop(this.db, { signal }); wake.look(); await wake.sleep()) {
      const events = this.readSince(position, PAGE);
      for (const event of events) {
        yield event;
        // The consumer came back for more: the event is finished.
        position = event.offset;
        if (consumer) this.saveOffset(consumer, position);
        if (signal?.aborted) return; // aborted meanwhile: hand out nothing more
      }
      if (events.length === PAGE) wake.again();
    }
  }
}
