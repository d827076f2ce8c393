/**
 * WAL checkpoints off the hot path.
 *
 * SQLite's auto-checkpoint runs inside whichever commit pushes the WAL past
 * 1000 pages, fsync included, so about one enqueue, claim or ack in a
 * thousand stalls for milliseconds: measured, that was the whole p99 of the
 * enqueue → claim wake path (5.2 ms with it, 2.8 ms without). open() turns the
 * auto-checkpoint off for its own connection and starts this checkpointer:
 *   - a 1 s timer (unref'd) stats `<db>-wal`; while it is under the limit
 *     (the same 1000 pages) nothing else happens, so a small or short-lived
 *     database costs one stat() a second;
 *   - past the limit, a worker thread with its own connection is started
 *     (once) and from then on runs `PRAGMA wal_checkpoint(PASSIVE)` whenever
 *     the WAL is over the limit, so no commit on the main thread ever waits
 *     for a checkpoint. PASSIVE never blocks writers or readers.
 * Connections of other processes keep their own settings; several
 * checkpointers on one file are harmless (each copies what it can).
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const CHECK_INTERVAL_MS = 1000;
const WAL_PAGES = 1000; // SQLite's default wal_autocheckpoint

// CommonJS, run by the worker thread: its own connection, PASSIVE checkpoints past the limit.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const walFile = workerData.file + '-wal';
const checkpoint = () => {
  let size = 0;
  try { size = statSync(walFile).size; } catch { return; }
  if (size < workerData.limitBytes) return;
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or gone: the next tick tries again */ }
};
checkpoint();
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  try { db.close(); } catch { /* already closed */ }
  parentPort.close();
});
`;

export class Checkpointer {
  private readonly walFile: string;
  private readonly limitBytes: number;
  private readonly timer: NodeJS.Timeout;
  private worker: Worker | undefined;

  /** onFail: the worker could not run; the owner should fall back to SQLite's auto-checkpoint. */
  constructor(
    private readonly file: string,
    pageSize: number,
    private readonly onFail: () => void,
  ) {
    this.walFile = `${file}-wal`;
    this.limitBytes = pageSize * WAL_PAGES;
    this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  private check(): void {
    let size = 0;
    try {
      size = statSync(this.walFile).size;
    } catch {
      return; // no WAL yet
    }
    if (size < this.limitBytes || this.worker) return;
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file: this.file, driver, limitBytes: this.limitBytes, intervalMs: CHECK_INTERVAL_MS },
    });
    this.worker.unref(); // never keeps the process alive
    this.worker.on('error', () => {
      // A checkpointer that cannot run (e.g. the file was replaced): back to SQLite's own.
      this.worker = undefined;
      this.onFail();
    });
    clearInterval(this.timer); // the worker watches the size from now on
  }

  /** Stop the timer and the worker; the caller closes its own connection afterwards. */
  stop(): void {
    clearInterval(this.timer);
    const worker = this.worker;
    this.worker = undefined;
    if (worker) {
      worker.postMessage('stop');
      worker.unref();
    }
  }
}
