/**
 * The wake path: one watcher per database file per process, however many
 * iterators (and HonkerDatabase objects) wait on it.
 *
 * How a commit in another process reaches a waiting iterator here:
 *   1. SQLite appends the commit's frames to `<db>-wal` with write(2), which
 *      inotify reports on the database's directory (fs.watch); once the
 *      commit is visible, honker_ext's WAL hook touches `<db>-wake`
 *      (ext/commit_signal.c), one more event in the same directory;
 *   2. on a `-wake` event, or on a `-wal` event from a writer that does not
 *      signal (below), the watcher reads `PRAGMA data_version` on its own read-only
 *      connection; a new value means a commit landed (any connection, any
 *      process, ours included), so every waiter is resolved — WAKE_SLICE of
 *      them per event-loop turn, so that hundreds of woken iterators running
 *      their queries never block the loop for long (measured: 100 iterators
 *      woken at once blocked it ~1.5 ms per commit, in slices of 8 ~0.1 ms);
 *   3. the frames are written before the wal-index is updated, so a `-wal`
 *      event can arrive a moment before the commit is visible: an unchanged
 *      data_version after it starts a short, bounded burst of re-checks
 *      (setImmediate for 0.5 ms, then timers of 1, 1, 2, 4, 8 ms) that stops
 *      at the change — it never spins on checkpoint noise. That burst competes
 *      with the writer for the CPU and made the wake tail (p99) 2-3 ms, so once
 *      `-wake` events are seen, a `-wal` event only arms a check SIGNAL_GRACE_MS
 *      later, which a `-wake` event makes moot (p99 ~0.8 ms: bench/README.md,
 *      scenario 4). A commit that this delayed check finds (a writer without
 *      the hook: honker 0.4, a connection whose PRAGMA wal_autocheckpoint
 *      replaced it) brings the eager burst back for EAGER_AFTER_UNSIGNALLED_MS;
 *   4. a poll covers what inotify cannot see and checks that the file was
 *      not replaced. Where inotify is trusted it is a safety net every
 *      10 x watcherIntervalMs (500 ms by default, so a missed rename still
 *      fails waiters within a second): a 50 ms poll alone cost ~0.6% of a
 *      core on an idle 2-core machine, over the 0.5% budget.
 *      Where it is not — fs.watch throws or errors, the file is on a network
 *      filesystem (statfs), or three polls in a row find a commit that no
 *      WAL event announced (e.g. a rollback-journal database) — fs.watch is
 *      dropped and the poll runs every watcherIntervalMs (default 50 ms).
 * Each AbortSignal carries one listener however many waiters use it (the
 * database's close signal is shared by all its iterators). The watcher keeps
 * the process alive only while someone waits on it.
 *
 * A replaced or deleted database file (its inode changed; seen at once
 * through the directory's rename events, else by the poll) or the last
 * release() kills the watcher: every waiter rejects with a HonkerError that
 * says why (WATCHER_DEAD or CLOSED, naming the file), and so does every
 * later wait on it.
 */
