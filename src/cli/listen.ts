/**
 * `honker listen <db> <channel>`: print each notification as it arrives,
 * until Ctrl-C.
 */
import { BUSY_TIMEOUT, BUSY_TIMEOUT_USAGE, busyTimeoutMs, nameArg, out, parse, type Command } from './args.js';
import * as fmt from './format.js';
import { isUrl, openTarget, readValues } from './target.js';
import { writable } from './open.js';
import { stopSignal } from './signals.js';

export const listen: Command = {
  usage: `usage: honker listen <db|postgres-url> <channel> [--busy-timeout MS] [--json]

Prints each notification sent on channel from now on, as it arrives (like
psql's LISTEN), until Ctrl-C. A line per notification: id, time, payload; with
--json a JSON object per line.
${BUSY_TIMEOUT_USAGE}`,
  async run(args) {
    const p = parse(listen, args, BUSY_TIMEOUT, [2, 2]);
    if (!p) return 0;
    const o = out(p);
    const [file, channelArg] = p.positionals as [string, string];
    const channel = nameArg('channel', channelArg);
    const db = isUrl(file) ? await openTarget(file) : writable(file, busyTimeoutMs(p));
    const stop = stopSignal();
    try {
      // The start is read before the banner: a notification sent once the banner shows is printed.
      const [afterId] = (await readValues(file, [['honker_notify_last_id', []]])) as [number];
      const it = db.listen(channel, { signal: stop.signal, afterId });
      process.stderr.write(`listening on '${channel}' (Ctrl-C to stop)\n`);
      for await (const n of it) {
        if (o.json) fmt.writeJson({ id: n.id, channel: n.channel, payload: n.payload, created_at: n.createdAt });
        else fmt.write(`${n.id}  ${fmt.time(n.createdAt)}  ${fmt.payload(n.payload)}`);
      }
    } finally {
      stop.dispose();
      await db.close();
    }
    return 0;
  },
};
