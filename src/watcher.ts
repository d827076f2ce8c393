/**
 * The wake path: one watcher per database file per process, however many
 * iterators wait on it.
 *
 * How a commit in another process reaches a waiting iterator here:
 *   1. SQLite appends the commit's frames to `<db>-wal` with write(2), which
 *      inotify reports on the database's directory (fs.watch);
 *   2. the watcher reads `PRAGMA data_version` on its own read-only
 *      connection; a new value means a commit landed (any connection, any
 *      process, ours included), so every waiter is resolved at once;
 *   3. the frames are written before the wal-index is updated, so the event
 *      can arrive a moment before the commit is visible: an unchanged
 *      data_version after a WAL event starts a short, bounded burst of
 *      re-checks (setImmediate, then 1 ms timers) that stops at the change or
 *      after BURST_MS — it never spins on checkpoint noise;
 *   4. a slow fallback poll (watcherIntervalMs, default 50 ms) covers what
 *      inotify cannot see (network filesystems, writes through mmap) and
 *      checks that the file was not replaced.
 * Idle, the watcher costs one data_version read and one stat() per fallback
 * tick. It keeps the process alive only while someone waits on it.
 *
 * A replaced or deleted database file (its inode changed) or a closed
 * database kills the watcher: every waiter rejects with a HonkerError that
 * says why, and so does every later wait.
 */
import Database from 'better-sqlite3';
import { realpathSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { abortError, HonkerError } from './errors.js';

/** Why a wait ended without error. */
export type WakeReason = 'change' | 'deadline';

export interface WaitOptions {
  /** Each ends the wait early: the promise rejects with that signal's reason. */
  signals?: ReadonlyArray<AbortSignal | undefined>;
  /** Wall-clock time (ms since the epoch) at which to resolve with 'deadline'. */
  deadlineMs?: number;
}

export interface WatcherOptions {
  /** Fallback poll interval in ms (default 50). */
  intervalMs?: number;
}

/** Counters for tests and diagnostics. */
export interface WatcherStats {
  waiters: number;
  checks: number;
  changes: number;
  users: number;
}

interface Waiter {
  settle(reason: WakeReason | Error): void;
}

const DEFAULT_INTERVAL_MS = 50;
const BURST_IMMEDIATE_MS = 2; // re-check with setImmediate for this long after a WAL event
const BURST_MS = 20; // then with 1 ms timers up to this long

export class Watcher {
  private static readonly byFile = new Map<string, Watcher>();

  /** The shared watcher of `file`, created on first use; pair with release(). */
  static acquire(file: string, options: WatcherOptions = {}): Watcher {
    const key = realpathSync(file);
    let watcher = Watcher.byFile.get(key);
    if (!watcher || watcher.dead) {
      watcher = new Watcher(key, options.intervalMs ?? DEFAULT_INTERVAL_MS);
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
  private readonly dbName: string;
  private readonly inode: { dev: number; ino: number };
  private readonly fsWatcher: FSWatcher | undefined;
  private readonly poll: NodeJS.Timeout;
  private readonly waiters = new Set<Waiter>();
  private version: number;
  private generationCount = 0;
  private users = 0;
  private checks = 0;
  private dead: Error | undefined;
  private burstUntil = 0;
  private burstScheduled = false;

  private constructor(
    readonly file: string,
    intervalMs: number,
  ) {
    this.conn = new Database(file, { readonly: true, fileMustExist: true });
    this.versionStmt = this.conn.prepare('PRAGMA data_version').pluck();
    this.version = this.versionStmt.get() as number;
    const st = statSync(file);
    this.inode = { dev: st.dev, ino: st.ino };
    this.dbName = path.basename(file);
    this.walName = `${this.dbName}-wal`;
    try {
      this.fsWatcher = watch(path.dirname(file), { persistent: false }, (event, name) =>
        this.onFsEvent(event, name),
      );
      this.fsWatcher.on('error', () => undefined); // the fallback poll still runs
    } catch {
      this.fsWatcher = undefined; // no inotify here: the fallback poll is the watcher
    }
    this.poll = setInterval(() => this.onPoll(), intervalMs);
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
    const signals = (options.signals ?? []).filter((sig): sig is AbortSignal => sig !== undefined);
    const aborted = signals.find((sig) => sig.aborted);
    if (aborted) return Promise.reject(abortError(aborted, 'honker wait'));
    if (this.generationCount !== since) return Promise.resolve('change');
    // The commit may already be visible but not yet observed: look once now.
    if (this.check() && this.generationCount !== since) return Promise.resolve('change');
    if (deadlineMs !== undefined && deadlineMs <= Date.now()) return Promise.resolve('deadline');

    return new Promise<WakeReason>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (event: Event): void => waiter.settle(abortError(event.target as AbortSignal, 'honker wait'));
      const waiter: Waiter = {
        settle: (outcome) => {
          if (!this.waiters.delete(waiter)) return;
          if (timer) clearTimeout(timer);
          for (const sig of signals) sig.removeEventListener('abort', onAbort);
          this.updateKeepAlive();
          if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        },
      };
      this.waiters.add(waiter);
      this.updateKeepAlive();
      for (const sig of signals) sig.addEventListener('abort', onAbort, { once: true });
      if (deadlineMs !== undefined) {
        // setTimeout caps at 2^31-1 ms; a longer deadline just re-waits after a spurious wake.
        const delay = Math.min(Math.max(0, deadlineMs - Date.now()), 2 ** 31 - 1);
        timer = setTimeout(() => waiter.settle('deadline'), delay);
      }
    });
  }

  /** Drop one user; the last one closes the watcher. */
  release(): void {
    if (--this.users > 0) return;
    this.kill(new HonkerError('CLOSED', `honker: the database ${this.file} was closed`));
  }

  stats(): WatcherStats {
    return { waiters: this.waiters.size, checks: this.checks, changes: this.generationCount, users: this.users };
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
    this.generationCount++;
    for (const waiter of [...this.waiters]) waiter.settle('change');
    return true;
  }

  private onFsEvent(event: string, name: string | Buffer | null): void {
    const file = name?.toString();
    if (file === this.walName) {
      if (!this.check()) this.startBurst();
    } else if (file === this.dbName && event === 'rename') {
      this.checkReplaced();
    }
  }

  /** Re-check a few times after a WAL event that did not show a change yet. */
  private startBurst(): void {
    const now = performance.now();
    this.burstUntil = now + BURST_MS;
    if (this.burstScheduled) return;
    this.burstScheduled = true;
    const started = now;
    const step = (): void => {
      if (this.check() || this.dead || performance.now() > this.burstUntil) {
        this.burstScheduled = false;
        return;
      }
      if (performance.now() - started < BURST_IMMEDIATE_MS) setImmediate(step);
      else setTimeout(step, 1).unref();
    };
    setImmediate(step);
  }

  private onPoll(): void {
    if (this.checkReplaced()) return;
    this.check();
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

  private updateKeepAlive(): void {
    // Waiting iterators keep the process alive, like a listening socket; an idle watcher never does.
    if (this.waiters.size > 0) this.poll.ref();
    else this.poll.unref();
  }

  private kill(reason: Error): void {
    if (this.dead) return;
    this.dead = reason;
    clearInterval(this.poll);
    this.fsWatcher?.close();
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
