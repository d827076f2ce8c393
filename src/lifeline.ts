/**
 * Worker liveness (ext/lifeline.c, docs/sql.md "Worker liveness"): while a
 * runner works, its worker id is registered with honker_worker_register, so
 * this process holds a lock on one byte of `<db>-honker` that the OS drops
 * when the process dies (SIGKILL, OOM kill, crash). Any other worker's next
 * claim then takes the dead worker's jobs within about a second, instead of
 * after the visibility timeout; a live worker that blocks its event loop keeps
 * its lock and its jobs. `db.worker().run()` and the claim iterator
 * (`queue.claim()`) register when they start and unregister when they stop;
 * `queue.claimBatch` callers are not registered (the visibility timeout rules).
 */
import type { Connection } from './connection.js';

/** The registration of one worker id for the life of one runner. */
export class Lifeline {
  private registered = false;

  constructor(
    private readonly db: Connection,
    readonly workerId: string,
  ) {}

  /**
   * Register unless registered. Called at each look of the runner's wake loop,
   * so a database busy past busy_timeout is tried again at the next look rather
   * than stopping the runner; any other error is thrown.
   */
  ensure(): void {
    if (this.registered) return;
    try {
      this.db.sql('SELECT honker_worker_register(?)').pluck().get(this.workerId);
      this.registered = true;
    } catch (err) {
      if (!String((err as { code?: unknown }).code).startsWith('SQLITE_BUSY')) throw err;
    }
  }

  /**
   * Unregister (once). A failure is left alone: the slot stays held until the
   * connection closes, and its row goes with the next rescue after that.
   */
  release(): void {
    if (!this.registered) return;
    this.registered = false;
    if (!this.db.isOpen) return; // closing the connection released the slot
    try {
      this.db.sql('SELECT honker_worker_unregister(?)').pluck().get(this.workerId);
    } catch {
      // SQLITE_BUSY past busy_timeout: see above.
    }
  }
}
