/**
 * The cron scheduler: entries live in the database; `run()` ticks them from
 * one leader at a time across processes (a honker lock with a lease), and
 * the others stand by to take over when the leader stops or dies.
 *
 * Leader election (run):
 *   - the lease is the lock LEADER_LOCK, owned by a random id per run() call.
 *     Its name, 'honker-scheduler', is the one honker 0.4's bindings hold
 *     (60 s TTL, renewed every 20-30 s), so during a rolling upgrade the old
 *     and the new processes elect one leader between them; a 0.4 leader keeps
 *     its own lease length, ours stays leaseS.
 *     honker_lock_* keeps expires_at in whole seconds: a renew at wall time t
 *     sets expires_at = floor(t) + leaseS, and another owner may take the
 *     lock once unixepoch() >= expires_at, i.e. between leaseS - 1 and leaseS
 *     seconds after the last renew. Hence leaseS >= 2, and the leader renews
 *     every (leaseS - 1) / 3 seconds so three renewals fit in the shortest
 *     lease;
 *   - every tick runs in ONE transaction with a renew: the boundaries are
 *     enqueued only if, under the write lock, this run still holds an
 *     unexpired lease. A leader that was paused past its lease (SIGSTOP, a
 *     blocked event loop) finds its renew refused, reports
 *     onLeaderChange(false) and never ticks; it then competes again like any
 *     standby. (honker_scheduler_tick is safe against double fires on its
 *     own anyway: a compare-and-set on next_fire_at.)
 *   - a standby tries to take the lock right after each whole second (the
 *     only moments a lease can lapse) and, at most every STANDBY_MIN_GAP_MS,
 *     after any commit (so a leader's release is noticed at once). A failed
 *     attempt writes nothing, so it does not wake anyone;
 *   - the leader wakes at the soonest boundary, at its next renewal, and on
 *     commits (an entry added by another process may be due sooner); it only
 *     writes when a boundary is due or the lease needs renewing;
 *   - catch-up: honker_scheduler_tick enqueues every boundary that passed
 *     since next_fire_at, so the boundaries that passed while no leader was
 *     alive (or while the database was busy) are enqueued by the next tick,
 *     late but once; beyond 64 per task per tick the oldest 64 are enqueued
 *     and the rest skipped.
 *   - on every commit the leader reads honker_scheduler_soonest() (a read)
 *     and a standby may try the lock (a write lock taken briefly): that is
 *     the cost of run() on a busy database.
 * Stopping: aborting `signal` releases the lease (a standby takes over at
 * once) and run() resolves. db.close() also releases the lease (synchronously,
 * before the connection closes) and run() REJECTS with the HonkerError
 * (code CLOSED) that every waiting iterator gets. A SQLITE_BUSY while
 * renewing or acquiring is retried (a leader whose lease may have lapsed
 * meanwhile steps down first); any other error, including one thrown by
 * onLeaderChange, rejects run() after the lease is released. Nothing
 * (timer, listener) is left behind.
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from './connection.js';
import { HonkerError } from './errors.js';
import { parsePayload } from './payload.js';
import * as validate from './validate.js';
import { MAX_UNIX } from './validate.js';
import { wakeLoop } from './wake.js';

export interface ScheduleEntry {
  name: string;
  /** Queue the fired jobs go to. */
  queue: string;
  /** 5- or 6-field cron, a macro (@daily …) or `@every 30s`; in the process's local time zone. */
  schedule: string;
  payload?: unknown;
  /** Any integer, negative allowed (default 0). */
  priority?: number;
  /** Each fired job expires this many seconds after its boundary (>= 1; the first one's expiry must end by 9999-12-31T23:59:59Z). */
  expiresS?: number;
  /** Attempts of each fired job (>= 1, default 3). */
  maxAttempts?: number;
}

