/**
 * `honker enqueue <db> <queue> <json>`: add a job; prints its id. --delay is
 * at most the seconds left until 9999-12-31T23:59:59Z.
 */
import { MAX_UNIX } from '../validate.js';
import { BUSY_TIMEOUT, BUSY_TIMEOUT_USAGE, busyTimeoutMs, intFlag, jsonArg, nameArg, out, parse, type Command } from './args.js';
import { UsageError } from './errors.js';
import * as fmt from './format.js';
import { withTarget } from './target.js';

export const enqueue: Command = {
  usage: `usage: honker enqueue <db|postgres-url> <queue> <json> [--delay SECONDS] [--priority P] [--max-attempts N] [--busy-timeout MS] [--json]

Adds a job whose payload is the JSON value given; prints its id. A negative
priority is written --priority=-3.
${BUSY_TIMEOUT_USAGE}`,
  async run(args) {
    const p = parse(
      enqueue,
      args,
      { delay: { type: 'string' }, priority: { type: 'string' }, 'max-attempts': { type: 'string' }, ...BUSY_TIMEOUT },
      [3, 3],
    );
    if (!p) return 0;
    const [file, queueArg, text] = p.positionals as [string, string, string];
    const queue = nameArg('queue', queueArg);
    const payload = jsonArg('payload', text);
    const delayS = intFlag(p, 'delay', 0);
    // The extension's bound (ext/util.h HONKER_MAX_UNIX), as a usage error naming the flag.
    if (delayS !== undefined && delayS > MAX_UNIX - Math.floor(Date.now() / 1000)) {
      throw new UsageError(`--delay must end by 9999-12-31T23:59:59Z (got '${delayS}')`);
    }
    const priority = intFlag(p, 'priority', Number.MIN_SAFE_INTEGER);
    const maxAttempts = intFlag(p, 'max-attempts', 1);
    const id = await withTarget(file, busyTimeoutMs(p), (db) => db.queue(queue).enqueue(payload, { delayS, priority, maxAttempts }));
    if (out(p).json) fmt.writeJson({ id });
    else fmt.write(String(id));
    return 0;
  },
};
