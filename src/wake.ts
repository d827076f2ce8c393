/**
 * The wake loop: how every waiter of honker sleeps until there may be work,
 * without polling the tables.
 *
 *   for (;;) {
 *     since = watcher.generation()   // 1. read the generation BEFORE looking,
 *     look for work                  // 2. so that a commit landing while we look
 *     watcher.wait(since, …)         // 3. ends the wait at once: nothing is missed
 *   }
 *
 * Its users write only step 2, as the body of
 *   for (const wake = wakeLoop(db, { signal, deadlineMs }); wake.look(); await wake.sleep()) { … }
 * and end the body by saying when to look next:
 *   wake.again()      at once (a full page was read, work was found);
 *   wake.until(ms)    at the first commit or at that wall-clock time;
 *   (nothing)         at the first commit.
 * The first look runs synchronously, in the caller's turn of the event loop
 * (a scheduler leads, a claim claims, before run() or next() returns).
 * The users: the claim iterator and the worker (queue.ts, worker.ts), listen
 * (notify.ts), subscribe (stream.ts), results.wait (results.ts), a task
 * handle's get() (task.ts) and the scheduler's run() (scheduler.ts).
 *
 * How it ends:
 *   - the caller's `signal` aborts: look() returns false (the loop ends
 *     quietly), whether it was sleeping or the body was running;
 *   - `deadlineMs` passes: one last look (wake.last), then look() returns false;
 *   - db.close() or a dead watcher: look() or sleep() throws the CLOSED or
 *     WATCHER_DEAD HonkerError. When the caller's abort and the close both
 *     happened, the one that ended the sleep decides; at a look, the close wins.
 * Leaving the loop early (break, return) leaves nothing behind: a sleep's
 * timer and signal listeners belong to the watcher's wait() and end with it.
 */
import type { HonkerError } from './errors.js';
import type { WakeReason, WaitOptions } from './watcher.js';

/**
 * What a wake loop sleeps on: the SQLite Connection (its file's commit
 * watcher) or a Postgres database's LISTEN connection (src/postgres/watcher.ts,
 * which wakes only the waiters of the keys a commit names).
 */
export interface WakeWatcher {
  /** A number that changes when there may be new work; read it before looking. */
  generation(): number;
  /** Resolve once generation() differs from since, at deadlineMs, or reject on a signal. */
  wait(since: number, options: WaitOptions): Promise<WakeReason>;
}

/** A database a wake loop can sleep on: its watcher, and the signal that says it closed. */
export interface WakeSource {
  readonly closeSignal: AbortSignal;
  watcher(): WakeWatcher;
}

export interface WakeLoopOptions {
  /** The caller's abort: ends the loop without an error. */
  signal?: AbortSignal;
  /** Wall-clock ms: the loop ends after one last look at this time. */
  deadlineMs?: number;
}

/** Why this look happens: the first look, a commit, a time asked for, again(), or the end of deadlineMs. */
export type LookReason = 'start' | 'change' | 'deadline' | 'again' | 'last';

/** The wake loop of one waiter (see the file header). */
export class WakeLoop {
  /** Why this look happens. */
  reason: LookReason = 'start';
  private next: 'now' | number | undefined = undefined;
  private since = 0;
  private watcher: WakeWatcher | undefined;
  private ended = false;
  private readonly closeSignal: AbortSignal;
  private readonly signals: ReadonlyArray<AbortSignal | undefined>;

  constructor(
    private readonly db: WakeSource,
    private readonly options: WakeLoopOptions = {},
  ) {
    this.closeSignal = db.closeSignal;
    this.signals = [options.signal, this.closeSignal];
  }

  /** True on the look made once deadlineMs passed: the loop ends after it. */
  get last(): boolean {
    return this.reason === 'last';
  }

  /**
   * Begin a look: false when the loop is over (the caller aborted, or the
   * last look was made); throws once the database closed. Reads the watcher's
   * generation, so a commit made while the body looks ends the next sleep.
   */
  look(): boolean {
    if (this.ended || this.stopped()) return false;
    this.watcher ??= this.db.watcher();
    this.since = this.watcher.generation();
    this.next = undefined;
    return true;
  }

  /** When the body asked to look next: 'now', a wall-clock ms, or undefined (the next commit). */
  get nextLook(): 'now' | number | undefined {
    return this.next;
  }

  /** Look again at once. */
  again(): void {
    this.next = 'now';
  }

  /** Look again at the first commit or at timeMs (wall-clock ms), whichever comes first. */
  until(timeMs: number | undefined): void {
    this.next = timeMs;
  }

  /**
   * For a body that hands work out between looks (yield): throws the CLOSED
   * error once the database closed; true once the caller's signal aborted.
   */
  stopped(): boolean {
    if (this.closeSignal.aborted) throw this.closeSignal.reason;
    return this.options.signal?.aborted === true;
  }

  /** Sleep until the next look is due (see again/until), or the loop ends. */
  async sleep(): Promise<void> {
    if (this.last) {
      this.ended = true;
      return;
    }
    if (this.next === 'now') {
      this.reason = 'again';
      return;
    }
    const { deadlineMs, signal } = this.options;
    let wakeAt = this.next;
    if (deadlineMs !== undefined && (wakeAt === undefined || deadlineMs <= wakeAt)) wakeAt = deadlineMs;
    const watcher = this.watcher ?? this.db.watcher();
    try {
      const woke = await watcher.wait(this.since, { signals: this.signals, deadlineMs: wakeAt });
      this.reason = woke === 'change' ? 'change' : deadlineMs !== undefined && Date.now() >= deadlineMs ? 'last' : 'deadline';
    } catch (err) {
      // The caller's abort ended the sleep (its reason, or an ABORTED error): end quietly, even
      // if the database closed right after. Anything else (CLOSED, WATCHER_DEAD) is thrown.
      if (signal?.aborted && (err === signal.reason || (err as HonkerError).code === 'ABORTED')) {
        this.ended = true;
        return;
      }
      throw err;
    }
  }
}

/** The longest delay setTimeout takes; a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Call fire() once Date.now() has reached deadlineMs (a wall-clock time), never before: Node may
 * run a timer a millisecond before Date.now() gets there (its loop time is truncated to whole
 * ms), which made a wait end with 'deadline' short of its deadline, and setTimeout caps at
 * 2^31-1 ms. Such a timer is armed again for the rest. fire() runs from a timer, never
 * synchronously. Returns the function that cancels it. Both watchers' waits use it.
 */
export function atWallClock(deadlineMs: number, fire: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const delay = Math.min(Math.max(0, deadlineMs - Date.now()), MAX_TIMER_MS);
    timer = setTimeout(() => (Date.now() >= deadlineMs ? fire() : arm()), delay);
  };
  arm();
  return () => clearTimeout(timer);
}

/** The wake loop of one waiter: `for (const wake = wakeLoop(db, opts); wake.look(); await wake.sleep())`. */
export function wakeLoop(db: WakeSource, options?: WakeLoopOptions): WakeLoop {
  return new WakeLoop(db, options);
}
