/**
 * WAL checkpoints off the commit path.
 *
 * SQLite's auto-checkpoint runs inside whichever commit pushes the WAL past
 * 1000 pages, fsync included, so about one enqueue, claim or ack in a
 * thousand stalls for milliseconds in the middle of the caller's write. open()
 * turns the auto-checkpoint off for its own connection and runs this instead,
 * from a 250 ms timer (unref'd), between two pieces of work (never inside a
 * transaction), after a stat of `<db>-wal`:
 *   - past 1000 pages: `wal_checkpoint(PASSIVE)`. It never waits, and once it
 *     has copied every frame the next commit starts the WAL over;
 *   - past 4000 pages: then also `wal_checkpoint(TRUNCATE)` with a 100 ms busy
 *     timeout. While other processes keep writing, PASSIVE never copies the
 *     last frames, the WAL is never started over and grew ~50 MB/s with 8 busy
 *     processes (test/reliability/contention.queue.test.ts). TRUNCATE waits (at
 *     most that long) for the writer and the WAL's readers, copies everything
 *     and empties the file. It holds the write lock while it waits, so other
 *     processes' commits wait too: it is kept for a WAL that PASSIVE is not
 *     keeping small (running it at 1000 pages put 45 ms stalls into a tenth of
 *     the cross-process wake-ups of bench/wake-latency.ts).
 * A small database costs one stat() per tick. Connections of other processes
 * keep their own settings.
 *
 * (A worker thread with its own connection was tried first: when the process
 * exited while that thread was inside better-sqlite3, V8 aborted the process.)
 */
import type Database from 'better-sqlite3';
import { statSync } from 'node:fs';

const CHECK_INTERVAL_MS = 250;
/** How long TRUNCATE may wait for other processes' writer and readers (it blocks this event loop). */
const CHECKPOINT_BUSY_TIMEOUT_MS = 100;
const WAL_PAGES = 1000; // SQLite's default wal_autocheckpoint
/** Past this many pages the WAL is emptied, waiting for other processes if need be. */
const TRUNCATE_PAGES = 4000;

export class Checkpointer {
  private readonly walFile: string;
  private readonly limitBytes: number;
  private readonly truncateBytes: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly raw: Database.Database,
    file: string,
    pageSize: number,
  ) {
    this.walFile = `${file}-wal`;
    this.limitBytes = pageSize * WAL_PAGES;
    this.truncateBytes = pageSize * TRUNCATE_PAGES;
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
      this.raw.pragma('wal_checkpoint(PASSIVE)');
      if (size < this.truncateBytes) return;
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