export interface ScheduledTask {
  name: string;
  queue: string;
  /**
   * The schedule as stored: the same schedule in a form honker 0.4's ticker also parses
   * (`@daily` as `0 0 * * *`, `MON` as `1`, `5/15` as `5-59/15`; docs/sql.md "Cron and scheduler").
   */
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
  /**
   * Leader lease in whole seconds (>= 2, default 10): a dead leader is
   * replaced between leaseS - 1 and leaseS seconds after its last renewal.
   */
  leaseS?: number;
  /** Called with true when this run becomes the leader, false when it stops being one. */
  onLeaderChange?: (leader: boolean) => void;
}

/** The lock honker 0.4's bindings elect their scheduler leader with: a mixed fleet runs one leader (the Postgres scheduler holds the same name). */
export const LEADER_LOCK = 'honker-scheduler';
const ENTRY_KEYS = ['name', 'queue', 'schedule', 'payload', 'priority', 'expiresS', 'maxAttempts'] as const;
export const RUN_KEYS = ['signal', 'leaseS', 'onLeaderChange'] as const;
/** Largest lease: a renewal period must fit in setTimeout. */
export const MAX_LEASE_S = 86400;
/** A standby retries at most this often when commits wake it. */
export const STANDBY_MIN_GAP_MS = 100;
/** A standby retries this long after each whole second (the lease lapses on one). */
export const STANDBY_SECOND_OFFSET_MS = 5;
/** After a SQLITE_BUSY, retry this soon. */
export const BUSY_RETRY_MS = 100;

/** The arguments of honker_scheduler_register, checked (both engines). */
export interface ScheduleArgs {
  name: string;
  queue: string;
  schedule: string;
  payload: string;
  priority: number;
  expiresS: number | null;
  maxAttempts: number;
}

/** @internal check a scheduler.add entry (both engines); the schedule itself is checked by honker_cron_error. */
export function scheduleArgs(where: string, entry: ScheduleEntry): ScheduleArgs {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw validate.invalid(where, 'entry', 'be an object', entry);
  }
  const e = validate.options(where, entry, ENTRY_KEYS);
  validate.name(where, 'name', e.name);
  validate.name(where, 'queue', e.queue);
  validate.name(where, 'schedule', e.schedule);
  const payload = validate.json(where, 'payload', e.payload ?? null);
  const priority = e.priority ?? 0;
  if (!Number.isSafeInteger(priority)) throw validate.invalid(where, 'priority', 'be an integer', priority);
  let expiresS: number | null = null;
  if (e.expiresS !== undefined) {
    validate.int(where, 'expiresS', e.expiresS, 1, MAX_UNIX);
    // Ends by MAX_UNIX counted from now; the extension counts from the entry's first boundary.
    expiresS = validate.seconds(where, 'expiresS', e.expiresS, 1);
  }
  const maxAttempts = validate.optInt(where, 'maxAttempts', e.maxAttempts, 1) ?? 3;
  return { name: e.name, queue: e.queue, schedule: e.schedule, payload, priority, expiresS, maxAttempts };
}

/** @internal throw INVALID_ARGUMENT with honker_cron_error's reason (null: the schedule is fine). */
export function scheduleProblem(where: string, schedule: string, why: string | null): void {
  if (why === null) return;
  throw new HonkerError(
    'INVALID_ARGUMENT',
    `${where}: schedule ${JSON.stringify(schedule.length > 40 ? schedule.slice(0, 40) + '…' : schedule)} is invalid: ${why}`,
  );
}

/** @internal honker_scheduler_list's JSON -> ScheduledTask[] (both engines). */
export function scheduledTasks(text: string): ScheduledTask[] {
  return (JSON.parse(text) as Record<string, unknown>[]).map((r) => ({
    name: r.name as string,
    queue: r.queue as string,
    schedule: r.cron_expr as string,
    payload: parsePayload(r.payload as string),
    priority: r.priority as number,
    expiresS: (r.expires_s as number | null) ?? null,
    nextFireAt: r.next_fire_at as number,
    enabled: r.enabled as boolean,
    maxAttempts: r.max_attempts as number,
  }));
}