import Database from 'better-sqlite3';
import { realpathSync, statfsSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { abortError, HonkerError } from './errors.js';
import { atWallClock, MAX_TIMER_MS } from './wake.js';

/** Why a wait ended without error. */
export type WakeReason = 'change' | 'deadline';

export interface WaitOptions {
  /** Each ends the wait early: the promise rejects with that signal's reason. */
  signals?: ReadonlyArray<AbortSignal | undefined>;
  /** Wall-clock time (ms since the epoch) at which to resolve with 'deadline'. */
  deadlineMs?: number;
}

export interface WatcherOptions {
  /**
   * Poll interval in ms when inotify cannot be relied on (default 50); with
   * inotify the safety poll runs TRUSTED_POLL_FACTOR times slower. The first
   * acquire() of a file sets it.
   */
  intervalMs?: number;
  /**
   * @internal tests only: stands in for fs.watch, e.g. one that throws, as on
   * a filesystem without inotify. The first acquire() of a file sets it.
   */
  fsWatch?: typeof watch;
}

/** Counters for tests and diagnostics. */
export interface WatcherStats {
  /** Pending wait() promises. */
  waiters: number;
  /** data_version reads so far. */
  checks: number;
  /** Commits observed (= generation()). */
  changes: number;
  /** HonkerDatabase objects sharing this watcher. */
  users: number;
  /** AbortSignals the watcher listens to: one listener per signal, however many waiters use it. */
  signals: number;
  /** Whether fs.watch (inotify) is trusted to announce commits; false: the fast poll alone. */
  fsWatch: boolean;
  /**
   * Whether `-wal` events wait for the writers' `-wake` signal (true: `-wake` events seen, and
   * no unsignalled commit found for EAGER_AFTER_UNSIGNALLED_MS); false: every `-wal` event is checked at once.
   */
  commitSignals: boolean;
  /** The current poll interval in ms: slow while fsWatch is true, intervalMs otherwise. */
  pollMs: number;
}

interface Waiter {
  settle(reason: WakeReason | Error): void;
}

const DEFAULT_INTERVAL_MS = 50;
const WAKE_SLICE = 8; // waiters resolved per event-loop turn on a change (see wake())
// After a WAL event without a visible change, re-check on setImmediate for this long: a commit
// writes one frame per page (5-6 for an enqueue: table and indexes) before the wal-index moves.
// 8 re-checks (~0.1 ms) left enqueue -> claim at p99 3.6-5.2 ms behind the 1 ms timer; 0.5 ms
// brings it to 2.3-2.8 ms. A tight loop of 2 ms competed with the writer for the CPU.
const BURST_IMMEDIATE_MS = 0.5;
const BURST_DELAYS_MS = [1, 1, 2, 4, 8]; // then on these timers (16 ms in all), then the poll
// While writers signal their commits (<db>-wake), a -wal event is checked only this much later:
// the -wake event of the same commit comes 0.1-0.4 ms after its first -wal event here.
const SIGNAL_GRACE_MS = 2;
// After a commit that no -wake event announced, -wal events are checked at once for this long.
const EAGER_AFTER_UNSIGNALLED_MS = 5000;
// A commit found by the delayed check is unsignalled only if no -wake event follows within this
// long: a writer descheduled in the middle of its commit signals late, not never.
const SIGNAL_LATE_MS = 50;
const TRUSTED_POLL_FACTOR = 10; // with inotify trusted, the safety poll runs every 10 x intervalMs
/** Polls in a row finding unannounced commits before fs.watch is dropped for the fast poll. */
const UNANNOUNCED_POLLS_TO_DISTRUST = 3;
/** statfs f_type of filesystems whose writes from other hosts inotify never sees: poll fast there. */
const REMOTE_FS_TYPES = new Set([
  0x6969, // nfs
  0x517b, // smb
  0xff534d42, // cifs
  0xfe534d42, // smb2
  0x65735546, // fuse (sshfs, s3fs, ...)
  0x01021997, // 9p (WSL2, VM shares)
  0x00c36400, // ceph
  0x0bd00bd0, // lustre
  0x47504653, // gpfs
  0x6b414653, // afs
]);

export class Watcher {
  private static readonly byFile = new Map<string, Watcher>();

  /** The shared watcher of `file`, created on first use; pair with release(). */
  static acquire(file: string, options: WatcherOptions = {}): Watcher {
    const key = realpathSync(file);
    let watcher = Watcher.byFile.get(key);
    if (!watcher || watcher.dead) {
      watcher = new Watcher(key, options.intervalMs ?? DEFAULT_INTERVAL_MS, options.fsWatch ?? watch);
      Watcher.byFile.set(key, watcher);
    }
    watcher.users++;
    return watcher;
  }

  /** Number of live watchers in this process (tests assert sharing with it). */
  static count(): number {
    return Watcher.byFile.size;
  }

  private readonly conn: Database.Database;
  private readonly versionStmt: Database.Statement;
  private readonly walName: string;
  private readonly wakeName: string;
  private readonly dbName: string;
  private readonly inode: { dev: number; ino: number };
  private fsWatcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout;
  private pollMs: number;
  /** A WAL event arrived that no observed change has accounted for yet (cleared by check() on a change). */
  private walEventUnseen = false;
  /** Polls in a row that found a commit no WAL event announced (reset by a WAL event). */
  private unannouncedPolls = 0;
  private readonly waiters = new Set<Waiter>();
  /** The waiters of each signal, so a signal shared by 1,000 waits carries one listener, not 1,000. */
  private readonly bySignal = new Map<AbortSignal, { waiters: Set<Waiter>; onAbort: () => void }>();
  private version: number;
  private generationCount = 0;
  private users = 0;
  private checks = 0;
  private dead: Error | undefined;
  private burstStep = -1; // -1: no burst running; else timers used so far
  private burstStart = 0;
  private burstGeneration = 0;
  private prechecked = false; // wait() looked this event-loop turn already
  private unsignalledAt = -Infinity; // performance.now() of the last commit found without a signal
  private graceTimer: NodeJS.Timeout | undefined; // the delayed check of a -wal event
  private graceBurst = false; // the running burst was started by graceTimer
  private lastSignalAt = -Infinity; // performance.now() of the last -wake event (-Infinity: no writer signals)
  private foundUnsignalledAt = -Infinity; // the delayed check found a commit then: unsignalled unless a -wake event follows

  private constructor(
    readonly file: string,
    private readonly intervalMs: number,
    fsWatch: typeof watch,
  ) {
    this.conn = new Database(file, { readonly: true, fileMustExist: true });
    this.versionStmt = this.conn.prepare('PRAGMA data_version').pluck();
    this.version = this.versionStmt.get() as number;
    const st = statSync(file);
    this.inode = { dev: st.dev, ino: st.ino };
    this.dbName = path.basename(file);
    this.walName = `${this.dbName}-wal`;
    this.wakeName = `${this.dbName}-wake`;
    if (!isRemoteFs(file)) {
      try {
        this.fsWatcher = fsWatch(path.dirname(file), { persistent: false }, (event, name) =>
          this.onFsEvent(event, name),
        );
        this.fsWatcher.on('error', () => this.distrustFsWatch()); // the fast poll carries on alone
      } catch {
        this.fsWatcher = undefined; // no inotify here: the fast poll is the watcher
      }
    }
    this.pollMs = Math.min(this.fsWatcher ? intervalMs * TRUSTED_POLL_FACTOR : intervalMs, MAX_TIMER_MS);
    this.poll = setInterval(() => this.onPoll(), this.pollMs);
    this.poll.unref();
  }

  /**
   * A counter that grows whenever a commit is observed. Read it *before*
   * looking for work; pass it to wait() so a commit that lands in between
   * is never missed (subscribe-before-read).
   */
  generation(): number {
    this.throwIfDead();
    return this.generationCount;
  }

  /** Resolve on the first commit after `since` (a generation()), at the deadline, or reject. */
  wait(since: number, options: WaitOptions = {}): Promise<WakeReason> {
    if (this.dead) return Promise.reject(this.dead);
    const { deadlineMs } = options;
    const signals = [...new Set((options.signals ?? []).filter((sig): sig is AbortSignal => sig !== undefined))];
    const aborted = signals.find((sig) => sig.aborted);
    if (aborted) return Promise.reject(abortError(aborted, 'honker wait'));
    if (this.generationCount !== since) return Promise.resolve('change');
    // A commit may be visible but not yet observed (its event still queued, or missed): look,
    // once per event-loop turn however many waiters re-wait in it.
    if (!this.prechecked) {
      this.prechecked = true;
      setImmediate(() => (this.prechecked = false));
      if (this.check() && this.generationCount !== since) return Promise.resolve('change');
    }
    if (this.dead) return Promise.reject(this.dead);
    if (deadlineMs !== undefined && deadlineMs <= Date.now()) return Promise.resolve('deadline');

    return new Promise<WakeReason>((resolve, reject) => {
      let cancelDeadline: (() => void) | undefined;
      const waiter: Waiter = {
        settle: (outcome) => {
          if (!this.waiters.delete(waiter)) return;
          cancelDeadline?.();
          for (const sig of signals) this.unlistenSignal(sig, waiter);
          this.updateKeepAlive();
          if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        },
      };
      this.waiters.add(waiter);
      this.updateKeepAlive();
      for (const sig of signals) this.listenSignal(sig, waiter);
      if (deadlineMs !== undefined) cancelDeadline = atWallClock(deadlineMs, () => waiter.settle('deadline'));
    });
  }

  /** Drop one user; the last one closes the watcher. */
  release(): void {
    if (--this.users > 0) return;
    this.kill(new HonkerError('CLOSED', `honker: the database ${this.file} was closed`));
  }

  stats(): WatcherStats {
    return {
      waiters: this.waiters.size,
      checks: this.checks,
      changes: this.generationCount,
      users: this.users,
      signals: this.bySignal.size,
      fsWatch: this.fsWatcher !== undefined,
      commitSignals: this.waitsForSignals(),
      pollMs: this.pollMs,
    };
  }

  private listenSignal(signal: AbortSignal, waiter: Waiter): void {
    let entry = this.bySignal.get(signal);
    if (!entry) {
      const waiters = new Set<Waiter>();
      const onAbort = (): void => {
        const reason = abortError(signal, 'honker wait');
        for (const w of [...waiters]) w.settle(reason);
      };
      entry = { waiters, onAbort };
      this.bySignal.set(signal, entry);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    entry.waiters.add(waiter);
  }

  private unlistenSignal(signal: AbortSignal, waiter: Waiter): void {
    const entry = this.bySignal.get(signal);
    if (!entry) return;
    entry.waiters.delete(waiter);
    if (entry.waiters.size > 0) return;
    signal.removeEventListener('abort', entry.onAbort);
    this.bySignal.delete(signal);
  }

  /** Read data_version; on a change wake everyone. Returns true when it changed. */
  private check(): boolean {
    if (this.dead) return false;
    this.checks++;
    let version: number;
    try {
      version = this.versionStmt.get() as number;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return false; // no change this tick
      this.kill(new HonkerError('WATCHER_DEAD', `honker: watching ${this.file} failed: ${(err as Error).message}`, { cause: err }));
      return false;
    }
    if (version === this.version) return false;
    this.version = version;
    this.walEventUnseen = false;
    if (this.graceBurst) this.foundUnsignalledAt = performance.now();
    this.graceBurst = false;
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.generationCount++;
    this.wake([...this.waiters], 0);
    return true;
  }

  /**
   * Resolve waiters[from..] in slices of WAKE_SLICE, one slice per
   * event-loop turn: each woken iterator runs its query before it waits
   * again, and a slice at a time keeps that work from blocking the loop for
   * long when hundreds of iterators wait. A waiter that settled meanwhile
   * (aborted, or woken again) is skipped by settle() itself.
   */
  private wake(waiters: Waiter[], from: number): void {
    const end = Math.min(waiters.length, from + WAKE_SLICE);
    for (let i = from; i < end; i++) waiters[i].settle('change');
    if (end < waiters.length) setImmediate(() => this.wake(waiters, end));
  }

  private onFsEvent(event: string, name: string | Buffer | null): void {
    const file = name?.toString();
    if (file === this.wakeName || file === this.walName) {
      this.walEventUnseen = true; // a commit announced (for onPoll)
      this.unannouncedPolls = 0;
    }
    if (file === this.wakeName) {
      // A commit is visible (its WAL hook runs after it): one check answers.
      this.lastSignalAt = performance.now();
      this.graceBurst = false;
      this.check();
    } else if (file === this.walName) {
      if (this.waitsForSignals()) {
        this.graceTimer ??= setTimeout(this.graceCheck, SIGNAL_GRACE_MS).unref();
        return;
      }
      // Seen or not, look again a few times: inotify folds the writes of a commit that follows
      // at once (an ack, then an enqueue) into the event already queued for the first one.
      this.startBurst(this.check());
    } else if (file === this.dbName && event === 'rename') {
      this.checkReplaced();
    }
  }

  /** Whether -wal events wait SIGNAL_GRACE_MS for the -wake event of their commit. */
  private waitsForSignals(): boolean {
    const now = performance.now();
    // A commit the delayed check found, and no -wake event within SIGNAL_LATE_MS: unsignalled.
    // (Judged here, when next needed, rather than by a timer of its own.)
    if (this.lastSignalAt >= this.foundUnsignalledAt) this.foundUnsignalledAt = -Infinity;
    else if (now - this.foundUnsignalledAt > SIGNAL_LATE_MS) {
      this.unsignalledAt = now; // eager from here: this -wal event may be that writer's next commit
      this.foundUnsignalledAt = -Infinity;
    }
    return this.lastSignalAt > -Infinity && now - this.unsignalledAt > EAGER_AFTER_UNSIGNALLED_MS;
  }

  /** SIGNAL_GRACE_MS after a -wal event and no change since: a writer that does not signal, or a commit still being written. */
  private readonly graceCheck = (): void => {
    this.graceTimer = undefined;
    this.graceBurst = true;
    this.startBurst();
  };

  /**
   * Re-check a few times after a WAL event: checks on setImmediate for
   * BURST_IMMEDIATE_MS when the event did not show a change yet (the writer
   * updates the wal-index microseconds after its last write), then timers of
   * BURST_DELAYS_MS (only these when it did: a second commit folded into the
   * same event). A new event restarts the sequence; a change seen by any path
   * ends it.
   */
  private startBurst(afterChange = false): void {
    const running = this.burstStep >= 0;
    this.burstStep = 0;
    // After a change the timers alone: the setImmediate phase costs CPU at every commit.
    this.burstStart = afterChange ? -Infinity : performance.now();
    this.burstGeneration = this.generationCount;
    if (!running) setImmediate(this.burstTick);
  }

  private readonly burstTick = (): void => {
    if (this.dead || this.generationCount !== this.burstGeneration || this.check()) return this.endBurst();
    if (this.burstStep === 0 && performance.now() - this.burstStart < BURST_IMMEDIATE_MS) {
      setImmediate(this.burstTick);
    } else if (this.burstStep < BURST_DELAYS_MS.length) {
      setTimeout(this.burstTick, BURST_DELAYS_MS[this.burstStep++]).unref();
    } else this.endBurst(); // the fallback poll takes over
  };

  private endBurst(): void {
    this.burstStep = -1;
    this.graceBurst = false;
  }

  private onPoll(): void {
    if (this.checkReplaced()) return;
    // Announced: a WAL event arrived since the last change we saw, even before an earlier poll
    // (a writer can be descheduled between its WAL frames and its wal-index update).
    const announced = this.walEventUnseen;
    if (!this.check() || announced || !this.fsWatcher) return;
    // A commit that no WAL event announced. Once in a while inotify folds two commits' writes
    // into one event that was read before the second was visible; a file whose writers inotify
    // never sees (a network filesystem, a rollback-journal database) does it at every poll.
    // Only the latter turns the fast poll on for good: dropping fs.watch after one such poll put
    // a 50 ms poll into every later wake of a busy process (bench/wake-latency.ts, p90 45 ms).
    if (++this.unannouncedPolls >= UNANNOUNCED_POLLS_TO_DISTRUST) this.distrustFsWatch();
  }

  /** Kill the watcher when the path no longer names the file we opened. */
  private checkReplaced(): boolean {
    if (this.dead) return true;
    let st;
    try {
      st = statSync(this.file);
    } catch {
      st = undefined;
    }
    if (st && st.dev === this.inode.dev && st.ino === this.inode.ino) return false;
    this.kill(
      new HonkerError(
        'WATCHER_DEAD',
        `honker: the database file ${this.file} was ${st ? 'replaced' : 'deleted'} while open; reopen it`,
      ),
    );
    return true;
  }

  /** Stop relying on fs.watch: close it and poll every intervalMs. */
  private distrustFsWatch(): void {
    if (!this.fsWatcher) return;
    this.fsWatcher.close();
    this.fsWatcher = undefined;
    if (this.dead) return;
    clearInterval(this.poll);
    this.pollMs = Math.min(this.intervalMs, MAX_TIMER_MS);
    this.poll = setInterval(() => this.onPoll(), this.pollMs);
    this.updateKeepAlive();
  }

  private updateKeepAlive(): void {
    // Waiting iterators keep the process alive, like a listening socket; an idle watcher never does.
    if (this.waiters.size > 0) this.poll.ref();
    else this.poll.unref();
  }

  private kill(reason: Error): void {
    if (this.dead) return;
    this.dead = reason;
    clearInterval(this.poll);
    clearTimeout(this.graceTimer);
    this.fsWatcher?.close();
    this.fsWatcher = undefined;
    if (Watcher.byFile.get(this.file) === this) Watcher.byFile.delete(this.file);
    for (const waiter of [...this.waiters]) waiter.settle(reason);
    try {
      this.conn.close();
    } catch {
      // already unusable; nothing else to release
    }
  }

  private throwIfDead(): void {
    if (this.dead) throw this.dead;
  }
}

/** Whether file lives on a filesystem where inotify misses other hosts' writes. */
function isRemoteFs(file: string): boolean {
  try {
    return REMOTE_FS_TYPES.has(statfsSync(file).type);
  } catch {
    return false;
  }
}
