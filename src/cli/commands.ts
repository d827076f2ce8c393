/**
 * The subcommands of `honker` (src/cli.ts dispatches here). Each parses its
 * arguments with node:util parseArgs, checks the database read-only first
 * (database.ts would create a missing file), then reads through a read-only
 * connection or writes through the client (open()).
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { open, type HonkerDatabase } from '../database.js';
import { load } from '../extension.js';
import * as fmt from './format.js';
import { runWorker, WORKER_USAGE } from './worker.js';

/** Bad command line: exit 2 (with the command's usage when showUsage). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = false,
  ) {
    super(message);
  }
}

/** The command failed (missing file, not a honker database, unknown queue …): exit 1. */
export class CliError extends Error {}

export interface Command {
  usage: string;
  run(args: string[]): Promise<number>;
}

export const GLOBAL_USAGE = `usage: honker <command> [options]

Inspect and operate a honker database (a SQLite file) without SQL:
  stats <db>                          per queue: pending, scheduled, processing, dead, oldest pending age
  jobs <db> <queue>                   list a queue's jobs (--state, --limit)
  dead <db> <queue>                   list, requeue or purge dead jobs
  enqueue <db> <queue> <json>         add a job
  notify <db> <channel> <json>        send a notification
  listen <db> <channel>               print notifications as they arrive (Ctrl-C stops)
  tail <db> <stream>                  print stream events as they arrive (--consumer saves offsets)
  schedule <db> [list|pause|resume]   cron schedules
  worker <module>                     run the tasks a module registers

Every command takes --help; listings take --json (JSON instead of a table).
Exit codes: 0 ok, 1 the command failed, 2 usage error.`;

type Options = NonNullable<ParseArgsConfig['options']>;
const COMMON: Options = { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } };

interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** parseArgs with the shared flags; null when --help was given (usage printed). */
function parse(cmd: Command, args: string[], options: Options, positionals: [number, number]): Parsed | null {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true }) as Parsed;
  } catch (err) {
    // parseArgs' first sentence ("Unknown option '--x'") is the useful part; its hints name
    // the syntax `--priority=-3`, which we add for negative numbers.
    const first = (err as Error).message.split(/\.(\s|$)/)[0]!;
    const hint = /argument is ambiguous/.test(first) ? ` (write a negative number as ${/'(--[\w-]+)'/.exec(first)?.[1]}=-N)` : '';
    throw new UsageError(first + hint, true);
  }
  if (parsed.values.help) {
    process.stdout.write(cmd.usage + '\n');
    return null;
  }
  const [min, max] = positionals;
  if (parsed.positionals.length < min) throw new UsageError('missing arguments', true);
  if (parsed.positionals.length > max) {
    throw new UsageError(`unexpected argument '${parsed.positionals[max]}'`, true);
  }
  return parsed;
}

function out(parsed: Parsed): fmt.Out {
  return { json: parsed.values.json === true, tty: process.stdout.isTTY === true };
}

/** An integer flag value within [min, max], or dflt when absent. */
function intFlag(parsed: Parsed, name: string, min: number, dflt?: number): number | undefined {
  const v = parsed.values[name];
  if (v === undefined) return dflt;
  const s = String(v);
  if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s)) || Number(s) < min) {
    throw new UsageError(`--${name} must be an integer >= ${min} (got '${s}')`);
  }
  return Number(s);
}

