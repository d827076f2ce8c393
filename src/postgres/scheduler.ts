/**
 * The cron scheduler on Postgres (src/scheduler.ts is the SQLite twin and
 * its header the protocol): entries in _honker_scheduler_tasks, run() ticks
 * them from one leader at a time across processes and hosts, through the
 * lock LEADER_LOCK with a lease; each tick runs in one transaction with a
 * renew, so a leader whose lease lapsed (paused, partitioned) never ticks.
 *
 * Waking on Postgres: the leader sleeps until the soonest boundary or its
 * next renewal, and wakes early when the schedule changes ('c:schedule', a
 * register/update/resume from any process); a standby tries the lock right
 * after each whole second (when a lease can lapse) and at once when the
 * leader releases it ('l:<lock>').
 *
 * Boundaries are computed in this process's time zone (TZ), as the SQLite
 * extension computes them in its process's: every statement that computes
 * one sets honker.time_zone for it (pg/cron.sql).
 */
import { randomUUID } from 'node:crypto';
import {
  BUSY_RETRY_MS,
  firedJobs,
  LEADER_LOCK,
  MAX_LEASE_S,
  RUN_KEYS,
  scheduleArgs,
  scheduledTasks,
  scheduleProblem,
  STANDBY_SECOND_OFFSET_MS,
  type FiredJob,
  type RunOptions,
  type ScheduledTask,
  type ScheduleEntry,
} from '../scheduler.js';
import * as validate from '../validate.js';
import { MAX_UNIX } from '../validate.js';
import { wakeLoop } from '../wake.js';
import { isConnectionError, processTimeZone, type PgConnection } from './connection.js';
import { wakeKey } from './watcher.js';

/** `FROM` clause that sets the cron time zone for the statement (its parameter is the zone). */
const ZONE = (n: number) => `FROM (SELECT set_config('honker.time_zone', $${n}, false)) AS honker_zone`;

export class PgScheduler {
  /** @internal use db.scheduler() */
  constructor(private readonly db: PgConnection) {}

  /**
   * Register (or replace) an entry; its first boundary is the next one after
   * now. Re-adding a paused entry keeps it paused. Throws synchronously on a
   * bad entry; rejects when the schedule does not parse.
   */
  add(entry: ScheduleEntry): Promise<void> {
    const a = scheduleArgs('scheduler.add', entry);
    this.db.assertOpen('scheduler.add');
    return (async () => {
      scheduleProblem('scheduler.add', a.schedule, await this.db.value<string | null>('SELECT honker_cron_error($1) AS v', [a.schedule]));
      await this.db.value(`SELECT honker_scheduler_register($1, $2, $3, $4, $5, $6, $7) AS v ${ZONE(8)}`, [
        a.name,
        a.queue,
        a.schedule,
        a.payload,
        a.priority,
        a.expiresS,
        a.maxAttempts,
        processTimeZone(),
      ]);
    })();
  }

  /** Remove an entry; false when there was none. */
  remove(name: string): Promise<boolean> {
    validate.name('scheduler.remove', 'name', name);
    this.db.assertOpen('scheduler.remove');
    return this.db.int('SELECT honker_scheduler_unregister($1) AS v', [name]).then((v) => v === 1);
  }

  /** Stop firing an entry; false when it does not exist or is already paused. */
  pause(name: string): Promise<boolean> {
    validate.name('scheduler.pause', 'name', name);
    this.db.assertOpen('scheduler.pause');
    return this.db.int('SELECT honker_scheduler_pause($1) AS v', [name]).then((v) => v === 1);
  }

  /** Fire a paused entry again from its next boundary after now; false when it is not paused. */
  resume(name: string): Promise<boolean> {
    validate.name('scheduler.resume', 'name', name);
    this.db.assertOpen('scheduler.resume');
    return this.db.int(`SELECT honker_scheduler_resume($1) AS v ${ZONE(2)}`, [name, processTimeZone()]).then((v) => v === 1);
  }

  /** Every entry, ordered by name. */
  list(): Promise<ScheduledTask[]> {
    this.db.assertOpen('scheduler.list');
    return this.db.value<string>('SELECT honker_scheduler_list() AS v').then(scheduledTasks);
  }

  /** Enqueue every boundary due at nowS (default now) once; resolves with what fired. */
  tick(nowS = Math.floor(Date.now() / 1000)): Promise<FiredJob[]> {
    validate.int('scheduler.tick', 'nowS', nowS, 0, MAX_UNIX);
    this.db.assertOpen('scheduler.tick');
    return this.db.value<string>(`SELECT honker_scheduler_tick($1) AS v ${ZONE(2)}`, [nowS, processTimeZone()]).then(firedJobs);
  }

