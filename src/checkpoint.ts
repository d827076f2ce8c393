/**
 * WAL checkpoints off the commit path.
 *
 * SQLite's auto-checkpoint runs inside whichever commit pushes the WAL past
 * 1000 pages, fsync included, so about one enqueue, claim or ack in a
 * thousand stalls for milliseconds in the middle of the caller's write. open()
 * turns the auto-checkpoint off for its own connection and runs this instead:
 * a 250 ms timer (unref'd) stats `<db>-wal` and, once the file is past the
 * same 1000 pages, runs `PRAGMA wal_checkpoint(TRUNCATE)` on the connection
 * between two pieces of work (never inside a transaction), with a 100 ms busy
 * timeout: it waits at most that long for the current writer and for readers
 * of the WAL, copies every frame, and empties the file, so the next commit
 * starts it over and the stat stays the only cost while the file is small.
 * When it cannot finish in time it still copies what it can (as PASSIVE) and
 * the next tick tries again. PASSIVE alone was not enough: while other
 * processes kept writing it never copied the last frames, so the WAL was
 * never started over and grew ~50 MB/s with 8 busy processes
 * (test/reliability/contention.queue.test.ts). Connections of other processes
 * keep their own settings.
 *
 * (A worker thread with its own connection was tried first: when the process
 * exited while that thread was inside better-sqlite3, V8 aborted the process.)
 */
import type Database from 'better-sqlite3';
import { statSync } from 'node:fs';

const CHECK_INTERVAL_MS = 250;
/** How long a checkpoint may wait for other processes' writer and readers (it blocks this event loop). */
const CHECKPOINT_BUSY_TIMEOUT_MS = 100;
const WAL_PAGES = 1000; // SQLite's default wal_autocheckpoint

export class Checkpointer {
  private readonly walFile: string;
  private readonly limitBytes: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly raw: Database.Database,
    file: string,
    pageSize: number,
  ) {
    this.walFile = `${file}-wal`;
    this.limitBytes = pageSize * WAL_PAGES;
    this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  private check(): void {
    if (!this.raw.open || this.raw.inTransaction) return; // never inside the caller's transaction
    let size = 0;
    try {
      size = statSync(this.walFile).size;
    } catch {
      return; // no WAL yet
    }
    if (size < this.limitBytes) return;
    try {
      const busy = this.raw.pragma('busy_timeout', { simple: true }) as number;
      this.raw.pragma(`busy_timeout = ${CHECKPOINT_BUSY_TIMEOUT_MS}`);
      try {
        this.raw.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        this.raw.pragma(`busy_timeout = ${busy}`);
      }
    } catch {
      // busy or closing: the next tick tries again
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
