/**
 * `honker tail <db> <stream>`: print a stream's events as they arrive, until
 * Ctrl-C; with --consumer each printed offset is saved.
 */
import { BUSY_TIMEOUT, BUSY_TIMEOUT_USAGE, busyTimeoutMs, intFlag, nameArg, out, parse, type Command } from './args.js';
import * as fmt from './format.js';
import { writable } from './open.js';
import { isUrl, openTarget, type AnyTargetDb } from './target.js';
import { stopSignal } from './signals.js';

export const tail: Command = {
  usage: `usage: honker tail <db|postgres-url> <stream> [--consumer NAME] [--from OFFSET] [--busy-timeout MS] [--json]

Prints the stream's events as they arrive, until Ctrl-C. Starts after --from,
else after the consumer's saved offset, else at the end of the stream (new
events only); --from 0 replays from the start. With --consumer the offset of
each printed event is saved, so the next run resumes after it.
${BUSY_TIMEOUT_USAGE}`,
  async run(args) {
    const p = parse(tail, args, { consumer: { type: 'string' }, from: { type: 'string' }, ...BUSY_TIMEOUT }, [2, 2]);
    if (!p) return 0;
    const o = out(p);
    const [file, topicArg] = p.positionals as [string, string];
    const topic = nameArg('stream', topicArg);
    const consumer = p.values.consumer === undefined ? undefined : nameArg('--consumer', p.values.consumer as string);
    const from = intFlag(p, 'from', 0);
    const db = isUrl(file) ? await openTarget(file) : writable(file, busyTimeoutMs(p));
    const stop = stopSignal();
    try {
      const stream = db.stream(topic);
      let start = from;
      if (start === undefined && consumer === undefined) {
        // No position given: new events only (the end of the stream now).
        start = await streamEnd(db, topic);
      }
      const it = stream.subscribe({ consumer, fromOffset: start, signal: stop.signal });
      const at = start ?? (await stream.offset(consumer!));
      process.stderr.write(`tailing '${topic}' after offset ${at}${consumer ? ` as consumer '${consumer}'` : ''} (Ctrl-C to stop)\n`);
      const last = await streamEnd(db, topic, at);
      if (at > last) {
        const none = last === 0 ? `'${topic}' has no event yet` : `the last event of '${topic}' is ${last}`;
        process.stderr.write(`offset ${at} is past the end (${none}); waiting for events after ${at}\n`);
      }
      for await (const ev of it) {
        if (o.json) fmt.writeJson({ offset: ev.offset, topic: ev.topic, key: ev.key, payload: ev.payload, created_at: ev.createdAt });
        else fmt.write(`${ev.offset}  ${fmt.time(ev.createdAt)}  ${ev.key ?? '-'}  ${fmt.payload(ev.payload)}`);
        // Printed is done: save now, so Ctrl-C right after does not replay it.
        if (consumer) await stream.saveOffset(consumer, ev.offset);
      }
    } finally {
      stop.dispose();
      await db.close();
    }
    return 0;
  },
};

/**
 * The offset of the newest event of topic (0 when none): the least x with no event after it,
 * found with O(log end) reads of one event (honker_stream_read_since), doubling from 1 (or
 * from the bound given) and then halving.
 */
async function streamEnd(db: AnyTargetDb, topic: string, bound = 1): Promise<number> {
  const stream = db.stream(topic);
  const after = async (x: number) => (await stream.readSince(x, 1)).length > 0;
  let lo = 0; // an event lies after lo (or lo is 0)
  let hi = Math.max(1, bound);
  while (await after(hi)) {
    lo = hi;
    hi *= 2;
  }
  // Now no event lies after hi: the end is in [lo, hi].
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await after(mid)) lo = mid;
    else hi = mid;
  }
  return (await after(lo)) ? hi : lo;
}