function jsonArg(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${what} is not valid JSON: ${text.length > 60 ? text.slice(0, 59) + '…' : text}`);
  }
}

function nameArg(what: string, text: string): string {
  if (text === '') throw new UsageError(`${what} must not be empty`);
  return text;
}

/**
 * Check that file is an existing honker database without writing anything
 * (never creates it), and return a read-only connection with the extension loaded.
 */
function readOnly(file: string): Database.Database {
  if (!existsSync(file)) throw new CliError(`${file}: no such file`);
  let raw: Database.Database;
  try {
    raw = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new CliError(`${file}: cannot open: ${(err as Error).message}`);
  }
  try {
    raw.pragma('busy_timeout = 5000');
    let tables: number;
    try {
      tables = raw
        .prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('_honker_live', '_honker_dead')")
        .pluck()
        .get() as number;
    } catch (err) {
      throw new CliError(`${file}: not a SQLite database (${(err as Error).message})`);
    }
    if (tables !== 2) throw new CliError(`${file}: not a honker database (it has no _honker_live table)`);
    load(raw);
    return raw;
  } catch (err) {
    raw.close();
    throw err;
  }
}

/** Check file read-only, then open it with the client for writing. */
function writable(file: string): HonkerDatabase {
  readOnly(file).close();
  return open(file);
}

function withReadOnly<T>(file: string, fn: (raw: Database.Database) => T): T {
  const raw = readOnly(file);
  try {
    return fn(raw);
  } finally {
    raw.close();
  }
}

function withWritable<T>(file: string, fn: (db: HonkerDatabase) => T): T {
  const db = writable(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

interface QueueStatsRow {
  queue: string;
  pending: number;
  scheduled: number;
  processing: number;
  dead: number;
  oldest_pending_at: number | null;
}

function queuesStats(raw: Database.Database): QueueStatsRow[] {
  return JSON.parse(raw.prepare('SELECT honker_queues_stats()').pluck().get() as string) as QueueStatsRow[];
}

function now(raw: Database.Database): number {
  return raw.prepare('SELECT unixepoch()').pluck().get() as number;
}

/** Fail with "unknown queue" unless the queue has a live or dead job. */
function knownQueue(raw: Database.Database, queue: string): QueueStatsRow {
  const all = queuesStats(raw);
  const row = all.find((r) => r.queue === queue);
  if (!row) {
    const names = all.map((r) => r.queue);
    const list = names.length ? `; queues: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}` : '; the database has no queue';
    throw new CliError(`unknown queue '${queue}' (no live or dead job${list})`);
  }
  return row;
}

// --- stats ------------------------------------------------------------------

const stats: Command = {
  usage: `usage: honker stats <db> [--json]

