/**
 * `honker notify <db> <channel> <json>`: send a notification; prints its id.
 */
import { BUSY_TIMEOUT, BUSY_TIMEOUT_USAGE, busyTimeoutMs, jsonArg, nameArg, out, parse, type Command } from './args.js';
import * as fmt from './format.js';
import { withTarget } from './target.js';

export const notify: Command = {
  usage: `usage: honker notify <db|postgres-url> <channel> <json> [--busy-timeout MS] [--json]

Sends a notification (the JSON value given) on channel; prints its id.
${BUSY_TIMEOUT_USAGE}`,
  async run(args) {
    const p = parse(notify, args, BUSY_TIMEOUT, [3, 3]);
    if (!p) return 0;
    const [file, channelArg, text] = p.positionals as [string, string, string];
    const channel = nameArg('channel', channelArg);
    const payload = jsonArg('payload', text);
    const id = await withTarget(file, busyTimeoutMs(p), (db) => db.notify(channel, payload));
    if (out(p).json) fmt.writeJson({ id });
    else fmt.write(String(id));
    return 0;
  },
};
