/**
 * honker_stream_*: every bad argument is an error naming the function and the
 * argument; a 1 MB payload round-trips through read_since.
 */
import test from './helpers/test.js';
import { freshDb, scalar, sqlError } from './helpers/db.js';
import { errorCases } from './helpers/errors.js';

const PUBLISH = 'SELECT honker_stream_publish(?, ?, ?)';
const READ = 'SELECT honker_stream_read_since(?, ?, ?)';
const SAVE = 'SELECT honker_stream_save_offset(?, ?, ?)';
const GET = 'SELECT honker_stream_get_offset(?, ?)';

errorCases('stream', [
  [PUBLISH, [null, null, 'p'], 'honker_stream_publish: topic must be non-empty TEXT (got NULL)'],
  [PUBLISH, ['', null, 'p'], "honker_stream_publish: topic must be non-empty TEXT (got TEXT '')"],
  [PUBLISH, ['   ', null, 'p'], "honker_stream_publish: topic must not be blank (got TEXT '   ')"],
  [PUBLISH, ['t', 7, 'p'], 'honker_stream_publish: key must be TEXT or NULL (got REAL 7.0)'],
  [PUBLISH, ['t', Buffer.from('k'), 'p'], 'honker_stream_publish: key must be TEXT or NULL (got BLOB of 1 bytes)'],
  [PUBLISH, ['t', 'k', null], 'honker_stream_publish: payload must be TEXT (got NULL)'],
  [PUBLISH, ['t', 'k', 42n], 'honker_stream_publish: payload must be TEXT (got INTEGER 42)'],
  [READ, [null, 0, 10], 'honker_stream_read_since: topic must be non-empty TEXT (got NULL)'],
  [READ, ['', 0, 10], "honker_stream_read_since: topic must be non-empty TEXT (got TEXT '')"],
  [READ, ['t', null, 10], 'honker_stream_read_since: offset must be an integer (got NULL)'],
  [READ, ['t', -1, 10], 'honker_stream_read_since: offset must be >= 0 (got -1)'],
  [READ, ['t', 3.5, 10], 'honker_stream_read_since: offset must be an integer (got REAL 3.5)'],
  [READ, ['t', '0', 10], "honker_stream_read_since: offset must be an integer (got TEXT '0')"],
  [READ, ['t', 0, null], 'honker_stream_read_since: limit must be an integer (got NULL)'],
  [READ, ['t', 0, -1], 'honker_stream_read_since: limit must be >= 0 (got -1)'],
  [READ, ['t', 0, 2.5], 'honker_stream_read_since: limit must be an integer (got REAL 2.5)'],
  [READ, ['t', 0, 1e19], 'honker_stream_read_since: limit must be an integer (got REAL 1.0e+19)'],
  [SAVE, [null, 't', 1], 'honker_stream_save_offset: consumer must be non-empty TEXT (got NULL)'],
  [SAVE, ['', 't', 1], "honker_stream_save_offset: consumer must be non-empty TEXT (got TEXT '')"],
  [SAVE, [' ', 't', 1], "honker_stream_save_offset: consumer must not be blank (got TEXT ' ')"],
  [SAVE, ['c', '', 1], "honker_stream_save_offset: topic must be non-empty TEXT (got TEXT '')"],
  [SAVE, ['c', 't', null], 'honker_stream_save_offset: offset must be an integer (got NULL)'],
  [SAVE, ['c', 't', -5], 'honker_stream_save_offset: offset must be >= 0 (got -5)'],
  [SAVE, ['c', 't', 1.25], 'honker_stream_save_offset: offset must be an integer (got REAL 1.25)'],
  [GET, [null, 't'], 'honker_stream_get_offset: consumer must be non-empty TEXT (got NULL)'],
  [GET, ['c', ''], "honker_stream_get_offset: topic must be non-empty TEXT (got TEXT '')"],
  [GET, ['c', 1], 'honker_stream_get_offset: topic must be non-empty TEXT (got REAL 1.0)'],
]);

test('honker_stream_publish: a 1 MB payload round-trips through read_since as a JSON string', (t) => {
  const { db } = freshDb(t);
  const big = JSON.stringify({ blob: 'y'.repeat(1 << 20), quote: '"\\\n\u0001' });
  const offset = scalar<number>(db, PUBLISH, 'big', 'k', big);
  const events = JSON.parse(scalar<string>(db, READ, 'big', 0, 10));
  t.is(events.length, 1);
  t.deepEqual(Object.keys(events[0]), ['offset', 'topic', 'key', 'payload', 'created_at']);
  t.is(events[0].offset, offset);
  t.is(events[0].payload, big);
});

test('honker_stream_save_offset: a bad offset leaves the saved one alone', (t) => {
  const { db } = freshDb(t);
  t.is(scalar(db, SAVE, 'c', 't', 4), 1);
  t.truthy(sqlError(t, db, SAVE, 'c', 't', -1));
  t.is(scalar(db, GET, 'c', 't'), 4);
});
