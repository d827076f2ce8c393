/**
 * The cron scheduler: entries live in the database; `run()` ticks them from
 * one leader at a time across processes (a honker lock with a lease), and
 * the others stand by to take over when the leader stops or dies.
 */
import { randomUUID } from 'node:crypto';
import type { HonkerDatabase } from './database.js';
import * as validate from './validate.js';

export interface ScheduleEntry {
  name: string;
  /** Queue the fired jobs go to. */
  queue: string;
  /** 5- or 6-field cron, a macro (@daily …) or `@every 30s`; in the process's local time zone. */
  schedule: string;
  payload?: unknown;
  priority?: number;
  /** Each fired job expires this many seconds after its boundary. */
  expiresS?: number;
  maxAttempts?: number;
}

export interface ScheduledTask {
  name: string;
  queue: string;
  schedule: string;
  payload: unknown;
  priority: number;
  expiresS: number | null;
  /** Unix seconds of the next boundary. */
  nextFireAt: number;
  enabled: boolean;
  maxAttempts: number;
}

export interface FiredJob {
  name: string;
  queue: string;
  /** The boundary (unix seconds) this job stands for. */
  fireAt: number;
  jobId: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Leader lease in seconds (default 10): a dead leader is replaced within about this long. */
  leaseS?: number;
  /** Called with true when this process becomes the leader, false when it stops being one. */
  onLeaderChange?: (leader: boolean) => void;
}

const LEADER_LOCK = 'honker:scheduler:leader';
const ENTRY_KEYS = ['name', 'queue', 'schedule', 'payload', 'priority', 'expiresS', 'maxAttempts'] as const;

export class Scheduler {
  /** @internal use db.scheduler() */
  constructor(private readonly db: HonkerDatabase) {}

  /** Register (or replace) an entry; its first boundary is the next one after now. */
  add(entry: ScheduleEntry): void {
    const where = 'scheduler.add';
    const e = validate.options(where, entry, ENTRY_KEYS);
    validate.name(where, 'name', e.name);
    validate.name(where, 'queue', e.queue);
    validate.name(where, 'schedule', e.schedule);
    const payload = validate.json(where, 'payload', e.payload ?? null);
    const priority = e.priority === undefined ? 0 : validate.anyInt(where, 'priority', e.priority);
    const expiresS = validate.optInt(where, 'expiresS', e.expiresS, 1);
    const maxAttempts = validate.optInt(where, 'maxAttempts', e.maxAttempts, 1) ?? 3;
    this.db.assertOpen(where);
    this.db
      .sql('SELECT honker_scheduler_register(?, ?, ?, ?, ?, ?, ?)')
      .get(e.name, e.queue, e.schedule, payload, priority, expiresS ?? null, maxAttempts);
  }

  /** Remove an entry; false when there was none. */
  remove(name: string): boolean {
    validate.name('scheduler.remove', 'name', name);
    this.db.assertOpen('scheduler.remove');
    return this.db.sql('SELECT honker_scheduler_unregister(?)').pluck().get(name) === 1;
  }

  pause(name: string): boolean {
    validate.name('scheduler.pause', 'name', name);
    this.db.assertOpen('scheduler.pause');
    return this.db.sql('SELECT honker_scheduler_pause(?)').pluck().get(name) === 1;
  }

  resume(name: string): boolean {
    validate.name('scheduler.resume', 'name', name);
    this.db.assertOpen('scheduler.resume');
    return this.db.sql('SELECT honker_scheduler_resume(?)').pluck().get(name) === 1;
  }

  list(): ScheduledTask[] {
    this.db.assertOpen('scheduler.list');
    const rows = JSON.parse(this.db.sql('SELECT honker_scheduler_list()').pluck().get() as string) as Record<string, unknown>[];
    return rows.map((r) => ({
      name: r.name as string,
      queue: r.queue as string,
      schedule: r.cron_expr as string,
      payload: parseJson(r.payload as string),
      priority: r.priority as number,
      expiresS: (r.expires_s as number | null) ?? null,
      nextFireAt: r.next_fire_at as number,
      enabled: r.enabled as boolean,
      maxAttempts: r.max_attempts as number,
    }));
  }

  /** Enqueue every due boundary once; returns what fired. run() calls this for you. */
  tick(nowS = Math.floor(Date.now() / 1000)): FiredJob[] {
    validate.int('scheduler.tick', 'nowS', nowS, 0);
    this.db.assertOpen('scheduler.tick');
    const rows = JSON.parse(this.db.sql('SELECT honker_scheduler_tick(?)').pluck().get(nowS) as string) as Record<string, unknown>[];
    return rows.map((r) => ({ name: r.name as string, queue: r.queue as string, fireAt: r.fire_at as number, jobId: r.job_id as number }));
  }

  /** Unix seconds of the soonest boundary of an enabled entry, or 0. */
  soonest(): number {
    this.db.assertOpen('scheduler.soonest');
    return this.db.sql('SELECT honker_scheduler_soonest()').pluck().get() as number;
  }

  /**
   * Tick the schedule until signal aborts. One process leads at a time; the
   * others wait and take over within about leaseS of the leader's death.
   */
  async run(options?: RunOptions): Promise<void> {
    const where = 'scheduler.run';
    const opts = validate.options(where, options, ['signal', 'leaseS', 'onLeaderChange']);
    const signal = validate.signal(where, opts.signal);
    const leaseS = validate.optInt(where, 'leaseS', opts.leaseS, 2) ?? 10;
    const owner = randomUUID();
    const watcher = this.db.watcher();
    const signals = [signal, this.db.closeSignal];
    let leader = false;
    const setLeader = (value: boolean): void => {
      if (value === leader) return;
      leader = value;
      opts.onLeaderChange?.(value);
    };
    try {
      while (!signal?.aborted) {
        const since = watcher.generation();
        // Renew (or take) the lease a third of the way through it.
        const got = leader
          ? this.db.sql('SELECT honker_lock_renew(?, ?, ?)').pluck().get(LEADER_LOCK, owner, leaseS) === 1 ||
            this.db.sql('SELECT honker_lock_acquire(?, ?, ?)').pluck().get(LEADER_LOCK, owner, leaseS) === 1
          : this.db.sql('SELECT honker_lock_acquire(?, ?, ?)').pluck().get(LEADER_LOCK, owner, leaseS) === 1;
        setLeader(got);
        let deadlineMs = Date.now() + (leaseS * 1000) / 3;
        if (leader) {
          this.tick();
          const soonest = this.soonest();
          if (soonest > 0) deadlineMs = Math.min(deadlineMs, soonest * 1000);
        }
        try {
          await watcher.wait(since, { signals, deadlineMs });
        } catch (err) {
          if (signal?.aborted) return;
          throw err;
        }
      }
    } finally {
      if (leader && this.db.isOpen) {
        this.db.sql('SELECT honker_lock_release(?, ?)').get(LEADER_LOCK, owner);
      }
      setLeader(false);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
