/**
 * WAL checkpoints off the commit path.
 *
 * SQLite's auto-checkpoint runs inside whichever commit pushes the WAL past
 * 1000 pages, fsync included, so about one enqueue, claim or ack in a
 * thousand stalls for milliseconds in the middle of the caller's write. open()
 * turns the auto-checkpoint off for its own connection and runs this instead:
 * a 1 s timer (unref'd) stats `<db>-wal` and, once it is past the same 1000
 * pages, runs `PRAGMA wal_checkpoint(PASSIVE)` on the connection between two
 * pieces of work — never inside a transaction, and PASSIVE never waits for
 * other connections' readers or writers. A small database costs one stat() a
 * second. Connections of other processes keep their own settings.
 *
 * (A worker thread with its own connection was tried first: when the process
 * exited while that thread was inside better-sqlite3, V8 aborted the process.)
 */
import type Database from 'better-sqlite3';
import { statSync } from 'node:fs';

const CHECK_INTERVAL_MS = 1000;
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
      this.raw.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // busy or closing: the next tick tries again
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
