/**
 * Locks with a time-to-live, and fixed-window rate limits, shared by every
 * process using the database file (honker_lock_*, honker_rate_limit_try).
 *
 * Time is whole seconds (the connection's unixepoch()): a lock taken or
 * renewed at wall time t with ttlS lapses at floor(t) + ttlS, i.e. between
 * ttlS - 1 and ttlS seconds later; from then on another owner may take it
 * and the old holder can no longer renew it. Re-taking a lock you hold
 * (same owner) succeeds but does not extend it: call renew(). Locks are not
 * re-entrant across tryLock calls unless you pass the same `owner`.
 * A rate-limit window is [floor(now / perS) * perS, + perS); a refused call
 * is not counted, and a limit of 0 refuses everything.
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from './connection.js';
import * as validate from './validate.js';

export interface LockOptions {
  /** Seconds until the lock lapses unless renewed (default 60). */
  ttlS?: number;
  /** Who holds it (default: a random id per lock). */
  owner?: string;
}

export interface RateLimitOptions {
  /** Calls allowed per window. */
  limit: number;
  /** Window length in seconds. */
  perS: number;
}

export class Lock {
  /** @internal */
  constructor(
    private readonly db: Connection,
    readonly name: string,
    readonly owner: string,
    readonly ttlS: number,
  ) {}

  /** Extend to now + ttlS; false when the lease already lapsed (even if nobody took it yet). */
  renew(ttlS = this.ttlS): boolean {
    validate.seconds('lock.renew', 'ttlS', ttlS, 1);
    this.db.assertOpen('lock.renew');
    return this.db.sql('SELECT honker_lock_renew(?, ?, ?)').pluck().get(this.name, this.owner, ttlS) === 1;
  }

  /** Give the lock up (a lapsed one too, unless taken over); false when it was no longer ours. */
  release(): boolean {
    this.db.assertOpen('lock.release');
    return this.db.sql('SELECT honker_lock_release(?, ?)').pluck().get(this.name, this.owner) === 1;
  }
}

export function tryLock(db: Connection, name: string, options?: LockOptions): Lock | null {
  const opts = validate.options('db.tryLock', options, ['ttlS', 'owner']);
  validate.name('db.tryLock', 'name', name);
  const ttlS = validate.optSeconds('db.tryLock', 'ttlS', opts.ttlS, 1) ?? 60;
  const owner = opts.owner === undefined ? randomUUID() : validate.name('db.tryLock', 'owner', opts.owner);
  const got = db.sql('SELECT honker_lock_acquire(?, ?, ?)').pluck().get(name, owner, ttlS) === 1;
  return got ? new Lock(db, name, owner, ttlS) : null;
}

export function tryRateLimit(db: Connection, name: string, options: RateLimitOptions): boolean {
  const opts = validate.options('db.tryRateLimit', options, ['limit', 'perS']);
  validate.name('db.tryRateLimit', 'name', name);
  const limit = validate.int('db.tryRateLimit', 'limit', opts.limit, 0);
  const perS = validate.int('db.tryRateLimit', 'perS', opts.perS, 1);
  return db.sql('SELECT honker_rate_limit_try(?, ?, ?)').pluck().get(name, limit, perS) === 1;
}
