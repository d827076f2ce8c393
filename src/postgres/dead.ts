/**
 * Dead letters on Postgres (src/dead.ts is the SQLite twin; same names,
 * rows and rules, async).
 */
import { deadJob, type DeadJob } from '../dead.js';
import * as validate from '../validate.js';
import type { PgConnection } from './connection.js';

export class PgDeadLetters<T> {
  /** @internal */
  constructor(
    private readonly db: PgConnection,
    private readonly queue: string,
  ) {}

  /** Dead jobs of this queue, newest first. */
  list(options?: { limit?: number }): Promise<DeadJob<T>[]> {
    const opts = validate.options('queue.dead.list', options, ['limit']);
    const limit = validate.optInt('queue.dead.list', 'limit', opts.limit, 0) ?? 100;
    this.db.assertOpen('queue.dead.list');
    return this.db
      .value<string>('SELECT honker_dead_list($1, $2) AS v', [this.queue, limit])
      .then((text) => (JSON.parse(text) as Record<string, unknown>[]).map((r) => deadJob<T>(r)));
  }

  /** One dead job by id (of any queue), or null when that id is not dead. */
  get(id: number): Promise<DeadJob<T> | null> {
    validate.int('queue.dead.get', 'id', id, 1);
    this.db.assertOpen('queue.dead.get');
    return this.db
      .value<string>('SELECT honker_dead_get($1) AS v', [id])
      .then((text) => (text ? deadJob<T>(JSON.parse(text) as Record<string, unknown>) : null));
  }

  /** Put a dead job back as pending with its attempts reset; false when no such dead job. */
  requeue(id: number): Promise<boolean> {
    validate.int('queue.dead.requeue', 'id', id, 1);
    this.db.assertOpen('queue.dead.requeue');
    return this.db.int('SELECT honker_dead_requeue($1) AS v', [id]).then((v) => v === 1);
  }

  /** Delete dead jobs that died at least olderThanS seconds ago (0 = all); resolves with how many. */
  purge(options?: { olderThanS?: number }): Promise<number> {
    const opts = validate.options('queue.dead.purge', options, ['olderThanS']);
    const olderThanS = validate.optInt('queue.dead.purge', 'olderThanS', opts.olderThanS, 0) ?? 0;
    this.db.assertOpen('queue.dead.purge');
    return this.db.int('SELECT honker_dead_purge($1, $2) AS v', [this.queue, olderThanS]);
  }
}