/** @internal honker_scheduler_tick's JSON -> FiredJob[] (both engines). */
export function firedJobs(text: string): FiredJob[] {
  return (JSON.parse(text) as Record<string, unknown>[]).map((r) => ({
    name: r.name as string,
    queue: r.queue as string,
    fireAt: r.fire_at as number,
    jobId: r.job_id as number,
  }));
}

export class Scheduler {
  /** @internal use db.scheduler() */
  constructor(private readonly db: Connection) {}

  /**
   * Register (or replace) an entry; its first boundary is the next one after
   * now. Re-adding a paused entry keeps it paused. Throws (and writes
   * nothing) on a bad entry, including a schedule the parser refuses.
   */
  add(entry: ScheduleEntry): void {
    const a = scheduleArgs('scheduler.add', entry);
    this.db.assertOpen('scheduler.add');
    this.checkSchedule('scheduler.add', a.schedule);
    this.db
      .sql('SELECT honker_scheduler_register(?, ?, ?, ?, ?, ?, ?)')
      .get(a.name, a.queue, a.schedule, a.payload, a.priority, a.expiresS, a.maxAttempts);
  }

  /** Remove an entry; false when there was none. */
  remove(name: string): boolean {
    validate.name('scheduler.remove', 'name', name);
    this.db.assertOpen('scheduler.remove');
    return this.db.sql('SELECT honker_scheduler_unregister(?)').pluck().get(name) === 1;
  }

  /** Stop firing an entry; false when it does not exist or is already paused. */
  pause(name: string): boolean {
    validate.name('scheduler.pause', 'name', name);
    this.db.assertOpen('scheduler.pause');
    return this.db.sql('SELECT honker_scheduler_pause(?)').pluck().get(name) === 1;
  }

  /**
   * Fire a paused entry again from its next boundary after now (the ones
   * missed while paused are skipped); false when it does not exist or is not paused.
   */
  resume(name: string): boolean {
    validate.name('scheduler.resume', 'name', name);
    this.db.assertOpen('scheduler.resume');
    return this.db.sql('SELECT honker_scheduler_resume(?)').pluck().get(name) === 1;
  }

  /** Every entry, ordered by name. */
  list(): ScheduledTask[] {
    this.db.assertOpen('scheduler.list');
    return scheduledTasks(this.db.sql('SELECT honker_scheduler_list()').pluck().get() as string);
  }

  /**
   * Enqueue every boundary due at nowS (unix seconds, default now) once;
   * returns what fired. run() calls this for you; calling it by hand (or
   * from several processes) never fires a boundary twice.
   */
  tick(nowS = Math.floor(Date.now() / 1000)): FiredJob[] {
    validate.int('scheduler.tick', 'nowS', nowS, 0, MAX_UNIX);
    this.db.assertOpen('scheduler.tick');
    return firedJobs(this.db.sql('SELECT honker_scheduler_tick(?)').pluck().get(nowS) as string);
  }

  /** Unix seconds of the soonest boundary of an enabled entry, or 0 when there is none. */
  soonest(): number {
    this.db.assertOpen('scheduler.soonest');
    return this.db.sql('SELECT honker_scheduler_soonest()').pluck().get() as number;
  }

