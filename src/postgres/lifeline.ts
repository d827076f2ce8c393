/**
 * Worker liveness on Postgres (src/lifeline.ts is the SQLite twin): while a
 * runner works, its worker id is registered on the process's LISTEN
 * connection (honker_worker_register, pg/lifeline.sql), whose session holds
 * an advisory lock that the server drops when the session ends — when this
 * process dies, however it dies. Any other worker's next claim then expires
 * the dead worker's claims within about a second. The registration is made
 * again after the LISTEN connection reconnects.
 */
import type { PgConnection } from './connection.js';

export class PgLifeline {
  private registered = false;

  constructor(
    private readonly db: PgConnection,
    readonly workerId: string,
  ) {}

  /** Register unless registered (called at each look of the runner's wake loop). */
  async ensure(): Promise<void> {
    if (this.registered) return;
    this.registered = true;
    await this.db.pgWatcher().register(this.workerId);
  }

  /** Unregister (once). */
  async release(): Promise<void> {
    if (!this.registered) return;
    this.registered = false;
    if (!this.db.isOpen) return; // closing the LISTEN connection released the lock
    await this.db.pgWatcher().unregister(this.workerId);
  }
}
