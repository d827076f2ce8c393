/**
 * `honker stats <db>`: per queue, the jobs due, scheduled, claimed and dead,
 * and the age of the oldest due job.
 */
import { out, parse, type Command } from './args.js';
import * as fmt from './format.js';
import type { QueueStatsRow } from './open.js';
import { readValues } from './target.js';

export const stats: Command = {
  usage: `usage: honker stats <db|postgres-url> [--json]

Per queue: jobs due now (pending), waiting for their run_at (scheduled), claimed
(processing), dead-lettered (dead), and the age of the oldest due job.`,
  async run(args) {
    const p = parse(stats, args, {}, [1, 1]);
    if (!p) return 0;
    const o = out(p);
    const [text, t] = (await readValues(p.positionals[0]!, [['honker_queues_stats', []], ['now', []]])) as [string, number];
    const rows = JSON.parse(text) as QueueStatsRow[];
    const withAge = rows.map((r) => ({
      ...r,
      oldest_pending_age_s: r.oldest_pending_at === null ? null : Math.max(0, t - r.oldest_pending_at),
    }));
    if (o.json) {
      fmt.writeJson(withAge);
    } else if (withAge.length === 0) {
      fmt.write('no queues');
    } else {
      fmt.table(
        o,
        ['QUEUE', 'PENDING', 'SCHEDULED', 'PROCESSING', 'DEAD', 'OLDEST PENDING'],
        withAge.map((r) => [r.queue, String(r.pending), String(r.scheduled), String(r.processing), String(r.dead), fmt.age(r.oldest_pending_age_s)]),
      );
    }
    return 0;
  },
};