  /**
   * Tick the schedule until signal aborts (resolves) or the database closes
   * (rejects with a CLOSED HonkerError). One run leads at a time across
   * processes; the others stand by and take over within leaseS of the
   * leader's death, at once after its clean stop. Bad options throw
   * synchronously. See the file header for the protocol.
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
    return this.lead(signal, leaseS, onLeaderChange);
  }

  private async lead(
    signal: AbortSignal | undefined,
    leaseS: number,
    onLeaderChange: ((leader: boolean) => void) | undefined,
  ): Promise<void> {
    const owner = randomUUID();
    const renewMs = ((leaseS - 1) * 1000) / 3;
    const acquire = this.db.sql('SELECT honker_lock_acquire(?, ?, ?)').pluck();
    const renew = this.db.sql('SELECT honker_lock_renew(?, ?, ?)').pluck();
    let leader = false;
    let notified = false;
    let nextRenewMs = 0; // leader: when to renew next
    let leaseEndMs = 0; // leader: the lease surely lasts until then
    let lastAttemptMs = -Infinity; // standby: last acquire attempt
    const setLeader = (value: boolean): void => {
      leader = value;
      if (value === notified) return;
      notified = value;
      onLeaderChange?.(value);
    };
    const release = (): void => {
      if (!leader) return;
      leader = false;
      try {
        this.db.sql('SELECT honker_lock_release(?, ?)').get(LEADER_LOCK, owner);
      } catch {
        // the lease lapses by itself within leaseS
      }
    };
    // close() aborts closeSignal before it closes the connection: release while we still can.
    const onClose = (): void => release();
    this.db.closeSignal.addEventListener('abort', onClose, { once: true });
    /** Mark the lease renewed by a write that started at startMs. */
    const renewed = (startMs: number): void => {
      nextRenewMs = startMs + renewMs;
      leaseEndMs = (Math.floor(startMs / 1000) + leaseS) * 1000;
    };
    try {
      for (const wake = wakeLoop(this.db, { signal }); wake.look(); await wake.sleep()) {
        const nowMs = Date.now();
        if (!leader) {
          if (nowMs - lastAttemptMs < STANDBY_MIN_GAP_MS) {
            wake.until(lastAttemptMs + STANDBY_MIN_GAP_MS);
            continue;
          }
          lastAttemptMs = nowMs;
          const got = busyIsNull(() => acquire.get(LEADER_LOCK, owner, leaseS) === 1);
          if (got) {
            renewed(nowMs);
            setLeader(true);
            wake.again(); // tick at once
            continue;
          }
          // after each whole second, or right after a commit (a release)
          wake.until(got === null ? nowMs + BUSY_RETRY_MS : (Math.floor(nowMs / 1000) + 1) * 1000 + STANDBY_SECOND_OFFSET_MS);
          continue;
        }
        const nowS = Math.floor(nowMs / 1000);
        let soonest = this.soonest();
        const due = soonest > 0 && soonest <= nowS;
        let deadlineMs = nextRenewMs;
        if (due || nowMs >= nextRenewMs) {
          // Renew and tick in one transaction: no tick without a live lease.
          const held = busyIsNull(() =>
            this.db.transaction(() => {
              if (renew.get(LEADER_LOCK, owner, leaseS) !== 1) return false;
              if (due) this.tick(nowS);
              return true;
            }),
          );
          if (held === false || (held === null && Date.now() >= leaseEndMs)) {
            setLeader(false); // lost the lease: compete again at once
            lastAttemptMs = -Infinity;
            wake.again();
            continue;
          }
          if (held === null) {
            soonest = 0; // still due: retry after the pause, not at once
            deadlineMs = nowMs + BUSY_RETRY_MS;
          } else {
            renewed(nowMs);
            deadlineMs = nextRenewMs;
            // The tick moved next_fire_at past now; never spin if something else is still due.
            if (due) soonest = Math.max(this.soonest(), nowS + 1);
          }
        }
        wake.until(soonest > 0 ? Math.min(deadlineMs, soonest * 1000) : deadlineMs);
      }
    } finally {
      this.db.closeSignal.removeEventListener('abort', onClose);
      if (this.db.isOpen) release();
      else leader = false;
      setLeader(false);
    }
  }

  /** Throw the parser's reason when schedule has no boundary (bad syntax or never matches). */
  private checkSchedule(where: string, schedule: string): void {
    scheduleProblem(where, schedule, this.db.sql('SELECT honker_cron_error(?)').pluck().get(schedule) as string | null);
  }
}

/** fn(), or null when it failed with SQLITE_BUSY (another writer held the lock past busy_timeout). */
function busyIsNull<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch (err) {
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') return null;
    throw err;
  }
}