Per queue: jobs due now (pending), waiting for their run_at (scheduled), claimed
(processing), dead-lettered (dead), and the age of the oldest due job.`,
  async run(args) {
    const p = parse(stats, args, {}, [1, 1]);
    if (!p) return 0;
    const o = out(p);
    const { rows, t } = withReadOnly(p.positionals[0]!, (raw) => ({ rows: queuesStats(raw), t: now(raw) }));
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

// --- jobs -------------------------------------------------------------------

const STATES = ['pending', 'scheduled', 'processing', 'dead'] as const;

interface LiveRow {
  id: number;
  queue: string;
  payload: string;
  state: string;
  priority: number;
  run_at: number;
  worker_id: string | null;
  claim_expires_at: number | null;
  attempts: number;
  max_attempts: number;
  created_at: number;
  expires_at: number | null;
  last_error: string | null;
}

interface DeadRow {
  id: number;
  queue: string;
  payload: string;
  priority: number;
  run_at: number;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  created_at: number;
  died_at: number;
}

function printDead(o: fmt.Out, rows: DeadRow[]): void {
  const parsed = rows.map((r) => ({ ...r, payload: fmt.parseStored(r.payload) }));
  if (o.json) return fmt.writeJson(parsed);
  if (parsed.length === 0) return fmt.write('no dead jobs');
  fmt.table(
    o,
    ['ID', 'DIED', 'ATTEMPTS', 'LAST ERROR', 'PAYLOAD'],
    parsed.map((r) => [String(r.id), fmt.time(r.died_at), `${r.attempts}/${r.max_attempts}`, r.last_error ?? '-', fmt.payload(r.payload)]),
  );
}

const jobs: Command = {
  usage: `usage: honker jobs <db> <queue> [--state pending|scheduled|processing|dead] [--limit N] [--json]

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
    const { rows, t } = withReadOnly(file, (raw) => {
      knownQueue(raw, queue);
      const text = raw.prepare('SELECT honker_job_list(?, ?, ?)').pluck().get(queue, state ?? null, limit) as string;
      return { rows: JSON.parse(text) as unknown[], t: now(raw) };
    });
    if (state === 'dead') {
      printDead(o, rows as DeadRow[]);
      return 0;
    }
    const live = (rows as LiveRow[]).map((r) => ({
      ...r,
      payload: fmt.parseStored(r.payload),
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

// --- dead -------------------------------------------------------------------

const REQUEUE_BATCH = 500;

const dead: Command = {
  usage: `usage: honker dead <db> <queue> [--limit N] [--json]
       honker dead <db> <queue> --requeue ID
       honker dead <db> <queue> --requeue-all
       honker dead <db> <queue> --purge [--older-than SECONDS]

Without an action lists the newest dead jobs (--limit, default 50).
--requeue ID puts one dead job back to pending (attempts 0, same id).
--requeue-all does that for every dead job of the queue, in transactions of
${REQUEUE_BATCH} (progress on stderr on a terminal). --purge deletes dead jobs, or
only those that died at least --older-than seconds ago.`,
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

    if (action === undefined) {
      const rows = withReadOnly(file, (raw) => {
        knownQueue(raw, queue);
        return JSON.parse(raw.prepare('SELECT honker_dead_list(?, ?)').pluck().get(queue, limit) as string) as DeadRow[];
      });
      printDead(o, rows);
      return 0;
    }
    if (action === 'requeue') {
      const id = intFlag(p, 'requeue', 1)!;
      withReadOnly(file, (raw) => knownQueue(raw, queue));
      withWritable(file, (db) => {
        db.transaction(() => {
          const moved = db.sql('SELECT honker_dead_requeue(?)').pluck().get(id) === 1;
          const job = moved ? (JSON.parse(db.sql('SELECT honker_get_job(?)').pluck().get(id) as string) as LiveRow) : null;
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
      withWritable(file, (db) => {
        // Bounded by the count at the start: a job that dies again meanwhile is not requeued twice.
        while (done < total) {
          const n = db.transaction(() => {
            const batch = JSON.parse(
              db.sql('SELECT honker_dead_list(?, ?)').pluck().get(queue, Math.min(REQUEUE_BATCH, total - done)) as string,
            ) as DeadRow[];
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
    const purged = withWritable(file, (db) => db.sql('SELECT honker_dead_purge(?, ?)').pluck().get(queue, olderThan) as number);
    if (o.json) fmt.writeJson({ purged });
    else fmt.write(`purged ${purged} dead job${purged === 1 ? '' : 's'} of queue '${queue}'`);
    return 0;
  },
};

// --- enqueue, notify --------------------------------------------------------

const enqueue: Command = {
  usage: `usage: honker enqueue <db> <queue> <json> [--delay SECONDS] [--priority P] [--max-attempts N] [--json]

Adds a job whose payload is the JSON value given; prints its id.`,
  async run(args) {
    const p = parse(
      enqueue,
      args,
      { delay: { type: 'string' }, priority: { type: 'string' }, 'max-attempts': { type: 'string' } },
      [3, 3],
    );
    if (!p) return 0;
    const [file, queueArg, text] = p.positionals as [string, string, string];
    const queue = nameArg('queue', queueArg);
    const payload = jsonArg('payload', text);
    const delayS = intFlag(p, 'delay', 0);
    const priority = intFlag(p, 'priority', Number.MIN_SAFE_INTEGER);
    const maxAttempts = intFlag(p, 'max-attempts', 1);
    const id = withWritable(file, (db) => db.queue(queue).enqueue(payload, { delayS, priority, maxAttempts }));
    if (out(p).json) fmt.writeJson({ id });
    else fmt.write(String(id));
    return 0;
  },
};

const notifyCmd: Command = {
  usage: `usage: honker notify <db> <channel> <json> [--json]

Sends a notification (the JSON value given) on channel; prints its id.`,
  async run(args) {
    const p = parse(notifyCmd, args, {}, [3, 3]);
    if (!p) return 0;
    const [file, channelArg, text] = p.positionals as [string, string, string];
    const channel = nameArg('channel', channelArg);
    const payload = jsonArg('payload', text);
    const id = withWritable(file, (db) => db.notify(channel, payload));
    if (out(p).json) fmt.writeJson({ id });
    else fmt.write(String(id));
    return 0;
  },
};

// --- listen, tail -----------------------------------------------------------

/** An AbortSignal that SIGINT/SIGTERM abort (the handlers are removed by the returned function). */
function stopSignal(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

const listenCmd: Command = {
  usage: `usage: honker listen <db> <channel> [--json]

Prints each notification sent on channel from now on, as it arrives (like
psql's LISTEN), until Ctrl-C. A line per notification: id, time, payload; with
--json a JSON object per line.`,
  async run(args) {
    const p = parse(listenCmd, args, {}, [2, 2]);
    if (!p) return 0;
    const o = out(p);
    const [file, channelArg] = p.positionals as [string, string];
    const channel = nameArg('channel', channelArg);
    const db = writable(file);
    const stop = stopSignal();
    try {
      const it = db.listen(channel, { signal: stop.signal });
      process.stderr.write(`listening on '${channel}' (Ctrl-C to stop)\n`);
      for await (const n of it) {
        if (o.json) fmt.writeJson({ id: n.id, channel: n.channel, payload: n.payload, created_at: n.createdAt });
        else fmt.write(`${n.id}  ${fmt.time(n.createdAt)}  ${fmt.payload(n.payload)}`);
      }
    } finally {
      stop.dispose();
      db.close();
    }
    return 0;
  },
};

const tail: Command = {
  usage: `usage: honker tail <db> <stream> [--consumer NAME] [--from OFFSET] [--json]

Prints the stream's events as they arrive, until Ctrl-C. Starts after --from,
else after the consumer's saved offset, else at the end of the stream (new
events only); --from 0 replays from the start. With --consumer the offset of
each printed event is saved, so the next run resumes after it.`,
  async run(args) {
    const p = parse(tail, args, { consumer: { type: 'string' }, from: { type: 'string' } }, [2, 2]);
    if (!p) return 0;
    const o = out(p);
    const [file, topicArg] = p.positionals as [string, string];
    const topic = nameArg('stream', topicArg);
    const consumer = p.values.consumer === undefined ? undefined : nameArg('--consumer', p.values.consumer as string);
    const from = intFlag(p, 'from', 0);
    const db = writable(file);
    const stop = stopSignal();
    try {
      const stream = db.stream(topic);
      let start = from;
      if (start === undefined && consumer === undefined) {
        // No position given: new events only (the end of the stream now).
        start = streamEnd(db, topic);
      }
      const it = stream.subscribe({ consumer, fromOffset: start, signal: stop.signal });
      const at = start ?? stream.offset(consumer!);
      process.stderr.write(`tailing '${topic}' after offset ${at}${consumer ? ` as consumer '${consumer}'` : ''} (Ctrl-C to stop)\n`);
      for await (const ev of it) {
        if (o.json) fmt.writeJson({ offset: ev.offset, topic: ev.topic, key: ev.key, payload: ev.payload, created_at: ev.createdAt });
        else fmt.write(`${ev.offset}  ${fmt.time(ev.createdAt)}  ${ev.key ?? '-'}  ${fmt.payload(ev.payload)}`);
        // Printed is done: save now, so Ctrl-C right after does not replay it.
        if (consumer) stream.saveOffset(consumer, ev.offset);
      }
    } finally {
      stop.dispose();
      db.close();
    }
    return 0;
  },
};

/** The offset of the newest event of topic (0 when none), found by paging honker_stream_read_since. */
function streamEnd(db: HonkerDatabase, topic: string): number {
  const stream = db.stream(topic);
  let end = 0;
  for (;;) {
    const page = stream.readSince(end, 10000);
    if (page.length === 0) return end;
    end = page[page.length - 1]!.offset;
  }
}

// --- schedule ---------------------------------------------------------------

const schedule: Command = {
  usage: `usage: honker schedule <db> [list] [--json]
       honker schedule <db> pause <name>
       honker schedule <db> resume <name>

Lists the cron schedules (name, queue, expression, next fire time, state), or
pauses / resumes one (resume fires from the next boundary after now).`,
  async run(args) {
    const p = parse(schedule, args, {}, [1, 3]);
    if (!p) return 0;
    const o = out(p);
    const [file, verb = 'list', name] = p.positionals as [string, string?, string?];
    if (verb === 'list') {
      if (name !== undefined) throw new UsageError(`unexpected argument '${name}'`, true);
      const rows = withReadOnly(file, (raw) => JSON.parse(raw.prepare('SELECT honker_scheduler_list()').pluck().get() as string) as Record<string, unknown>[]);
      const tasks = rows.map((r) => ({
        name: r.name as string,
        queue: r.queue as string,
        schedule: r.cron_expr as string,
        payload: fmt.parseStored(r.payload as string),
        priority: r.priority as number,
        expires_s: (r.expires_s as number | null) ?? null,
        next_fire_at: r.next_fire_at as number,
        enabled: Boolean(r.enabled),
        max_attempts: r.max_attempts as number,
      }));
      if (o.json) fmt.writeJson(tasks);
      else if (tasks.length === 0) fmt.write('no schedules');
      else {
        fmt.table(
          o,
          ['NAME', 'QUEUE', 'SCHEDULE', 'NEXT FIRE', 'STATE'],
          tasks.map((t) => [t.name, t.queue, t.schedule, t.enabled ? fmt.time(t.next_fire_at) : '-', t.enabled ? 'active' : 'paused']),
        );
      }
      return 0;
    }
    if (verb !== 'pause' && verb !== 'resume') throw new UsageError(`unknown action '${verb}' (list, pause or resume)`, true);
    if (name === undefined) throw new UsageError(`${verb} needs a schedule name`, true);
    const task = withReadOnly(file, (raw) => {
      const rows = JSON.parse(raw.prepare('SELECT honker_scheduler_list()').pluck().get() as string) as Array<{ name: string; enabled: unknown }>;
      return rows.find((r) => r.name === name);
    });
    if (!task) throw new CliError(`no schedule named '${name}'`);
    const changed = withWritable(file, (db) => (verb === 'pause' ? db.scheduler().pause(name) : db.scheduler().resume(name)));
    const state = verb === 'pause' ? 'paused' : 'active';
    if (o.json) fmt.writeJson({ name, state, changed });
    else fmt.write(changed ? `${name}: ${state}` : `${name}: already ${state}`);
    return 0;
  },
};

// --- worker ------------------------------------------------------------------

const worker: Command = {
  usage: WORKER_USAGE,
  async run(args) {
    const p = parse(worker, args, { queue: { type: 'string', multiple: true }, concurrency: { type: 'string' }, list: { type: 'boolean' } }, [1, 1]);
    if (!p) return 0;
    const queues = p.values.queue as string[] | undefined;
    return runWorker({
      module: p.positionals[0]!,
      queues: queues?.map((q) => nameArg('queue', q)),
      concurrency: intFlag(p, 'concurrency', 1, 1)!,
      list: p.values.list === true,
    });
  },
};

export const COMMANDS = new Map<string, Command>([
  ['stats', stats],
  ['jobs', jobs],
  ['dead', dead],
  ['enqueue', enqueue],
  ['notify', notifyCmd],
  ['listen', listenCmd],
  ['tail', tail],
  ['schedule', schedule],
  ['worker', worker],
]);
