/**
 * `honker dead <db> <queue>`: list a queue's dead jobs, requeue one or all of
 * them, or purge them.
 */
import { BUSY_TIMEOUT, BUSY_TIMEOUT_USAGE, busyTimeoutMs, intFlag, nameArg, out, parse, type Command, type Parsed } from './args.js';
import { CliError, UsageError } from './errors.js';
import * as fmt from './format.js';
import type { DeadJobRecord } from '../dead.js';
import type { LiveJobRecord } from '../queue.js';
import { printDead } from './jobs.js';
import { knownQueue, knownQueueIn, withReadOnly, withWritable, type QueueStatsRow } from './open.js';
import { isUrl, readValues, withTarget, type AnyTargetDb } from './target.js';

const REQUEUE_BATCH = 500;

export const dead: Command = {
  usage: `usage: honker dead <db|postgres-url> <queue> [--limit N] [--json]
       honker dead <db> <queue> --requeue ID [--busy-timeout MS]
       honker dead <db> <queue> --requeue-all [--busy-timeout MS]
       honker dead <db> <queue> --purge [--older-than SECONDS] [--busy-timeout MS]

Without an action lists the newest dead jobs (--limit, default 50).
--requeue ID puts one dead job back to pending (attempts 0, same id).
--requeue-all does that for every dead job of the queue, in transactions of
${REQUEUE_BATCH} (progress on stderr on a terminal). --purge deletes dead jobs, or
only those that died at least --older-than seconds ago.
${BUSY_TIMEOUT_USAGE}`,
  async run(args) {
    const p = parse(
      dead,
      args,
      {
        requeue: { type: 'string' },
        'requeue-all': { type: 'boolean' },
        purge: { type: 'boolean' },
        'older-than': { type: 'string' },
        limit: { type: 'string' },
        ...BUSY_TIMEOUT,
      },
      [2, 2],
    );
    if (!p) return 0;
    const o = out(p);
    const [file, queueArg] = p.positionals as [string, string];
    const queue = nameArg('queue', queueArg);
    const actions = ['requeue', 'requeue-all', 'purge'].filter((a) => p.values[a] !== undefined);
    if (actions.length > 1) throw new UsageError(`--${actions[0]} and --${actions[1]} cannot be combined`, true);
    if (p.values['older-than'] !== undefined && actions[0] !== 'purge') throw new UsageError('--older-than goes with --purge', true);
    const limit = intFlag(p, 'limit', 0, 50)!;
    const action = actions[0];
    if (p.values['busy-timeout'] !== undefined && action === undefined) throw new UsageError('--busy-timeout goes with --requeue, --requeue-all or --purge', true);
    const busyMs = busyTimeoutMs(p);

    if (action === undefined) {
      const [stats, text] = (await readValues(file, [['honker_queues_stats', []], ['honker_dead_list', [queue, limit]]])) as [string, string];
      knownQueueIn(JSON.parse(stats) as QueueStatsRow[], queue);
      printDead(o, JSON.parse(text) as DeadJobRecord[]);
      return 0;
    }
    if (isUrl(file)) return deadOnPostgres(file, queue, action, p, o, busyMs);
    if (action === 'requeue') {
      const id = intFlag(p, 'requeue', 1)!;
      withReadOnly(file, (raw) => knownQueue(raw, queue));
      withWritable(file, busyMs, (db) => {
        db.transaction(() => {
          const moved = db.sql('SELECT honker_dead_requeue(?)').pluck().get(id) === 1;
          const job = moved ? (JSON.parse(db.sql('SELECT honker_get_job(?)').pluck().get(id) as string) as LiveJobRecord) : null;
          // Rolled back (the throw) when the id belongs to another queue.
          if (!job || job.queue !== queue) throw new CliError(`no dead job ${id} in queue '${queue}'`);
        });
      });
      if (o.json) fmt.writeJson({ requeued: 1, id });
      else fmt.write(`requeued dead job ${id} of queue '${queue}'`);
      return 0;
    }
    if (action === 'requeue-all') {
      const total = withReadOnly(file, (raw) => knownQueue(raw, queue).dead);
      const progress = process.stderr.isTTY === true;
      let done = 0;
      withWritable(file, busyMs, (db) => {
        // Bounded by the count at the start: a job that dies again meanwhile is not requeued twice.
        while (done < total) {
          const n = db.transaction(() => {
            const batch = JSON.parse(
              db.sql('SELECT honker_dead_list(?, ?)').pluck().get(queue, Math.min(REQUEUE_BATCH, total - done)) as string,
            ) as DeadJobRecord[];
            let moved = 0;
            for (const row of batch) moved += db.sql('SELECT honker_dead_requeue(?)').pluck().get(row.id) as number;
            return batch.length === 0 ? -1 : moved;
          });
          if (n < 0) break;
          done += n;
          if (progress) process.stderr.write(`\rrequeued ${done}/${total}`);
        }
      });
      if (progress && total > 0) process.stderr.write('\n');
      if (o.json) fmt.writeJson({ requeued: done });
      else fmt.write(`requeued ${done} dead job${done === 1 ? '' : 's'} of queue '${queue}'`);
      return 0;
    }
    const olderThan = intFlag(p, 'older-than', 0, 0)!;
    withReadOnly(file, (raw) => knownQueue(raw, queue));
    const purged = withWritable(file, busyMs, (db) => db.sql('SELECT honker_dead_purge(?, ?)').pluck().get(queue, olderThan) as number);
    if (o.json) fmt.writeJson({ purged });
    else fmt.write(`purged ${purged} dead job${purged === 1 ? '' : 's'} of queue '${queue}'`);
    return 0;
  },
};

