/**
 * What the dashboard reads and writes: one `SELECT honker_*(…)` per call,
 * like every feature module (the SQL lives in ext/ and pg/: honker_queues_stats,
 * honker_job_list, honker_history, honker_job_errors, honker_streams,
 * honker_stream_consumers, honker_workers, honker_scheduler_list,
 * honker_notify_channels, honker_notify_recent). Other hosts can build the
 * same views from the same functions.
 *
 * DashboardData is the one interface the views and the handler use, async
 * on both engines. Its one implementation (sqlData) calls the functions by
 * name through a DashboardSql, which each engine provides (engine.ts): the
 * SQL functions have the same names, arguments and JSON on SQLite and
 * Postgres, so nothing above this file knows which engine it reads.
 */
import type { DeadJobRecord } from '../dead.js';
import type { LiveJobRecord, QueueStatsRecord } from '../queue.js';

export type QueueRow = QueueStatsRecord;

/** A job of a list or the job page: a live one, or a dead one (state 'dead', died_at set). */
export type JobRow = LiveJobRecord & { died_at?: number };

export interface HistoryRow {
  queue: string;
  minute: number;
  completed: number;
  failed: number;
  dead: number;
}

export interface ErrorRow {
  attempt: number;
  error: string;
  created_at: number;
}

export interface ScheduleRow {
  name: string;
  queue: string;
  cron_expr: string;
  payload: string;
  priority: number;
  expires_s: number | null;
  next_fire_at: number;
  enabled: boolean;
  max_attempts: number;
}

export interface StreamRow {
  topic: string;
  head: number;
  last_at: number | null;
  consumers: number;
}

export interface ConsumerRow {
  topic: string;
  consumer: string;
  offset: number;
  head: number;
  lag: number;
}

export interface WorkerRow {
  worker_id: string;
  slot: number;
  pid: number;
  host: string;
  registered_at: number;
  alive: boolean;
  claims: number;
}

export interface ChannelRow {
  channel: string;
  last_id: number;
  last_at: number;
}

export interface NotificationRow {
  id: number;
  channel: string;
  payload: string;
  created_at: number;
}

export type ListState = 'pending' | 'scheduled' | 'processing' | 'dead';
export const LIST_STATES: readonly ListState[] = ['pending', 'scheduled', 'processing', 'dead'];

/** One database's reads and writes for the dashboard (either engine). */
export interface DashboardData {
  /** The database's clock, unix seconds. */
  now(): Promise<number>;
  queues(): Promise<QueueRow[]>;
  jobs(queue: string, state: ListState | null, limit: number, offset: number): Promise<JobRow[]>;
  /** A live job, else a dead one (state 'dead'), else undefined. */
  job(id: number): Promise<JobRow | undefined>;
  jobErrors(id: number): Promise<ErrorRow[]>;
  history(queue: string | null, since: number): Promise<HistoryRow[]>;
  schedules(): Promise<ScheduleRow[]>;
  streams(): Promise<StreamRow[]>;
  consumers(): Promise<ConsumerRow[]>;
  workers(): Promise<WorkerRow[]>;
  channels(): Promise<ChannelRow[]>;
  recentNotifications(channel: string, limit: number): Promise<NotificationRow[]>;
  /** The earliest future second at which some queue's jobs become claimable (0: none). */
  nextDue(queues: readonly QueueRow[], now: number): Promise<number>;
  // --- actions (refused before this point in read-only mode) ---
  cancel(id: number): Promise<boolean>;
  runNow(id: number): Promise<boolean>;
  requeue(id: number): Promise<boolean>;
  /** Requeue up to n of queue's newest dead jobs in one transaction; how many moved (-1: none left). */
  requeueBatch(queue: string, n: number): Promise<number>;
  purge(queue: string): Promise<number>;
  pause(name: string): Promise<boolean>;
  resume(name: string): Promise<boolean>;
}

/** How an engine runs honker's SQL functions for the dashboard (engine.ts has one per engine). */
export interface DashboardSql {
  /** `SELECT fn(args…)`: its value, integers as numbers. */
  call(fn: string, args?: readonly unknown[]): Promise<unknown>;
  /** The database's clock, unix seconds. */
  now(): Promise<number>;
  /**
   * Requeue up to n of queue's newest dead jobs (honker_dead_list, then
   * honker_dead_requeue each) in one transaction; how many moved (-1: none
   * left). Per engine: a SQLite transaction cannot span an await.
   */
  requeueNewestDead(queue: string, n: number): Promise<number>;
}

/** DashboardData over an engine's SQL calls (see the file header). */
export function sqlData(sql: DashboardSql): DashboardData {
  const json = async <T>(fn: string, ...args: unknown[]): Promise<T> => JSON.parse((await sql.call(fn, args)) as string) as T;
  const one = async (fn: string, ...args: unknown[]): Promise<boolean> => Number(await sql.call(fn, args)) === 1;
  return {
    now: () => sql.now(),
    queues: () => json('honker_queues_stats'),
    jobs: (queue, state, limit, offset) => json('honker_job_list', queue, state, limit, offset),
    async job(id) {
      const live = (await sql.call('honker_get_job', [id])) as string;
      if (live) return JSON.parse(live) as JobRow;
      const dead = (await sql.call('honker_dead_get', [id])) as string;
      if (!dead) return undefined;
      return { ...(JSON.parse(dead) as DeadJobRecord), state: 'dead', worker_id: null, claim_expires_at: null, expires_at: null };
    },
    jobErrors: (id) => json('honker_job_errors', id),
    history: (queue, since) => json('honker_history', queue, since),
    schedules: () => json('honker_scheduler_list'),
    streams: () => json('honker_streams'),
    consumers: () => json('honker_stream_consumers'),
    workers: () => json('honker_workers'),
    channels: () => json('honker_notify_channels'),
    recentNotifications: (channel, limit) => json('honker_notify_recent', channel, limit),
    async nextDue(queues, now) {
      let next = 0;
      for (const q of queues) {
        const at = Number(await sql.call('honker_queue_next_claim_at', [q.queue]));
        if (at > now && (next === 0 || at < next)) next = at;
      }
      return next;
    },
    cancel: (id) => one('honker_cancel', id),
    runNow: (id) => one('honker_run_now', id),
    requeue: (id) => one('honker_dead_requeue', id),
    requeueBatch: (queue, n) => sql.requeueNewestDead(queue, n),
    purge: async (queue) => Number(await sql.call('honker_dead_purge', [queue, 0])),
    pause: (name) => one('honker_scheduler_pause', name),
    resume: (name) => one('honker_scheduler_resume', name),
  };
}
