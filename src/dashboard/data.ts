/**
 * What the dashboard reads and writes: one `SELECT honker_*(…)` per call,
 * like every feature module (the SQL lives in ext/: honker_queues_stats,
 * honker_job_list, honker_history, honker_job_errors, honker_streams,
 * honker_stream_consumers, honker_workers, honker_scheduler_list,
 * honker_notify_channels, honker_notify_recent). Other hosts can build the
 * same views from the same functions.
 */
import type { Connection } from '../connection.js';

export interface QueueRow {
  queue: string;
  pending: number;
  scheduled: number;
  processing: number;
  dead: number;
  oldest_pending_at: number | null;
}

export interface JobRow {
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
  died_at?: number;
}

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

/** One connection's reads and writes for the dashboard. */
export class DashboardData {
  constructor(private readonly db: Connection) {}

  private json<T>(sql: string, ...params: unknown[]): T {
    return JSON.parse(this.db.sql(sql).pluck().get(...params) as string) as T;
  }

  now(): number {
    return this.db.sql('SELECT unixepoch()').pluck().get() as number;
  }

  queues(): QueueRow[] {
    return this.json('SELECT honker_queues_stats()');
  }

  jobs(queue: string, state: ListState | null, limit: number, offset: number): JobRow[] {
    return this.json('SELECT honker_job_list(?, ?, ?, ?)', queue, state, limit, offset);
  }

  /** A live job, else a dead one (state 'dead'), else undefined. */
  job(id: number): JobRow | undefined {
    const live = this.db.sql('SELECT honker_get_job(?)').pluck().get(id) as string;
    if (live) return JSON.parse(live) as JobRow;
    const dead = this.db.sql('SELECT honker_dead_get(?)').pluck().get(id) as string;
    return dead ? { ...(JSON.parse(dead) as JobRow), state: 'dead', worker_id: null, claim_expires_at: null, expires_at: null } : undefined;
  }

  jobErrors(id: number): ErrorRow[] {
    return this.json('SELECT honker_job_errors(?)', id);
  }

  history(queue: string | null, since: number): HistoryRow[] {
    return this.json('SELECT honker_history(?, ?)', queue, since);
  }

  schedules(): ScheduleRow[] {
    return this.json('SELECT honker_scheduler_list()');
  }

  streams(): StreamRow[] {
    return this.json('SELECT honker_streams()');
  }

  consumers(): ConsumerRow[] {
    return this.json('SELECT honker_stream_consumers()');
  }

  workers(): WorkerRow[] {
    return this.json('SELECT honker_workers()');
  }

  channels(): ChannelRow[] {
    return this.json('SELECT honker_notify_channels()');
  }

  recentNotifications(channel: string, limit: number): NotificationRow[] {
    return this.json('SELECT honker_notify_recent(?, ?)', channel, limit);
  }

  /** The earliest future second at which some queue's jobs become claimable (0: none). */
  nextDue(queues: readonly QueueRow[], now: number): number {
    let next = 0;
    for (const q of queues) {
      const at = this.db.sql('SELECT honker_queue_next_claim_at(?)').pluck().get(q.queue) as number;
      if (at > now && (next === 0 || at < next)) next = at;
    }
    return next;
  }

  // --- actions (refused before this point in read-only mode) ---

  cancel(id: number): boolean {
    return this.db.sql('SELECT honker_cancel(?)').pluck().get(id) === 1;
  }

  runNow(id: number): boolean {
    return this.db.sql('SELECT honker_run_now(?)').pluck().get(id) === 1;
  }

  requeue(id: number): boolean {
    return this.db.sql('SELECT honker_dead_requeue(?)').pluck().get(id) === 1;
  }

  /** Requeue up to n of queue's newest dead jobs in one transaction; how many moved (-1: none left). */
  requeueBatch(queue: string, n: number): number {
    return this.db.transaction(() => {
      const rows = this.json<Array<{ id: number }>>('SELECT honker_dead_list(?, ?)', queue, n);
      let moved = 0;
      for (const row of rows) moved += this.db.sql('SELECT honker_dead_requeue(?)').pluck().get(row.id) as number;
      return rows.length === 0 ? -1 : moved;
    });
  }

  purge(queue: string): number {
    return this.db.sql('SELECT honker_dead_purge(?, 0)').pluck().get(queue) as number;
  }

  pause(name: string): boolean {
    return this.db.sql('SELECT honker_scheduler_pause(?)').pluck().get(name) === 1;
  }

  resume(name: string): boolean {
    return this.db.sql('SELECT honker_scheduler_resume(?)').pluck().get(name) === 1;
  }
}