  /** Unix seconds of the soonest boundary of an enabled entry, or 0 when there is none. */
  soonest(): Promise<number> {
    this.db.assertOpen('scheduler.soonest');
    return this.db.int('SELECT honker_scheduler_soonest() AS v');
  }

  /**
   * Tick the schedule until signal aborts (resolves) or the database closes
   * (rejects with a CLOSED HonkerError). One run leads at a time across
   * processes; the others stand by. Bad options throw synchronously.
   */
  run(options?: RunOptions): Promise<void> {
    const where = 'scheduler.run';
    const opts = validate.options(where, options, RUN_KEYS);
    const signal = validate.signal(where, opts.signal);
    const leaseS = opts.leaseS === undefined ? 10 : validate.int(where, 'leaseS', opts.leaseS, 2, MAX_LEASE_S);
    const onLeaderChange = opts.onLeaderChange;
    if (onLeaderChange !== undefined && typeof onLeaderChange !== 'function') {
      throw validate.invalid(where, 'onLeaderChange', 'be a function', onLeaderChange);
    }
    this.db.assertOpen(where);
    this.db.pgWatcher();
    return this.lead(signal, leaseS, onLeaderChange);
  }

  private async lead(signal: AbortSignal | undefined, leaseS: number, onLeaderChange: ((leader: boolean) => void) | undefined): Promise<void> {
    const owner = randomUUID();
    const renewMs = ((leaseS - 1) * 1000) / 3;
    let leader = false;
    let notified = false;
    let nextRenewMs = 0;
    let leaseEndMs = 0;
    const setLeader = (value: boolean): void => {
      leader = value;
      if (value === notified) return;
      notified = value;
      onLeaderChange?.(value);
    };
    let releasing: Promise<unknown> | undefined;
    const release = (): void => {
      if (!leader) return;
      leader = false;
      releasing = this.db.value('SELECT honker_lock_release($1, $2) AS v', [LEADER_LOCK, owner]).catch(() => undefined);
    };
    // close() aborts closeSignal before it ends the pool: release while we still can.
    const onClose = (): void => release();
    this.db.closeSignal.addEventListener('abort', onClose, { once: true });
    const renewed = (startMs: number): void => {
      nextRenewMs = startMs + renewMs;
      leaseEndMs = (Math.floor(startMs / 1000) + leaseS) * 1000;
    };
    /** fn(), or null when the server could not be reached (retried after a pause). */
    const reachable = async <T>(fn: () => Promise<T>): Promise<T | null> => {
      try {
        return await fn();
      } catch (err) {
        if (isConnectionError(err)) return null;
        throw err;
      }
    };
    const source = await this.db.subscribe([wakeKey('c', 'schedule'), wakeKey('l', LEADER_LOCK)]);
    try {
      for (const wake = wakeLoop(source, { signal }); wake.look(); await wake.sleep()) {
        const nowMs = Date.now();
        if (!leader) {
          const got = await reachable(async () => (await this.db.int('SELECT honker_lock_acquire($1, $2, $3) AS v', [LEADER_LOCK, owner, leaseS])) === 1);
          if (got) {
            renewed(nowMs);
            setLeader(true);
            wake.again();
            continue;
          }
          wake.until(got === null ? nowMs + BUSY_RETRY_MS : (Math.floor(nowMs / 1000) + 1) * 1000 + STANDBY_SECOND_OFFSET_MS);
          continue;
        }
        const nowS = Math.floor(nowMs / 1000);
        let soonest = (await reachable(() => this.soonest())) ?? 0;
        const due = soonest > 0 && soonest <= nowS;
        let deadlineMs = nextRenewMs;
        if (due || nowMs >= nextRenewMs) {
          // Renew and tick in one transaction: no tick without a live lease.
          const held = await reachable(() =>
            this.db.transaction(async (tx) => {
              if ((await tx.int('SELECT honker_lock_renew($1, $2, $3) AS v', [LEADER_LOCK, owner, leaseS])) !== 1) return false;
              if (due) await new PgScheduler(tx).tick(nowS);
              return true;
            }),
          );
          if (held === false || (held === null && Date.now() >= leaseEndMs)) {
            setLeader(false);
            wake.again();
            continue;
          }
          if (held === null) {
            soonest = 0;
            deadlineMs = nowMs + BUSY_RETRY_MS;
          } else {
            renewed(nowMs);
            deadlineMs = nextRenewMs;
            if (due) soonest = Math.max(await this.soonest(), nowS + 1);
          }
        }
        wake.until(soonest > 0 ? Math.min(deadlineMs, soonest * 1000) : deadlineMs);
      }
    } finally {
      source.close();
      this.db.closeSignal.removeEventListener('abort', onClose);
      if (this.db.isOpen) release();
      else leader = false;
      await releasing;
      setLeader(false);
    }
  }
}
