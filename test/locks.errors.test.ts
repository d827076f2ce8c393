/**
 * honker_lock_* and honker_rate_limit_*: every bad argument is an error
 * naming the function and the argument, and writes nothing.
 */
import test from './helpers/test.js';
import { freshDb, scalar, sqlError } from './helpers/db.js';
import { errorCases } from './helpers/errors.js';

const ACQUIRE = 'SELECT honker_lock_acquire(?, ?, ?)';
const RELEASE = 'SELECT honker_lock_release(?, ?)';
const RENEW = 'SELECT honker_lock_renew(?, ?, ?)';
const TRY = 'SELECT honker_rate_limit_try(?, ?, ?)';
const SWEEP = 'SELECT honker_rate_limit_sweep(?)';

errorCases('locks', [
  [ACQUIRE, [null, 'o', 60], 'honker_lock_acquire: name must be non-empty TEXT (got NULL)'],
  [ACQUIRE, ['', 'o', 60], "honker_lock_acquire: name must be non-empty TEXT (got TEXT '')"],
  [ACQUIRE, ['n', '', 60], "honker_lock_acquire: owner must be non-empty TEXT (got TEXT '')"],
  [ACQUIRE, ['n', 3, 60], 'honker_lock_acquire: owner must be non-empty TEXT (got REAL 3.0)'],
  [ACQUIRE, ['n', 'o', null], 'honker_lock_acquire: ttl_s must be an integer (got NULL)'],
  [ACQUIRE, ['n', 'o', 0], 'honker_lock_acquire: ttl_s must be >= 1 (got 0)'],
  [ACQUIRE, ['n', 'o', -60], 'honker_lock_acquire: ttl_s must be >= 1 (got -60)'],
  [ACQUIRE, ['n', 'o', 3.5], 'honker_lock_acquire: ttl_s must be an integer (got REAL 3.5)'],
  [ACQUIRE, ['n', 'o', '60'], "honker_lock_acquire: ttl_s must be an integer (got TEXT '60')"],
  [ACQUIRE, ['n', 'o', 9223372036854775807n], 'honker_lock_acquire: ttl_s must end by 9999-12-31T23:59:59Z (got 9223372036854775807)'],
  [ACQUIRE, ['n', 'o', 253402300799n], 'honker_lock_acquire: ttl_s must end by 9999-12-31T23:59:59Z (got 253402300799)'],
  [ACQUIRE, [' ', 'o', 60], "honker_lock_acquire: name must not be blank (got TEXT ' ')"],
  [ACQUIRE, ['n', '\t', 60], "honker_lock_acquire: owner must not be blank (got TEXT '\t')"],
  [RELEASE, [null, 'o'], 'honker_lock_release: name must be non-empty TEXT (got NULL)'],
  [RELEASE, ['n', ''], "honker_lock_release: owner must be non-empty TEXT (got TEXT '')"],
  [RELEASE, ['n', Buffer.from('o')], 'honker_lock_release: owner must be non-empty TEXT (got BLOB of 1 bytes)'],
  [RENEW, ['', 'o', 60], "honker_lock_renew: name must be non-empty TEXT (got TEXT '')"],
  [RENEW, ['n', null, 60], 'honker_lock_renew: owner must be non-empty TEXT (got NULL)'],
  [RENEW, ['n', 'o', 0], 'honker_lock_renew: ttl_s must be >= 1 (got 0)'],
  [RENEW, ['n', 'o', 1.5], 'honker_lock_renew: ttl_s must be an integer (got REAL 1.5)'],
  [RENEW, ['n', 'o', 9223372036854775807n], 'honker_lock_renew: ttl_s must end by 9999-12-31T23:59:59Z (got 9223372036854775807)'],
  [TRY, [null, 3, 60], 'honker_rate_limit_try: name must be non-empty TEXT (got NULL)'],
  [TRY, ['', 3, 60], "honker_rate_limit_try: name must be non-empty TEXT (got TEXT '')"],
  [TRY, ['  ', 3, 60], "honker_rate_limit_try: name must not be blank (got TEXT '  ')"],
  [TRY, ['k', null, 60], 'honker_rate_limit_try: limit must be an integer (got NULL)'],
  [TRY, ['k', -3, 60], 'honker_rate_limit_try: limit must be >= 0 (got -3)'],
  [TRY, ['k', 3.5, 60], 'honker_rate_limit_try: limit must be an integer (got REAL 3.5)'],
  [TRY, ['k', 3, null], 'honker_rate_limit_try: per_s must be an integer (got NULL)'],
  [TRY, ['k', 3, 0], 'honker_rate_limit_try: per_s must be >= 1 (got 0)'],
  [TRY, ['k', 3, 0.5], 'honker_rate_limit_try: per_s must be an integer (got REAL 0.5)'],
  [TRY, ['k', 3, 1e300], 'honker_rate_limit_try: per_s must be an integer (got REAL 1.0e+300)'],
  [SWEEP, [null], 'honker_rate_limit_sweep: older_than_s must be an integer (got NULL)'],
  [SWEEP, [-1], 'honker_rate_limit_sweep: older_than_s must be >= 0 (got -1)'],
  [SWEEP, [2.5], 'honker_rate_limit_sweep: older_than_s must be an integer (got REAL 2.5)'],
]);

test('honker_lock_acquire: a bad ttl_s takes nothing', (t) => {
  const { db } = freshDb(t);
  t.truthy(sqlError(t, db, ACQUIRE, 'n', 'o', 0));
  t.is(scalar(db, 'SELECT count(*) FROM _honker_locks'), 0);
  t.is(scalar(db, ACQUIRE, 'n', 'o', 60), 1);
});

test('honker_rate_limit_try: a bad argument counts nothing', (t) => {
  const { db } = freshDb(t);
  t.truthy(sqlError(t, db, TRY, 'k', -1, 60));
  t.is(scalar(db, 'SELECT count(*) FROM _honker_rate_limits'), 0);
});

test('honker_lock_*: long names and owners (1 MB) work', (t) => {
  const { db } = freshDb(t);
  const name = 'n'.repeat(1 << 20);
  const owner = 'o'.repeat(1 << 20);
  t.is(scalar(db, ACQUIRE, name, owner, 60), 1);
  t.is(scalar(db, ACQUIRE, name, 'other', 60), 0);
  t.is(scalar(db, RENEW, name, owner, 60), 1);
  t.is(scalar(db, RELEASE, name, owner), 1);
});
