/**
 * honker_result_*: every bad argument is an error naming the function and the
 * argument; a 1 MB value round-trips.
 */
import test from './helpers/test.js';
import { freshDb, scalar, sqlError } from './helpers/db.js';
import { errorCases } from './helpers/errors.js';

const SAVE = 'SELECT honker_result_save(?, ?, ?)';
const GET = 'SELECT honker_result_get(?)';

errorCases('results', [
  [SAVE, [null, 'v', 0], 'honker_result_save: job_id must be an integer (got NULL)'],
  [SAVE, [1.5, 'v', 0], 'honker_result_save: job_id must be an integer (got REAL 1.5)'],
  [SAVE, ['1', 'v', 0], "honker_result_save: job_id must be an integer (got TEXT '1')"],
  [SAVE, [1, null, 0], 'honker_result_save: value must be TEXT (got NULL)'],
  [SAVE, [1, 5, 0], 'honker_result_save: value must be TEXT (got REAL 5.0)'],
  [SAVE, [1, Buffer.from('v'), 0], 'honker_result_save: value must be TEXT (got BLOB of 1 bytes)'],
  [SAVE, [1, 'v', null], 'honker_result_save: ttl_s must be an integer (got NULL)'],
  [SAVE, [1, 'v', 0.5], 'honker_result_save: ttl_s must be an integer (got REAL 0.5)'],
  [SAVE, [1, 'v', 9223372036854775807n], 'honker_result_save: ttl_s must end by 9999-12-31T23:59:59Z (got 9223372036854775807)'],
  [SAVE, [1, 'v', 253402300799n], 'honker_result_save: ttl_s must end by 9999-12-31T23:59:59Z (got 253402300799)'],
  [GET, [null], 'honker_result_get: job_id must be an integer (got NULL)'],
  [GET, [2.5], 'honker_result_get: job_id must be an integer (got REAL 2.5)'],
  [GET, [9.3e18], 'honker_result_get: job_id must be an integer (got REAL 9.3e+18)'],
]);

test('honker_result_save: a 1 MB value round-trips', (t) => {
  const { db } = freshDb(t);
  const big = 'r'.repeat(1 << 20);
  t.is(scalar(db, SAVE, 7, big, 60), 1);
  t.is(scalar(db, GET, 7), big);
});

test('honker_result_save: a failed save keeps the earlier value', (t) => {
  const { db } = freshDb(t);
  t.is(scalar(db, SAVE, 7, 'first', 0), 1);
  t.truthy(sqlError(t, db, SAVE, 7, 'second', 9223372036854775807n));
  t.is(scalar(db, GET, 7), 'first');
});
