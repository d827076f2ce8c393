/**
 * `honker jobs <db> <queue>`: a queue's jobs, all live ones or those of one
 * state; also the dead-job table `honker dead` prints.
 */
import { intFlag, nameArg, out, parse, type Command } from './args.js';
import { UsageError } from './errors.js';
import { parsePayload } from '../payload.js';
import * as fmt from './format.js';
import { knownQueueIn, type QueueStatsRow } from './open.js';
import { readValues } from './target.js';
import type { DeadJobRecord } from '../dead.js';
import type { LiveJobRecord } from '../queue.js';

const STATES = ['pending', 'scheduled', 'processing', 'dead'] as const;


/** Dead jobs as a table (or JSON); shared with `honker dead`. */
export function printDead(o: fmt.Out, rows: DeadJobRecord[]): void {
  const parsed = rows.map((r) => ({ ...r, payload: parsePayload(r.payload) }));
  if (o.json) return fmt.writeJson(parsed);
  if (parsed.length === 0) return fmt.write('no dead jobs');
  fmt.table(
    o,
    ['ID', 'DIED', 'ATTEMPTS', 'LAST ERROR', 'PAYLOAD'],
    parsed.map((r) => [String(r.id), fmt.time(r.died_at), `${r.attempts}/${r.max_attempts}`, r.last_error ?? '-', fmt.payload(r.payload)]),
  );
}

export const jobs: Command = {
  usage: `usage: honker jobs <db|postgres-url> <queue> [--state pending|scheduled|processing|dead] [--limit N] [--json]

Lists the queue's jobs: without --state every live job by id; pending = due now,
in claim order; scheduled = waiting for run_at; processing = claimed; dead =
dead-lettered, newest first. --limit defaults to 50.`,
  async run(args) {
    const p = parse(jobs, args, { state: { type: 'string' }, limit: { type: 'string' } }, [2, 2]);
    if (!p) return 0;
    const o = out(p);
    const [file, queueArg] = p.positionals as [string, string];
    const queue = nameArg('queue', queueArg);
    const state = p.values.state as string | undefined;
    if (state !== undefined && !(STATES as readonly string[]).includes(state)) {
      throw new UsageError(`--state must be one of ${STATES.join(', ')} (got '${state}')`);
    }
    const limit = intFlag(p, 'limit', 0, 50)!;
    const [stats, text, t] = (await readValues(file, [
      ['honker_queues_stats', []],
      ['honker_job_list', [queue, state ?? null, limit]],
      ['now', []],
    ])) as [string, string, number];
    knownQueueIn(JSON.parse(stats) as QueueStatsRow[], queue);
    const rows = JSON.parse(text) as unknown[];
    if (state === 'dead') {
      printDead(o, rows as DeadJobRecord[]);
      return 0;
    }
    const live = (rows as LiveJobRecord[]).map((r) => ({
      ...r,
      payload: parsePayload(r.payload),
      state: r.state === 'pending' && r.run_at > t ? 'scheduled' : r.state,
    }));
    if (o.json) {
      fmt.writeJson(live);
    } else if (live.length === 0) {
      fmt.write(`no ${state ?? 'live'} jobs`);
    } else {
      fmt.table(
        o,
        ['ID', 'STATE', 'PRIORITY', 'RUN AT', 'ATTEMPTS', 'WORKER', 'PAYLOAD'],
        live.map((r) => [
          String(r.id),
          r.state,
          String(r.priority),
          fmt.time(r.run_at),
          `${r.attempts}/${r.max_attempts}`,
          r.worker_id ?? '-',
          fmt.payload(r.payload),
        ]),
      );
    }
    return 0;
  },
};