/** --requeue, --requeue-all and --purge on Postgres: the same steps through the async client. */
async function deadOnPostgres(url: string, queue: string, action: string, p: Parsed, o: fmt.Out, busyMs: number): Promise<number> {
  const [stats] = (await readValues(url, [['honker_queues_stats', []]])) as [string];
  const known = knownQueueIn(JSON.parse(stats) as QueueStatsRow[], queue);
  if (action === 'requeue') {
    const id = intFlag(p, 'requeue', 1)!;
    await withTarget(url, busyMs, (db: AnyTargetDb) =>
      db.transaction(async () => {
        const moved = await db.queue(queue).dead.requeue(id);
        const job = moved ? await db.queue(queue).getJob(id) : null;
        if (!job || job.queue !== queue) throw new CliError(`no dead job ${id} in queue '${queue}'`);
      }),
    );
    if (o.json) fmt.writeJson({ requeued: 1, id });
    else fmt.write(`requeued dead job ${id} of queue '${queue}'`);
    return 0;
  }
  if (action === 'requeue-all') {
    const total = known.dead;
    const progress = process.stderr.isTTY === true;
    let done = 0;
    await withTarget(url, busyMs, async (db: AnyTargetDb) => {
      while (done < total) {
        const n: number = await db.transaction(async () => {
          const batch = await db.queue(queue).dead.list({ limit: Math.min(REQUEUE_BATCH, total - done) });
          let moved = 0;
          for (const row of batch) moved += (await db.queue(queue).dead.requeue(row.id)) ? 1 : 0;
          return batch.length === 0 ? -1 : moved;
        });
        if (n < 0) break;
        done += n;
        if (progress) process.stderr.write(`\rrequeued ${done}/${total}`);
      }
    });
    if (progress && total > 0) process.stderr.write('\n');
    if (o.json) fmt.writeJson({ requeued: done });
    else fmt.write(`requeued ${done} dead job${done === 1 ? '' : 's'} of queue '${queue}'`);
    return 0;
  }
  const olderThanS = intFlag(p, 'older-than', 0, 0)!;
  const purged: number = await withTarget(url, busyMs, (db: AnyTargetDb) => db.queue(queue).dead.purge({ olderThanS }));
  if (o.json) fmt.writeJson({ purged });
  else fmt.write(`purged ${purged} dead job${purged === 1 ? '' : 's'} of queue '${queue}'`);
  return 0;
}
