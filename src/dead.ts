/**
 * Dead letters: jobs that used up their attempts, failed for good, expired
 * or were refused by a worker (honker_dead_*). Each keeps its last error;
 * requeue puts one back as pending with its attempts reset.
 */
import type { Connection } from './connection.js';
import { parsePayload } from './payload.js';
import * as validate from './validate.js';

export interface DeadJob<T> {
  id: number;
  queue: string;
  payload: T;
  priority: number;
  runAt: number;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  createdAt: number;
  diedAt: number;
}

/** A dead job as the SQL returns it (honker_dead_list, honker_dead_get, honker_job_list 'dead'; both engines). */
export interface DeadJobRecord {
  id: number;
  queue: string;
  payload: string;
  priority: number;
  run_at: number;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  created_at: number;
  died_at: number;
}

/** @internal a dead row as honker_dead_list / honker_dead_get return it -> DeadJob (both engines). */
export function deadJob<T>(r: Record<string, unknown>): DeadJob<T> {
  return {
    id: r.id as number,
    queue: r.queue as string,
    payload: parsePayload<T>(r.payload as string),
    priority: r.priority as number,
    runAt: r.run_at as number,
    attempts: r.attempts as number,
    maxAttempts: r.max_attempts as number,
    lastError: (r.last_error as string | null) ?? null,
    createdAt: r.created_at as number,
    diedAt: r.died_at as number,
  };
}

export class DeadLetters<T> {
  /** @internal */
  constructor(
    private readonly db: Connection,
    private readonly queue: string,
  ) {}

  /** Dead jobs of this queue, newest first. */
  list(options?: { limit?: number }): DeadJob<T>[] {
    const opts = validate.options('queue.dead.list', options, ['limit']);
    const limit = validate.optInt('queue.dead.list', 'limit', opts.limit, 0) ?? 100;
    this.db.assertOpen('queue.dead.list');
    const text = this.db.sql('SELECT honker_dead_list(?, ?)').pluck().get(this.queue, limit) as string;
    return (JSON.parse(text) as Record<string, unknown>[]).map((r) => deadJob<T>(r));
  }

  /** One dead job by id (of any queue), or null when that id is not dead. */
  get(id: number): DeadJob<T> | null {
    validate.int('queue.dead.get', 'id', id, 1);
    this.db.assertOpen('queue.dead.get');
    const text = this.db.sql('SELECT honker_dead_get(?)').pluck().get(id) as string;
    return text ? deadJob<T>(JSON.parse(text) as Record<string, unknown>) : null;
  }

  /** Put a dead job back as pending with its attempts reset; false when no such dead job. */
  requeue(id: number): boolean {
    validate.int('queue.dead.requeue', 'id', id, 1);
    this.db.assertOpen('queue.dead.requeue');
    return this.db.sql('SELECT honker_dead_requeue(?)').pluck().get(id) === 1;
  }

  /** Delete dead jobs that died at least olderThanS seconds ago (0 = all); returns how many. */
  purge(options?: { olderThanS?: number }): number {
    const opts = validate.options('queue.dead.purge', options, ['olderThanS']);
    const olderThanS = validate.optInt('queue.dead.purge', 'olderThanS', opts.olderThanS, 0) ?? 0;
    this.db.assertOpen('queue.dead.purge');
    return this.db.sql('SELECT honker_dead_purge(?, ?)').pluck().get(this.queue, olderThanS) as number;
  }
}

