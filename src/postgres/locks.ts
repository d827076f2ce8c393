/**
 * Locks with a lease and fixed-window rate limits on Postgres (src/locks.ts
 * is the SQLite twin and its header the rules: whole seconds, renew only
 * an unexpired lease, a refused call is not counted).
 */
import { randomUUID } from 'node:crypto';
import type { LockOptions, RateLimitOptions } from '../locks.js';
import * as validate from '../validate.js';
import type { PgConnection } from './connection.js';

export class PgLock {
  /** @internal */
  constructor(
    private readonly db: PgConnection,
    readonly name: string,
    readonly owner: string,
    readonly ttlS: number,
  ) {}

  /** Extend to now + ttlS; false when the lease already lapsed. */
  renew(ttlS = this.ttlS): Promise<boolean> {
    validate.seconds('lock.renew', 'ttlS', ttlS, 1);
    this.db.assertOpen('lock.renew');
    return this.db.int('SELECT honker_lock_renew($1, $2, $3) AS v', [this.name, this.owner, ttlS]).then((v) => v === 1);
  }

  /** Give the lock up; false when it was no longer ours. */
  release(): Promise<boolean> {
    this.db.assertOpen('lock.release');
    return this.db.int('SELECT honker_lock_release($1, $2) AS v', [this.name, this.owner]).then((v) => v === 1);
  }
}

export function tryLock(db: PgConnection, name: string, options?: LockOptions): Promise<PgLock | null> {
  const opts = validate.options('db.tryLock', options, ['ttlS', 'owner']);
  validate.name('db.tryLock', 'name', name);
  const ttlS = validate.optSeconds('db.tryLock', 'ttlS', opts.ttlS, 1) ?? 60;
  const owner = opts.owner === undefined ? randomUUID() : validate.name('db.tryLock', 'owner', opts.owner);
  db.assertOpen('db.tryLock');
  return db.int('SELECT honker_lock_acquire($1, $2, $3) AS v', [name, owner, ttlS]).then((v) => (v === 1 ? new PgLock(db, name, owner, ttlS) : null));
}

export function tryRateLimit(db: PgConnection, name: string, options: RateLimitOptions): Promise<boolean> {
  const opts = validate.options('db.tryRateLimit', options, ['limit', 'perS']);
  validate.name('db.tryRateLimit', 'name', name);
  const limit = validate.int('db.tryRateLimit', 'limit', opts.limit, 0);
  const perS = validate.int('db.tryRateLimit', 'perS', opts.perS, 1);
  db.assertOpen('db.tryRateLimit');
  return db.int('SELECT honker_rate_limit_try($1, $2, $3) AS v', [name, limit, perS]).then((v) => v === 1);
}
